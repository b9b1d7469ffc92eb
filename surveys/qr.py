"""QR codes of public links, as SVG and PNG, drawn by `segno` (pure Python, no imaging library).

Plain functions over a URL: no database, no request. Error correction M (15% of the code can be damaged or
covered, a printed receipt folded or a sticker scuffed) and the standard four-module quiet zone.
"""

import io

import segno

PNG_MODULE_PIXELS = 10  # a 33-module code is 410 px wide: sharp on a receipt or an A5 table card


def qr_svg(url: str, *, title: str) -> bytes:
    """A scalable SVG (a viewBox and no fixed size, black on white, `<title>` for screen readers) of the QR code
    of `url`."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=1, border=4, dark="#000", light="#fff", title=title, omitsize=True, svgclass=None,
        lineclass=None, xmldecl=True, nl=False,
    )  # fmt: skip
    return buffer.getvalue()


def qr_png(url: str) -> bytes:
    """A PNG (black on white, `PNG_MODULE_PIXELS` pixels a module) of the QR code of `url`."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=PNG_MODULE_PIXELS, border=4)
    return buffer.getvalue()
