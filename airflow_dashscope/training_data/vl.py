"""Qwen-VL content: arrays of ``{"text"}``, ``{"image"}`` and ``{"video"}`` entries.

Media references must be bare file names (data.jsonl names files, not paths); when the
package's files are known (validating a ZIP) each reference must exist in it.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from airflow_dashscope.training_data.chatml import check_text_content
from airflow_dashscope.training_data.names import (
    IMAGE_EXTENSIONS,
    NAME_RULE,
    is_image_name,
    is_valid_file_name,
)
from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.tokens import TokenEstimate
from airflow_dashscope.training_data.values import is_int, is_number, json_type, short_repr

_SIZE_KEYS = ("resized_width", "resized_height")
_ENTRY_KINDS = ("text", "image", "video")
_KEYS_BY_KIND = {
    "text": frozenset({"text"}),
    "image": frozenset({"image", *_SIZE_KEYS}),
    "video_file": frozenset({"video", "fps", "video_start", "video_end", *_SIZE_KEYS}),
    "video_frames": frozenset({"video", "sample_fps", *_SIZE_KEYS}),
}
_MEDIA_KEYS = frozenset().union(*_KEYS_BY_KIND.values())


class VlContentCheck:
    """A ``ContentCheck`` for Qwen-VL; ``package_files`` holds the ZIP's bare file names."""

    def __init__(self, package_files: Container[str] | None = None) -> None:
        self.package_files = package_files

    def __call__(
        self,
        content: object,
        role: str | None,
        path: str,
        sink: ProblemCollector,
        estimate: TokenEstimate,
    ) -> None:
        if isinstance(content, str):
            if role == "system":
                sink.error(path, 'system content must be an array [{"text": "..."}], not a string')
                return
            sink.warning(path, 'Qwen-VL data uses content arrays [{"text": "..."}], not strings')
            check_text_content(content, role, path, sink, estimate)
            return
        if not isinstance(content, list):
            sink.error(path, f"expected an array of content entries, got {json_type(content)}")
            return
        if not content:
            sink.error(path, "must not be empty")
        for index, entry in enumerate(content):
            self._check_entry(entry, role, f"{path}[{index}]", sink, estimate)

    def _check_entry(
        self,
        entry: object,
        role: str | None,
        path: str,
        sink: ProblemCollector,
        estimate: TokenEstimate,
    ) -> None:
        if not isinstance(entry, dict):
            sink.error(path, f"expected a content entry object, got {json_type(entry)}")
            return
        kinds = [kind for kind in _ENTRY_KINDS if kind in entry]
        if len(kinds) != 1:
            sink.error(path, "an entry holds exactly one of 'text', 'image' or 'video'")
            return
        kind = kinds[0]
        if kind == "text":
            check_text_content(entry["text"], role, f"{path}.text", sink, estimate)
        else:
            if role in ("system", "assistant"):
                sink.error(f"{path}.{kind}", f"{role} content may only hold text entries")
            if kind == "image":
                self._check_reference(entry["image"], f"{path}.image", sink, image=True)
            else:
                kind = self._check_video(entry, path, sink)
            for key in _SIZE_KEYS:
                if key in entry:
                    _check_positive(entry[key], f"{path}.{key}", sink, integer=True)
        self._check_keys(entry, kind, path, sink)

    def _check_video(self, entry: dict[str, Any], path: str, sink: ProblemCollector) -> str:
        video = entry["video"]
        if isinstance(video, list):
            if not video:
                sink.error(f"{path}.video", "a frame list must not be empty")
            for index, frame in enumerate(video):
                self._check_reference(frame, f"{path}.video[{index}]", sink, image=True)
            if "sample_fps" in entry:
                _check_positive(entry["sample_fps"], f"{path}.sample_fps", sink)
            return "video_frames"
        self._check_reference(video, f"{path}.video", sink, image=False)
        if "fps" in entry:
            _check_positive(entry["fps"], f"{path}.fps", sink)
        start, end = entry.get("video_start"), entry.get("video_end")
        for key, value in (("video_start", start), ("video_end", end)):
            if key in entry and (not is_number(value) or value < 0):  # type: ignore[operator]
                sink.error(f"{path}.{key}", f"must be a number >= 0, got {short_repr(value)}")
        if is_number(start) and is_number(end) and start >= end:  # type: ignore[operator]
            sink.error(f"{path}.video_end", "must be greater than video_start")
        return "video_file"

    def _check_reference(
        self, name: object, path: str, sink: ProblemCollector, *, image: bool
    ) -> None:
        if not isinstance(name, str) or not name:
            sink.error(path, f"expected a file name string, got {short_repr(name)}")
            return
        if "/" in name or "\\" in name:
            sink.error(path, f"use the bare file name, not a path: {short_repr(name)}")
            return
        if not is_valid_file_name(name):
            sink.error(path, f"file name {short_repr(name)} must use {NAME_RULE}")
        if image and not is_image_name(name):
            formats = " ".join(sorted(IMAGE_EXTENSIONS))
            sink.error(path, f"unsupported image format {short_repr(name)}; use {formats}")
        if self.package_files is not None and name not in self.package_files:
            sink.error(path, f"file {short_repr(name)} is not in the ZIP package")

    @staticmethod
    def _check_keys(entry: dict[str, Any], kind: str, path: str, sink: ProblemCollector) -> None:
        allowed = _KEYS_BY_KIND[kind]
        for key in entry:
            if key in allowed:
                continue
            if key in _MEDIA_KEYS:
                sink.error(f"{path}.{key}", f"not supported on a {kind.replace('_', ' ')} entry")
            else:
                sink.warning(f"{path}.{key}", "unknown field")


def _check_positive(
    value: object, path: str, sink: ProblemCollector, *, integer: bool = False
) -> None:
    valid = is_int(value) if integer else is_number(value)
    if not valid or value <= 0:  # type: ignore[operator]
        kind = "integer" if integer else "number"
        sink.error(path, f"must be a positive {kind}, got {short_repr(value)}")
