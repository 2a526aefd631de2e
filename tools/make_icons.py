"""Draw the app icons (a white bridge arch over water on the brand blue) as PNGs, pure Python.

Pillow is not a dependency, so this writes PNG files with zlib directly. Run from the project
root: ``python tools/make_icons.py``; writes ``static/icons/icon-{192,512}.png`` (rounded
square, "any") and ``static/icons/maskable-{192,512}.png`` (full bleed, the drawing inside the
central 80 % safe zone).
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
BRAND = (0x1F, 0x5F, 0x8B)
WHITE = (0xFF, 0xFF, 0xFF)
WATER = (0x9C, 0xC7, 0xE3)
SS = 3  # supersampling per axis


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        crc = struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + body + crc

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _shape(x: float, y: float, maskable: bool) -> tuple[int, int, int, int] | None:
    """Colour at unit coordinates (0..1) or None for transparent."""
    if not maskable:
        # rounded square with radius 0.2
        r = 0.2
        cx = min(max(x, r), 1 - r)
        cy = min(max(y, r), 1 - r)
        if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
            return None
    # the drawing, scaled into the safe zone for maskable icons
    s = 0.62 if maskable else 0.8
    u = (x - 0.5) / s + 0.5
    v = (y - 0.5) / s + 0.5
    # arch: annulus, upper half, centre (0.5, 0.66)
    d = math.hypot(u - 0.5, v - 0.66)
    if v <= 0.66 and 0.30 <= d <= 0.40:
        return (*WHITE, 255)
    # deck
    if 0.06 <= u <= 0.94 and 0.40 <= v <= 0.46:
        return (*WHITE, 255)
    # posts between arch and deck
    for px in (0.32, 0.5, 0.68):
        if abs(u - px) <= 0.025 and 0.30 <= v <= 0.43 and d >= 0.30:
            return (*WHITE, 255)
    # water lines
    for wy in (0.74, 0.84):
        if 0.16 <= u <= 0.84 and abs(v - wy - 0.02 * math.sin(u * 18)) <= 0.018:
            return (*WATER, 255)
    return (*BRAND, 255)


def draw(size: int, maskable: bool) -> bytes:
    rows = []
    n = SS * SS
    for j in range(size):
        row = bytearray()
        for i in range(size):
            acc = [0, 0, 0, 0]
            for a in range(SS):
                for b in range(SS):
                    c = _shape((i + (a + 0.5) / SS) / size, (j + (b + 0.5) / SS) / size, maskable)
                    if c is not None:
                        acc[0] += c[0] * c[3]
                        acc[1] += c[1] * c[3]
                        acc[2] += c[2] * c[3]
                        acc[3] += c[3]
            alpha = acc[3] / n
            if acc[3]:
                row += bytes((acc[0] // acc[3], acc[1] // acc[3], acc[2] // acc[3], round(alpha)))
            else:
                row += b"\x00\x00\x00\x00"
        rows.append(bytes(row))
    return _png(size, size, rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(draw(size, maskable=False))
        (OUT / f"maskable-{size}.png").write_bytes(draw(size, maskable=True))
        print(f"wrote icon-{size}.png, maskable-{size}.png")


if __name__ == "__main__":
    main()
