import struct
from xml.etree import ElementTree

import segno

from surveys.qr import PNG_MODULE_PIXELS, qr_png, qr_svg

URL = "https://surveys.example.com/l/store-7/"
SVG = "{http://www.w3.org/2000/svg}"


def test_the_svg_is_xml_sized_to_the_symbol_of_the_address_with_its_quiet_zone():
    modules = segno.make(URL, error="m", micro=False).symbol_size(scale=1, border=4)[0]
    root = ElementTree.fromstring(qr_svg(URL, title="QR code of the link"))
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == f"0 0 {modules} {modules}"
    assert root.find(f"{SVG}title").text == "QR code of the link"
    assert [path.get("fill") or path.get("stroke") for path in root.iter(f"{SVG}path")] == ["#fff", "#000"]


def test_the_png_is_a_png_of_the_symbol_at_ten_pixels_a_module():
    png = qr_png(URL)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk, right after the signature
    modules = segno.make(URL, error="m", micro=False).symbol_size(scale=1, border=4)[0]
    assert width == height == modules * PNG_MODULE_PIXELS


def test_a_longer_address_makes_a_larger_symbol():
    short, long = qr_png(URL), qr_png(URL + "x" * 200)
    assert struct.unpack(">I", long[16:20])[0] > struct.unpack(">I", short[16:20])[0]
