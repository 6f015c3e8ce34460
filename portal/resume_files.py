"""What an uploaded resume is, judged from its bytes (never its name), and its text for search.

PDFs are read with pypdf. DOCX files are read from ``word/document.xml`` with the standard
library's zipfile and defusedxml rather than python-docx: that part holds every word of the body
(tables and text boxes included, which python-docx's paragraphs leave out), and python-docx would
bring lxml, a large C library, for one XML part. defusedxml refuses DTDs and entities outright,
so a hostile file cannot expand or fetch anything; sizes are checked before anything is unpacked.
"""

import io
import warnings
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_XML = 50 * 1024 * 1024  # word/document.xml of a real 10 MB resume is far smaller
MAX_PAGES_READ = 50
MAX_TEXT = 200_000  # as much as import keeps; the search document takes the first 10,000

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", TEXT: ".txt"}
LABELS = {PDF: "PDF", DOCX: "Word", TEXT: "text"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc, and every password-protected Office file
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class UnreadableResume(ValueError):
    """The file is refused; the message says why in words for the person who chose it."""


@dataclass(frozen=True)
class ResumeFile:
    content_type: str
    text: str


def extension_for(content_type: str) -> str:
    """The file name extension a stored type is served with ("" for a type we never store)."""
    return EXTENSIONS.get(content_type, "")


def read_resume(content: bytes) -> ResumeFile:
    """The type (from the content) and the text of an uploaded resume, or ``UnreadableResume``."""
    if not content:
        raise UnreadableResume("The file is empty.")
    if len(content) > MAX_BYTES:
        raise UnreadableResume(f"The file is over the 10 MB limit ({len(content) / 1024 / 1024:.1f} MB).")
    if content.startswith(b"%PDF-"):
        return ResumeFile(PDF, _pdf_text(content))
    if content.startswith(b"PK\x03\x04"):
        return ResumeFile(DOCX, _docx_text(content))
    if content.startswith(OLE_MAGIC):
        raise UnreadableResume(
            "This is a password-protected Office file or an old .doc file: save it as an unprotected .docx or PDF."
        )
    raise UnreadableResume(
        "Choose a PDF or Word (.docx) file: this file is neither (its content was checked, not its name)."
    )


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    try:
        # pypdf reports repairs of damaged files as warnings: they must not decide the outcome.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(content))
            if reader.is_encrypted:
                raise UnreadableResume(
                    "This PDF is password-protected or encrypted: save an unprotected copy and upload that."
                )
            if len(reader.pages) == 0:
                raise UnreadableResume("This PDF has no pages.")
            texts = []
            for page in reader.pages[:MAX_PAGES_READ]:
                texts.append(page.extract_text() or "")
                if sum(map(len, texts)) > MAX_TEXT:
                    break
    except UnreadableResume:
        raise
    except Exception as exc:  # any error of a parser on a hostile file means the same: cannot be read
        raise UnreadableResume(
            "This PDF is damaged and cannot be read: export it again and upload the new copy."
        ) from exc
    return "\n".join(texts).strip()[:MAX_TEXT]


def _docx_text(content: bytes) -> str:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    damaged = UnreadableResume("This Word file is damaged and cannot be read: save it again and upload the new copy.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        info = archive.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableResume(
            "Choose a PDF or Word (.docx) file: this file is a zip archive but not a Word document."
        ) from exc
    if info.flag_bits & 0x1:
        raise UnreadableResume("This Word file is encrypted: save an unprotected copy and upload that.")
    if info.file_size > MAX_UNPACKED_XML:
        raise damaged
    words: list[str] = []
    try:
        with archive.open(info) as part:
            for _, element in iterparse(part, events=("end",), forbid_dtd=True):
                if element.tag == f"{W}t":
                    words.append(element.text or "")
                elif element.tag == f"{W}tab":
                    words.append("\t")
                elif element.tag in (f"{W}br", f"{W}cr", f"{W}p"):
                    words.append("\n")
                    if element.tag == f"{W}p":
                        element.clear()
    except (ParseError, DefusedXmlException, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise damaged from exc
    return "".join(words).strip()[:MAX_TEXT]
