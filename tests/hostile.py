"""Hostile corpus files for the tests, written from raw PDF objects and text: huge and deep page
trees, a decompression bomb in a form, a PDF that is slow to read, AES encryption, a text that
fills memory, and the YAML alias bomb."""
from __future__ import annotations

import io
import zlib
from pathlib import Path

TEXT = "De beslistermijn kan met ten hoogste negen maanden worden verlengd."


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of `objects` (object 1 is the catalog) with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def stream(data: bytes, extra: bytes = b"") -> bytes:
    packed = zlib.compress(data, 9)
    return b"<< /Length %d /Filter /FlateDecode %s >>\nstream\n%s\nendstream" % (len(packed), extra, packed)


def show(text: str, y: int = 720) -> bytes:
    return b"BT /F1 11 Tf 72 %d Td (%s) Tj ET\n" % (y, text.encode("latin-1"))


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
RESOURCES = b"<< /Font << /F1 3 0 R >> >>"


def text_pdf(path: Path, text: str = TEXT) -> Path:
    """One page with one line of text."""
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 /Resources %s /MediaBox [0 0 595 842] >>" % RESOURCES,
        FONT, b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R >>", stream(show(text)),
    ]))  # fmt: skip
    return path


def aes_pdf(path: Path, user_password: str = "") -> Path:
    """A text PDF encrypted with AES-256: with an empty user password it opens without one (only
    editing is protected), as many government PDFs do."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(text_pdf(path)))
    writer.encrypt(user_password=user_password, owner_password="x", algorithm="AES-256")
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def page_tree_pdf(path: Path, pages: int, fanout: int = 10, declared: int | None = None) -> Path:
    """`pages` pages under a balanced tree of /Pages nodes, all sharing one content stream; the
    root's /Count says `declared` (default: the truth)."""
    objects: list[bytes] = [b"", b"", FONT, stream(show(TEXT))]  # 1 catalog, 2 root, 3 font, 4 content
    level = []
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Contents 4 0 R >>")
        level.append((len(objects), 1))
    while len(level) > fanout:
        upper = []
        for i in range(0, len(level), fanout):
            kids = level[i : i + fanout]
            objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
                b" ".join(b"%d 0 R" % n for n, _ in kids), sum(c for _, c in kids)))  # fmt: skip
            upper.append((len(objects), sum(c for _, c in kids)))
        level = upper
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d /Resources %s /MediaBox [0 0 595 842] >>" % (
        b" ".join(b"%d 0 R" % n for n, _ in level), pages if declared is None else declared, RESOURCES)  # fmt: skip
    path.write_bytes(raw_pdf(objects))
    return path


def deep_tree_pdf(path: Path, depth: int = 50_000) -> Path:
    """One page at the bottom of a chain of `depth` nested /Pages nodes."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", FONT, stream(show(TEXT))]
    child = None
    for level in range(depth, 0, -1):
        if child is None:
            objects.append(b"<< /Type /Page /Contents 4 0 R >>")
        else:
            objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % child)
        child = len(objects)
    objects[1] = b"<< /Type /Pages /Kids [%d 0 R] /Count 1 /Resources %s /MediaBox [0 0 595 842] >>" % (child, RESOURCES)
    path.write_bytes(raw_pdf(objects))
    return path


def form_bomb_pdf(path: Path, megabytes: int = 80) -> Path:
    """A page whose only content is a form XObject that inflates to `megabytes` MB, over pypdf's
    75 MB limit; pypdf logs the limit and leaves the form out."""
    form = stream(show("x" * (megabytes * 1_000_000)), b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources " + RESOURCES)
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 /Resources << /Font << /F1 3 0 R >> /XObject << /X1 6 0 R >> >> "
        b"/MediaBox [0 0 595 842] >>",
        FONT, b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R >>", stream(b"/X1 Do"), form,
    ]))  # fmt: skip
    return path


def slow_pdf(path: Path, pages: int = 2_000) -> Path:
    """`pages` pages that share one content stream of many small text operations: under every
    size limit, but slow to read (tens of milliseconds per page)."""
    return _shared_content_pdf(path, pages, b"".join(show(f"regel {i}", 800 - i % 700) for i in range(3_000)))


def _shared_content_pdf(path: Path, pages: int, content: bytes) -> Path:
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d /Resources %s /MediaBox [0 0 595 842] >>" % (kids, pages, RESOURCES),
        FONT, stream(content),
    ]  # fmt: skip
    objects += [b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"] * pages
    path.write_bytes(raw_pdf(objects))
    return path


def zeros_text(path: Path, megabytes: int = 300) -> Path:
    """A sparse text file of NUL bytes: no room on disk, but `megabytes` MB (twice, as bytes and
    as text) in the memory of whoever reads it."""
    with open(path, "wb") as fh:
        fh.truncate(megabytes * 1_000_000)
    return path


def alias_bomb(levels: int = 9) -> str:
    """A 'billion laughs' YAML front matter: each level lists the one before nine times (9**9
    titles from 435 bytes)."""
    lines = ['title: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"t{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"
