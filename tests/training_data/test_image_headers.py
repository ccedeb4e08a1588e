"""The pure header parser reads width and height of each supported format."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from airflow_dashscope.training_data.images import ImageHeaderError, ImageSize, read_image_size

from . import tiny_images as img


def size_of(data: bytes) -> ImageSize:
    return read_image_size(io.BytesIO(data))


@pytest.mark.parametrize(
    ("build", "fmt"),
    [
        (img.png, "png"),
        (img.jpeg, "jpeg"),
        (lambda w, h: img.jpeg(w, h, sof=0xC2, app_bytes=60_000), "jpeg"),
        (img.bmp, "bmp"),
        (lambda w, h: img.bmp(w, -h), "bmp"),
        (lambda w, h: img.bmp(w, h, core=True), "bmp"),
        (img.gif, "gif"),
        (img.webp_vp8, "webp"),
        (img.webp_vp8l, "webp"),
        (img.webp_vp8x, "webp"),
        (img.tiff, "tiff"),
        (lambda w, h: img.tiff(w, h, big_endian=True), "tiff"),
        (lambda w, h: img.tiff(w, h, padding=200_000), "tiff"),
    ],
)
def test_reads_size(build: Callable[[int, int], bytes], fmt: str) -> None:
    assert size_of(build(1000, 37)) == ImageSize(fmt, 1000, 37)
    assert size_of(build(2048, 3000)) == ImageSize(fmt, 2048, 3000)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"hello world, not an image",
        img.png(10, 10)[:20],
        b"\xff\xd8\xff\xda\x00\x02",  # scan before frame header
        b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 20,
        img.tiff(5, 5)[:12],
        b"II*\x00\x04\x00\x00\x00",  # IFD offset points back into the header
    ],
)
def test_unreadable_headers_raise(data: bytes) -> None:
    with pytest.raises(ImageHeaderError):
        size_of(data)
