"""A cheaper way for WeasyPrint to draw the borders invoices are made of (issue 16).

WeasyPrint draws a border on fewer than four sides one side at a time: a clipping
trapezoid per side, then the whole ring filled inside it. A line table's rule under each
row is exactly that (`border-bottom` on every cell), and at 200 lines it was about 90 ms
of the 250 the PDF's writing takes. When the sides that have a border are all solid,
square-cornered and of one opaque colour, each side is a plain rectangle: filling those
rectangles covers the very same area (where two sides meet, the corner square is in
both, in the same colour), so the page looks the same; only the drawing operators
differ. Everything else (rounded corners, dashes, double or 3-D styles, several colours,
transparency, border images, column rules) goes to WeasyPrint's own drawing.

`install()` puts this in front of WeasyPrint's `draw_border` where WeasyPrint's drawing
module calls it; tests/integration/test_borders.py compares the pages it draws, pixel
for pixel, with WeasyPrint's own.
"""
from __future__ import annotations

from weasyprint import draw
from weasyprint.draw import border
from weasyprint.draw.color import get_color

_WEASYPRINT_DRAW_BORDER = border.draw_border
_SIDES = ("top", "right", "bottom", "left")


def _plain_sides(box):
    """(colour, [(side, width)]) when every side with a border is solid, square and of one
    opaque colour; () when the box has nothing for draw_border to draw (as WeasyPrint would
    find after the same checks); None otherwise (WeasyPrint draws it)."""
    style = box.style
    if style["border_image_source"][0] != "none" or style["column_rule_width"]:
        return None
    sides = [(side, width) for side in _SIDES if (width := getattr(box, f"border_{side}_width"))]
    if not sides or style["visibility"] != "visible":
        return ()
    colour = None
    for side, _ in sides:
        if style[f"border_{side}_style"] != "solid":
            return None
        side_colour = get_color(style, f"border_{side}_color")
        if colour is not None and side_colour != colour:
            return None
        colour = side_colour
    if colour is None or colour.alpha != 1:
        return None
    if any(rx or ry for rx, ry in box.rounded_border_box()[4:]):
        return None
    return colour, sides


def draw_border(stream, box):
    """WeasyPrint's draw_border, with plain sides drawn as rectangles, and nothing asked of it
    for a box without borders (most boxes of a page)."""
    plain = _plain_sides(box)
    if plain is None:
        return _WEASYPRINT_DRAW_BORDER(stream, box)
    if not plain:
        return None
    colour, sides = plain
    x, y = box.border_box_x(), box.border_box_y()
    width, height = box.border_width(), box.border_height()
    with stream.artifact(), stream.stacked():
        stream.set_color(colour)
        for side, thickness in sides:
            if side == "top":
                stream.rectangle(x, y, width, thickness)
            elif side == "bottom":
                stream.rectangle(x, y + height - thickness, width, thickness)
            elif side == "left":
                stream.rectangle(x, y, thickness, height)
            else:
                stream.rectangle(x + width - thickness, y, thickness, height)
        stream.fill()
    return None


def install() -> None:
    """Every border WeasyPrint draws goes through draw_border above (idempotent)."""
    draw.draw_border = draw_border


def uninstall() -> None:
    """WeasyPrint's own drawing again (for the tests that compare both)."""
    draw.draw_border = _WEASYPRINT_DRAW_BORDER
