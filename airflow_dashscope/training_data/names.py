"""File-name rules of Qwen-VL ZIP packages, shared by the package and data.jsonl checks."""

from __future__ import annotations

import re

#: The document's list: .bmp .jpeg/.jpg .png .tif/.tiff .webp.
IMAGE_EXTENSIONS = frozenset({".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"})

# ASCII letters, digits, underscore and hyphen; a file may add one extension dot.
_FOLDER_NAME = re.compile(r"[A-Za-z0-9_-]+")
_FILE_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)?")

NAME_RULE = "only ASCII letters, digits, '_' and '-' (plus one '.' before the extension)"


def is_valid_folder_name(name: str) -> bool:
    return _FOLDER_NAME.fullmatch(name) is not None


def is_valid_file_name(name: str) -> bool:
    return _FILE_NAME.fullmatch(name) is not None


def extension(name: str) -> str:
    """Lower-case extension with its dot, or '' when there is none."""
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def is_image_name(name: str) -> bool:
    return extension(name) in IMAGE_EXTENSIONS
