"""A minimal PDF writer for text documents: the demo's resumes and the tests' files.

It writes real PDF 1.4 (a catalogue, pages, the standard Helvetica font in WinAnsi encoding, one
content stream a page and a correct cross-reference table), so a viewer opens the file and pypdf
extracts its text. No dependency: pypdf writes pages but not text on them, and a reportlab-sized
library is more than a few lines of text need.
"""

import textwrap
from datetime import datetime

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
FONT_SIZE = 11
LEADING = 15
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LEADING
WRAP_AT = 90  # characters: about the width of A4 in 11 pt Helvetica


def _literal(text: str) -> bytes:
    """A PDF literal string in WinAnsi (Windows-1252); characters outside it become "?"."""
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _page_stream(lines: list[str]) -> bytes:
    parts = [b"BT", f"/F1 {FONT_SIZE} Tf {LEADING} TL {MARGIN} {PAGE_HEIGHT - MARGIN} Td".encode()]
    for line in lines:
        parts.append(_literal(line) + b" Tj T*")
    parts.append(b"ET")
    return b"\n".join(parts)


def text_pdf(paragraphs: list[str], *, title: str = "", created: datetime | None = None) -> bytes:
    """A PDF showing ``paragraphs`` (wrapped, one blank line apart), as many A4 pages as needed."""
    lines: list[str] = []
    for paragraph in paragraphs:
        lines.extend(textwrap.wrap(paragraph, WRAP_AT) or [""])
        lines.append("")
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, max(len(lines), 1), LINES_PER_PAGE)] or [[]]

    # Objects: 1 catalogue, 2 page tree, 3 font, 4 info, then a page and its content per page.
    kids = " ".join(f"{5 + 2 * n} 0 R" for n in range(len(pages)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Producer (Agency Portal) /Title "
        + _literal(title)
        + (b" /CreationDate " + _literal(created.strftime("D:%Y%m%d%H%M%SZ")) if created else b"")
        + b" >>",
    ]
    for n, page_lines in enumerate(pages):
        stream = _page_stream(page_lines)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {6 + 2 * n} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
