"""The backprop steps as one file for a slide deck: an animated GIF, or a PDF with one
page per step, each frame under its caption. Frames share the graph's one layout, so
they are the same size and nothing moves from page to page. Needs Pillow."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..errors import GraphcError
from ..files import writable, write_atomic
from ..ir.graph import Graph
from .render import drawable, pipe
from .steps import iter_frames
from .style import PLAIN, Style

MAX_FRAMES = 400
"""Frames one file may hold (each is a whole picture held in memory): past it, write a
folder with ``write_steps``."""
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf", "Arial.ttf"]
SECONDS_PER_STEP = 1.5
STEP_FILES = (".gif", ".pdf")


def export_steps(g: Graph, at: dict[str, Any], path: str | Path, of: str | None = None,
                 limit: int | None = None, style: Style = PLAIN) -> Path:
    """Write every step of ``frames`` to ``path``: ``.gif`` (animated, looping) or
    ``.pdf`` (a page per step), the PNG frames at ``style.dpi``."""
    path = Path(path)
    writable(path)
    write_atomic(path, steps_file(g, at, path.suffix, of, limit, style))
    return path


def steps_file(g: Graph, at: dict[str, Any], fmt: str, of: str | None = None,
               limit: int | None = None, style: Style = PLAIN) -> bytes:
    """The bytes of ``export_steps``'s file, ``fmt`` ".gif" or ".pdf"."""
    fmt = fmt.lower()
    if fmt not in STEP_FILES:
        raise GraphcError(f"steps as {fmt or 'a file'}: write a .gif, a .pdf or a folder")
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise GraphcError("a .gif or .pdf of the steps needs Pillow: "
                          "pip install 'graphc[slides]'") from None
    drawable(g, limit)
    scale = style.dpi / 72 * style.font_scale
    font = _font(ImageFont, round(14 * scale))
    shots = []
    for i, (caption, dot) in enumerate(iter_frames(g, at, of, limit, style)):
        if i == MAX_FRAMES:
            raise GraphcError(f"more than {MAX_FRAMES} steps: too many for one file; write "
                              "them to a folder (--steps DIR)")
        picture = Image.open(io.BytesIO(pipe(dot, "png", style.dpi))).convert("RGB")
        shots.append((picture, f"{i + 1}. {caption}"))
    width = max(p.width for p, _ in shots)
    margin, step = round(8 * scale), round(font.size * 1.3)
    captions = [_wrapped(c, font, width - 2 * margin, ImageDraw.Draw(p)) for p, c in shots]
    band = 2 * margin + step * max(map(len, captions))  # the graph stays put on every page
    height = band + max(p.height for p, _ in shots)
    pages = []
    for (picture, _), lines in zip(shots, captions):
        page = Image.new("RGB", (width, height), style.colour("background"))
        page.paste(picture, (0, band))
        pen = ImageDraw.Draw(page)
        for k, line in enumerate(lines):
            pen.text((margin, margin + k * step), line, font=font, fill=style.colour("text"))
        pages.append(page)
    buffer = io.BytesIO()
    if fmt == ".gif":
        pages[0].save(buffer, "GIF", save_all=True, append_images=pages[1:], loop=0,
                      duration=round(SECONDS_PER_STEP * 1000))
    else:
        pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:],
                      resolution=style.dpi)
    return buffer.getvalue()


def _font(image_font: Any, size: int) -> Any:
    for name in FONTS:
        try:
            return image_font.truetype(name, size)
        except OSError:
            continue
    return image_font.load_default(size)


def _wrapped(caption: str, font: Any, width: int, measure: Any) -> list[str]:
    """The caption in lines no wider than ``width`` pixels."""
    lines: list[str] = []
    for word in caption.split(" "):
        if lines and measure.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines
