"""Debian's chromium, headless: renders a page to a PNG screenshot, as a
person's browser would show it. Neither client nor server, so plain
helpers rather than a Peer. The PNG is read back with zlib alone (the
suite takes no package from another registry), to see that the page is
not blank.

    chromium.require()
    png = chromium.screenshot(run, "/path/report.html", tmp_path)
    width, height, rows = chromium.png_rows(png)
"""

import os
import struct
import zlib

from harness.system import need

PROGRAM = "chromium"
PACKAGE = "chromium"
WINDOW = (1200, 3000)
# Headless start-up and a long page take seconds; a loaded 2-core machine
# many more.
TIMEOUT = 180


def require():
    """Skips the calling test when chromium is missing."""
    need(PROGRAM)


def screenshot(run, page, tmp_path, window=WINDOW):
    """Chromium's screenshot of the local file page (window width x
    height): the PNG's path. Offline: no background networking, no
    component updates, no sync, a profile of its own."""
    png = os.path.join(str(tmp_path), "screenshot.png")
    profile = os.path.join(str(tmp_path), "chromium-profile")
    r = run([PROGRAM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", f"--screenshot={png}",
             f"--window-size={window[0]},{window[1]}", f"file://{page}"], timeout=TIMEOUT)
    r.expect(0, "chromium --headless --screenshot")
    assert os.path.isfile(png) and os.path.getsize(png) > 0, \
        f"chromium wrote no screenshot {png}\n{r.err[-2000:]}"
    return png


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def png_rows(path, max_rows=None):
    """(width, height, rows) of an 8-bit RGB or RGBA, non-interlaced PNG:
    each row a bytes of its pixels, filters undone (at most max_rows)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, \
        f"{path}: PNG depth {depth}, colour type {colour}, interlace {interlace}"
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    rows, prev = [], bytearray(stride)
    for y in range(height if max_rows is None else min(height, max_rows)):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up_left = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], up_left)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [(r, bpp) for r in rows]


def colours(rows):
    """The distinct RGB colours of the rows, and how many pixels are not
    the most common one (the background)."""
    counts = {}
    for row, bpp in rows:
        for i in range(0, len(row), bpp):
            px = row[i:i + 3]
            counts[px] = counts.get(px, 0) + 1
    background = max(counts.values()) if counts else 0
    return len(counts), sum(counts.values()) - background
