"""The chart of ``qa eval --report``: a PNG bar chart of the main figures, named bars, a title and
labelled axes. matplotlib draws it when installed (it is optional); otherwise a pure-Python PNG
writer (zlib + struct) with a built-in 5x7 pixel font does, so a report never needs a plotting
library."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

RGB = tuple[int, int, int]

#: bar colours (the "tab10"-like palette, then two more)
PALETTE: tuple[RGB, ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (0, 0, 128), (128, 64, 0),
)
COLOUR_NAMES = ("blue", "orange", "green", "red", "purple", "brown", "pink", "grey", "olive", "cyan", "navy", "rust")

#: axis titles of the chart: the value axis and the axis the bars are named on
VALUE_AXIS = "percent"
NAME_AXIS = "figure"

# A 5x7 pixel font, upper case (lower case is drawn as upper case): each glyph is 7 rows, one hex
# byte per row, bit 4 the leftmost pixel. Characters without a glyph are drawn as "?".
_FONT_HEX = {
    'A': "0E11111F111111", 'B': "1E11111E11111E", 'C': "0E11101010110E", 'D': "1E11111111111E", 'E': "1F10101E10101F", 'F': "1F10101E101010",
    'G': "0E11101711110F", 'H': "1111111F111111", 'I': "0E04040404040E", 'J': "0702020202120C", 'K': "11121418141211", 'L': "1010101010101F",
    'M': "111B1515111111", 'N': "11111915131111", 'O': "0E11111111110E", 'P': "1E11111E101010", 'Q': "0E11111115120D", 'R': "1E11111E141211",
    'S': "0F10100E01011E", 'T': "1F040404040404", 'U': "1111111111110E", 'V': "11111111110A04", 'W': "1111111515150A", 'X': "11110A040A1111",
    'Y': "1111110A040404", 'Z': "1F01020408101F", '0': "0E11131519110E", '1': "040C040404040E", '2': "0E11010204081F", '3': "1F02040201110E",
    '4': "02060A121F0202", '5': "1F101E0101110E", '6': "0608101E11110E", '7': "1F010204080808", '8': "0E11110E11110E", '9': "0E11110F01020C",
    '.': "00000000000C0C", ',': "000000000C0408", '%': "18190204081303", '-': "0000001F000000", '(': "02040808080402", ')': "08040202020408",
    '@': "0E11010D15150E", '/': "00010204081000", ':': "000C0C000C0C00", '_': "0000000000001F", '+': "0004041F040400", '=': "00001F001F0000",
    '?': "0E110102040004", '#': "0A0A1F0A1F0A0A", "'": "04040800000000",
    " ": "00000000000000",
}
_FONT = {ch: tuple(int(hx[i : i + 2], 16) for i in range(0, 14, 2)) for ch, hx in _FONT_HEX.items()}
_GLYPH_W, _GLYPH_H, _ADVANCE = 5, 7, 6


def glyph(ch: str) -> tuple[int, ...]:
    """The rows of ``ch`` (upper-cased; "?" for characters the font lacks)."""
    return _FONT.get(ch.upper(), _FONT["?"])


class Canvas:
    """An RGB pixel buffer with rectangles and 5x7 text, saved as PNG (zlib + struct, no deps)."""

    def __init__(self, width: int, height: int, background: RGB = (255, 255, 255)):
        self.w, self.h = width, height
        self.px = bytearray(bytes(background) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: RGB) -> None:
        x0, x1 = max(0, min(x0, x1)), min(self.w, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.h, max(y0, y1))
        if x0 >= x1:
            return
        row = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            i = (y * self.w + x0) * 3
            self.px[i : i + len(row)] = row

    def text(self, x: int, y: int, s: str, colour: RGB, scale: int = 1) -> None:
        """``s`` left to right with its top-left corner at (x, y)."""
        for ch in s:
            for gy, bits in enumerate(glyph(ch)):
                for gx in range(_GLYPH_W):
                    if bits & (1 << (_GLYPH_W - 1 - gx)):
                        self.rect(x + gx * scale, y + gy * scale, x + (gx + 1) * scale, y + (gy + 1) * scale, colour)
            x += _ADVANCE * scale

    def text_up(self, x: int, y: int, s: str, colour: RGB, scale: int = 1) -> None:
        """``s`` turned a quarter left (read bottom to top), its baseline start at (x, y): an axis title."""
        for ch in s:
            for gy, bits in enumerate(glyph(ch)):
                for gx in range(_GLYPH_W):
                    if bits & (1 << (_GLYPH_W - 1 - gx)):
                        self.rect(x + gy * scale, y - (gx + 1) * scale, x + (gy + 1) * scale, y - gx * scale, colour)
            y -= _ADVANCE * scale

    @staticmethod
    def text_width(s: str, scale: int = 1) -> int:
        return max(0, (len(s) * _ADVANCE - 1) * scale)

    def png(self) -> bytes:
        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        stride = self.w * 3
        # filter type 0 (None) on every scanline
        raw = b"".join(b"\x00" + bytes(self.px[y * stride : (y + 1) * stride]) for y in range(self.h))
        header = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)  # 8-bit RGB
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def fit(s: str, width: int, scale: int) -> str:
    """``s`` cut (with "..") so that it is at most ``width`` pixels wide at ``scale``."""
    if Canvas.text_width(s, scale) <= width:
        return s
    keep = max(0, (width // scale + 1) // _ADVANCE - 2)
    return s[:keep].rstrip() + ".."


def render_bar_chart_png(
    values: Sequence[float], width: int = 960, height: int | None = None, *, labels: Sequence[str] | None = None,
    title: str = "", value_axis: str = VALUE_AXIS, name_axis: str = NAME_AXIS,
) -> bytes:
    """A PNG chart of percentages (0-100), pure Python: one horizontal bar per value, named by
    ``labels`` on the left (numbers 1..n without labels), its value at its end, ``title`` on top,
    the value axis (gridlines every 25) titled ``value_axis`` and the name axis ``name_axis``.
    ``height`` None: as tall as the bars need.
    """
    n = max(1, len(values))
    names = list(labels) if labels is not None else [str(i + 1) for i in range(len(values))]
    scale = 2 if width >= 640 else 1
    height = height or 70 * scale // 2 + 44 * scale + n * 15 * scale
    c = Canvas(width, height)
    ink, grid = (60, 60, 60), (225, 225, 225)
    top = (8 + 10 * scale) if title else 8
    label_w = min(max((c.text_width(s, scale) for s in names), default=0), width * 47 // 100)
    x0, x1 = 14 * scale + label_w + 6, width - c.text_width("100.0", scale) - 10  # plot area; x0 is the 0 line
    y0, y1 = top + 4, height - 22 * scale  # the bars' rows; below: tick labels and the value axis title
    if title:
        c.text((width - c.text_width(fit(title, width - 8, scale), scale)) // 2, 4, fit(title, width - 8, scale), ink, scale)

    def x_of(pct: float) -> int:
        return round(x0 + (x1 - x0) * max(0.0, min(100.0, pct)) / 100.0)

    for pct in (0, 25, 50, 75, 100):
        x = x_of(pct)
        c.rect(x, y0, x + 1, y1, grid if pct else ink)
        c.text(x - c.text_width(str(pct), scale) // 2, y1 + 3 * scale, str(pct), ink, scale)
    c.rect(x0, y1, x1 + 1, y1 + 1, ink)
    c.text((x0 + x1 - c.text_width(value_axis, scale)) // 2, y1 + 13 * scale, value_axis, ink, scale)
    c.text_up(2, (y0 + y1 + c.text_width(name_axis, scale)) // 2, name_axis, ink, scale)
    slot = (y1 - y0) / n
    for i, v in enumerate(values):
        by0, by1 = round(y0 + slot * i + slot * 0.15), round(y0 + slot * (i + 1) - slot * 0.15)
        c.rect(x0 + 1, by0, x_of(v), by1, PALETTE[i % len(PALETTE)])
        mid = (by0 + by1) // 2 - 7 * scale // 2
        name = fit(names[i], label_w, scale) if i < len(names) else ""
        c.text(x0 - 6 - c.text_width(name, scale), mid, name, ink, scale)
        c.text(x_of(v) + 4, mid, f"{v:.1f}", ink, scale)
    return c.png()


def chart_with_matplotlib(path: Path, labels: Sequence[str], values: Sequence[float], title: str = "") -> bool:
    """Draw the chart with matplotlib when it is installed (it is optional); False if not drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return False
    try:
        fig, ax = plt.subplots(figsize=(10, 0.9 + 0.4 * max(1, len(values))))
        colours = [tuple(ch / 255 for ch in PALETTE[i % len(PALETTE)]) for i in range(len(values))]
        bars = ax.barh(list(labels), list(values), color=colours)
        ax.bar_label(bars, fmt="%.1f", padding=3)
        ax.invert_yaxis()  # the first figure on top, as in the report's table
        ax.set_xlim(0, 105)
        ax.set_xlabel(VALUE_AXIS)
        ax.set_ylabel(NAME_AXIS)
        ax.set_title(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return True
    except Exception:  # a broken matplotlib must not cost the report: fall back to the built-in one
        return False


def write_chart(path: str | Path, labels: Sequence[str], values: Sequence[float], title: str = "") -> Path:
    """``path`` written as the chart: matplotlib if importable, else :func:`render_bar_chart_png`."""
    path = Path(path)
    if not chart_with_matplotlib(path, labels, values, title):
        path.write_bytes(render_bar_chart_png(values, labels=labels, title=title))
    return path
