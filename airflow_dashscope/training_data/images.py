"""Image width and height read from the file header, without Pillow.

Covers PNG, JPEG, BMP, GIF, WEBP (VP8, VP8L, VP8X) and TIFF (classic, not BigTIFF). Reads
forward only, a few bytes at a time, so it works on a ZIP member stream and never holds the
image. Only what the header says is trusted; the pixels are not decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import IO

_SKIP_CHUNK = 64 * 1024
# JPEG start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_TIFF_WIDTH, _TIFF_HEIGHT = 256, 257
_TIFF_SHORT, _TIFF_LONG = 3, 4


class ImageHeaderError(ValueError):
    """The bytes are not an image of a known format, or its header is cut short."""


@dataclass(frozen=True, slots=True)
class ImageSize:
    format: str
    width: int
    height: int


class _ForwardReader:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.position = 0

    def read(self, size: int) -> bytes:
        data = self._stream.read(size)
        if len(data) != size:
            raise ImageHeaderError("header cut short")
        self.position += size
        return data

    def skip_to(self, offset: int) -> None:
        if offset < self.position:
            raise ImageHeaderError("header points backwards")
        while self.position < offset:
            self.read(min(_SKIP_CHUNK, offset - self.position))


def read_image_size(stream: IO[bytes]) -> ImageSize:
    """Return the format and pixel size; raise ``ImageHeaderError`` when unreadable."""
    reader = _ForwardReader(stream)
    head = reader.read(2)
    if head == b"\xff\xd8":
        return _jpeg(reader)
    head += reader.read(6)  # 8 bytes: TIFF's IFD may start right after them
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(head, reader)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", head[6:8] + reader.read(2))
        return ImageSize("gif", width, height)
    if head.startswith(b"BM"):
        return _bmp(head, reader)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(head, reader)
    if head.startswith(b"RIFF"):
        return _webp(head, reader)
    raise ImageHeaderError("not a PNG, JPEG, BMP, GIF, WEBP or TIFF image")


def _png(head: bytes, reader: _ForwardReader) -> ImageSize:
    chunk = reader.read(16)  # length(4) type(4) width(4) height(4)
    if chunk[4:8] != b"IHDR":
        raise ImageHeaderError("PNG without IHDR chunk")
    width, height = struct.unpack(">II", chunk[8:16])
    return ImageSize("png", width, height)


def _bmp(head: bytes, reader: _ForwardReader) -> ImageSize:
    header = head + reader.read(18)  # through offset 26
    (dib_size,) = struct.unpack("<I", header[14:18])
    if dib_size == 12:  # BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<HH", header[18:22])
    else:
        width, height = struct.unpack("<ii", header[18:26])
    return ImageSize("bmp", abs(width), abs(height))  # negative height: top-down rows


def _webp(head: bytes, reader: _ForwardReader) -> ImageSize:
    header = head + reader.read(8)  # RIFF, size, WEBP, chunk kind
    if header[8:12] != b"WEBP":
        raise ImageHeaderError("RIFF file that is not WEBP")
    kind = header[12:16]
    header += reader.read(14 if kind == b"VP8 " else 9 if kind == b"VP8L" else 14)
    if kind == b"VP8 ":
        if header[23:26] != b"\x9d\x01\x2a":
            raise ImageHeaderError("WEBP VP8 without start code")
        width, height = struct.unpack("<HH", header[26:30])
        return ImageSize("webp", width & 0x3FFF, height & 0x3FFF)
    if kind == b"VP8L":
        if header[20] != 0x2F:
            raise ImageHeaderError("WEBP VP8L without signature")
        (bits,) = struct.unpack("<I", header[21:25])
        return ImageSize("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if kind == b"VP8X":
        width = int.from_bytes(header[24:27], "little") + 1
        height = int.from_bytes(header[27:30], "little") + 1
        return ImageSize("webp", width, height)
    raise ImageHeaderError("WEBP of unknown kind")


def _jpeg(reader: _ForwardReader) -> ImageSize:
    while True:
        byte = reader.read(1)
        if byte != b"\xff":
            raise ImageHeaderError("JPEG marker expected")
        marker = reader.read(1)[0]
        while marker == 0xFF:  # fill bytes
            marker = reader.read(1)[0]
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame
            raise ImageHeaderError("JPEG without a frame header")
        (length,) = struct.unpack(">H", reader.read(2))
        if length < 2:
            raise ImageHeaderError("JPEG segment length invalid")
        if marker in _JPEG_SOF:
            segment = reader.read(5)  # precision, height, width
            height, width = struct.unpack(">HH", segment[1:5])
            return ImageSize("jpeg", width, height)
        reader.skip_to(reader.position + length - 2)


def _tiff(head: bytes, reader: _ForwardReader) -> ImageSize:
    order = "<" if head[:2] == b"II" else ">"
    (ifd_offset,) = struct.unpack(order + "I", head[4:8])
    reader.skip_to(ifd_offset)
    (count,) = struct.unpack(order + "H", reader.read(2))
    sizes: dict[int, int] = {}
    for _ in range(count):
        tag, kind, _n = struct.unpack(order + "HHI", reader.read(8))
        value = reader.read(4)
        if tag in (_TIFF_WIDTH, _TIFF_HEIGHT):
            if kind == _TIFF_SHORT:
                sizes[tag] = struct.unpack(order + "H", value[:2])[0]
            elif kind == _TIFF_LONG:
                sizes[tag] = struct.unpack(order + "I", value)[0]
        if len(sizes) == 2:
            return ImageSize("tiff", sizes[_TIFF_WIDTH], sizes[_TIFF_HEIGHT])
    raise ImageHeaderError("TIFF without ImageWidth/ImageLength")
