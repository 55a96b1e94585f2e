"""Draw Hiroba's favicon (a square plaza with people around it) as PNG and ICO files.

static/favicon.svg is the same drawing as vector; this script rasterises the geometry with
the standard library only (supersampled for smooth edges) so that browsers which ask for
/favicon.ico or an apple-touch-icon get a bitmap. Run: python scripts/favicon.py
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "static"
ACCENT = (0x0B, 0x5C, 0xAB)
WHITE = (0xFF, 0xFF, 0xFF)
# The drawing on a 32x32 grid (the SVG's viewBox).
CORNER = 7.0
RING_R, RING_W = 8.5, 2.2
DOT_R = 3.2
DOTS = [(16 + RING_R * math.cos(math.radians(a)), 16 + RING_R * math.sin(math.radians(a)))
        for a in (-90, 30, 150)]


def _inside_square(x: float, y: float) -> bool:
    cx, cy = min(max(x, CORNER), 32 - CORNER), min(max(y, CORNER), 32 - CORNER)
    return (x - cx) ** 2 + (y - cy) ** 2 <= CORNER ** 2


def _colour(x: float, y: float) -> tuple[int, int, int] | None:
    if not _inside_square(x, y):
        return None
    if any((x - dx) ** 2 + (y - dy) ** 2 <= DOT_R ** 2 for dx, dy in DOTS):
        return WHITE
    if abs(math.hypot(x - 16, y - 16) - RING_R) <= RING_W / 2:
        return WHITE
    return ACCENT


def rgba(size: int, samples: int = 4) -> bytes:
    rows = bytearray()
    for py in range(size):
        rows.append(0)  # PNG filter type: none
        for px in range(size):
            r = g = b = a = 0
            for sy in range(samples):
                for sx in range(samples):
                    x = (px + (sx + 0.5) / samples) * 32 / size
                    y = (py + (sy + 0.5) / samples) * 32 / size
                    colour = _colour(x, y)
                    if colour is not None:
                        r, g, b, a = r + colour[0], g + colour[1], b + colour[2], a + 1
            n = samples * samples
            rows += (bytes((r // a, g // a, b // a, 255 * a // n)) if a else bytes(4))
    return bytes(rows)


def png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rgba(size), 9)) + chunk(b"IEND", b""))


def ico(images: dict[int, bytes]) -> bytes:
    """An ICO file holding PNG images (read by every current browser)."""
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for size, data in images.items():
        out += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(images.values())


def main() -> None:
    (STATIC / "favicon.ico").write_bytes(ico({16: png(16), 32: png(32)}))
    (STATIC / "favicon-180.png").write_bytes(png(180))


if __name__ == "__main__":
    main()
