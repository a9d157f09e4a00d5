"""Scanned PDFs: OCR by Tesseract with page numbers kept and each passage marked as OCR text,
`python -m retrieval ask` finding a scanned sentence on its page, the OCR cache (a rebuild does
not run Tesseract again), a missing Tesseract reported with the Debian packages to install, the
time per scanned page, the OCR flag in both stores' files and on the app's passage card.

The scans are made here: Dutch text drawn with DejaVu Sans (Pillow) into page images, saved as
an image-only PDF. Tests that run the real Tesseract skip without it, and fail under CI=true.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.build import build
from indexer.config import ParseLimits
from indexer.encoders.fake import FakeEncoder
from indexer.parsers import UnreadableDocument
from indexer.parsers.ocr import Ocr
from indexer.passage import DocumentMeta, Passage
from indexer.sandbox import ParseWorker, parse_file
from indexer.store import PASSAGES_DB, DocRecord, IndexReader, write_build
from tests.conftest import REPO

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PAGE_1 = [
    "Besluit op het bezwaar",
    "",
    "De aanvraag van betrokkene is ingediend op 3 maart 2021.",
    "Het bezwaar tegen de beslissing is ongegrond verklaard.",
]
PAGE_2 = [
    "Overwegingen",
    "",
    "Het verzoek om een verblijfsvergunning asiel voor bepaalde",
    "tijd is terecht afgewezen, omdat de vreemdeling geen gegronde",
    "vrees voor vervolging in het land van herkomst heeft.",
]
QUESTION = "gegronde vrees voor vervolging in het land van herkomst"
OTHER = """---
title: Werkwijze gehoor
---
De contactpersoon plant het nader gehoor binnen zes dagen na de aanmelding van de vreemdeling.
"""


def require_tesseract() -> str:
    """The tesseract program with Dutch data and the DejaVu font; skip without them, fail under CI=true."""
    missing = []
    exe = shutil.which("tesseract")
    if exe is None:
        missing.append("tesseract (Debian: tesseract-ocr)")
    elif "nld" not in subprocess.run([exe, "--list-langs"], capture_output=True, text=True).stdout.split():
        missing.append("Tesseract's Dutch data (Debian: tesseract-ocr-nld)")
    if not FONT.is_file():
        missing.append(f"the font {FONT} (Debian: fonts-dejavu-core)")
    if missing:
        msg = f"{', '.join(missing)} not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; under CI=true .ci/run installs them")
        pytest.skip(msg)
    return exe


def page_image(lines: list[str]):
    """An A4 page at 150 dpi with `lines` in 14 pt DejaVu Sans, black on white (a clean scan)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 30)
    y = 150
    for line in lines:
        draw.text((120, y), line, font=font, fill=0)
        y += 48
    return image


def scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    """An image-only PDF, one page image per entry of `pages`."""
    images = [page_image(lines) for lines in pages]
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
    return path


def fake_tesseract(folder: Path, body: str) -> Path:
    """A folder holding a `tesseract` program that runs `body` (sh) instead of the real one."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "tesseract"
    exe.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    exe.chmod(0o755)
    return folder


def use_fake_tesseract(tmp_path: Path, monkeypatch, body: str) -> None:
    """Put a fake `tesseract` running `body` first on PATH, for a scan drawn with the DejaVu font
    (skipped without it, failed under CI=true)."""
    require_font()
    monkeypatch.setenv("PATH", f"{fake_tesseract(tmp_path / 'bin', body)}{os.pathsep}{os.environ['PATH']}")


def require_font() -> None:
    if not FONT.is_file():
        msg = f"the font {FONT} (Debian: fonts-dejavu-core) not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; under CI=true .ci/run installs it")
        pytest.skip(msg)


def squeeze(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Reading scans


def test_scanned_pages_are_read_with_their_page_numbers_and_marked_as_ocr(tmp_path):
    require_tesseract()
    pdf = scanned_pdf(tmp_path / "besluit.pdf", [PAGE_1, PAGE_2])
    meta, passages, pages = parse_file(pdf, ocr=Ocr(tmp_path / "cache"))
    assert len(pages) == 2 and all(p.ocr for p in passages)
    on_page = {p.pages: p for p in passages}
    assert set(on_page) == {(1,), (2,)}
    assert on_page[(1,)].section == "Besluit op het bezwaar" and on_page[(2,)].section == "Overwegingen"
    assert "ongegrond verklaard" in on_page[(1,)].text
    assert squeeze(" ".join(PAGE_2[2:])) in squeeze(on_page[(2,)].text)
    for p in passages:  # the offsets index the OCR text stored as the page's text
        assert squeeze(pages[p.page - 1][p.char_start : p.char_end]) == squeeze(p.text)


def test_a_pdf_with_a_text_page_and_a_scanned_page_marks_only_the_scanned_passages(tmp_path):
    require_tesseract()
    from fpdf import FPDF

    doc = FPDF(format="A4")
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.multi_cell(0, 6, "Inleiding\n\nDeze brief is getypt en heeft een tekstlaag; de bijlage is gescand.")
    doc.add_page()
    doc.image(page_image(PAGE_2), x=0, y=0, w=210)
    path = tmp_path / "gemengd.pdf"
    doc.output(str(path))
    _, passages, _ = parse_file(path, ocr=Ocr())
    flags = {p.page: p.ocr for p in passages}
    assert flags == {1: False, 2: True}


def test_a_blank_scan_is_reported_as_without_text(tmp_path):
    require_tesseract()
    pdf = scanned_pdf(tmp_path / "leeg.pdf", [[], []])
    with pytest.raises(UnreadableDocument) as exc:
        parse_file(pdf, ocr=Ocr())
    assert "no extractable text on any of its 2 page(s)" in exc.value.reason and "OCR found none" in exc.value.reason
    assert "scan it again" in exc.value.remedy


# ---------------------------------------------------------------------------------------------
# Build, ask and the cache


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "c"
    corpus.mkdir()
    scanned_pdf(corpus / "besluit.pdf", [PAGE_1, PAGE_2])
    (corpus / "gehoor.md").write_text(OTHER, encoding="utf-8")
    return corpus


def test_ask_finds_the_scanned_sentence_on_its_page(tmp_path):
    require_tesseract()
    corpus = _corpus(tmp_path)
    report = build([corpus], tmp_path / "ix", FakeEncoder())
    assert report.skipped == [] and report.documents == 2
    out = subprocess.run(
        [sys.executable, "-m", "retrieval", "ask", QUESTION, "--index", str(tmp_path / "ix"), "--k", "3", "--json"],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    best = json.loads(out.stdout)["passages"][0]
    assert (best["file"], best["page"], best["ocr"]) == ("besluit.pdf", 2, True)
    assert "vrees voor vervolging" in best["text"] and best["citation"].startswith("besluit, p. 2")
    text = subprocess.run([sys.executable, "-m", "retrieval", "ask", QUESTION, "--index", str(tmp_path / "ix"), "--k", "1"],
                          cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert "besluit, p. 2" in text.stdout and "[OCR-tekst: controleer tegen het origineel]" in text.stdout


def test_a_rebuild_takes_the_ocr_text_from_the_cache_and_does_not_run_tesseract(tmp_path, monkeypatch):
    real = require_tesseract()
    calls = tmp_path / "calls.log"
    counting = fake_tesseract(tmp_path / "bin", f'echo page >> "{calls}"\nexec "{real}" "$@"')
    monkeypatch.setenv("PATH", f"{counting}{os.pathsep}{os.environ['PATH']}")
    corpus = _corpus(tmp_path)
    first = build([corpus], tmp_path / "ix", FakeEncoder())
    assert first.skipped == [] and calls.read_text().count("page") == 2  # one run per scanned page
    cache = tmp_path / "ix" / "ocr-cache"
    assert [p.suffix for p in cache.iterdir()] == [".json"]  # one entry, no temporary file left

    # a new title in the sidecar makes the build parse the PDF again; now there is no tesseract at all
    (corpus / "besluit.pdf.yaml").write_text("title: Besluit op bezwaar 2021\n", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    second = build([corpus], tmp_path / "ix", FakeEncoder())
    assert second.changed == ["besluit.pdf"] and second.skipped == []
    assert calls.read_text().count("page") == 2
    passages = [p for p in IndexReader(tmp_path / "ix").passages() if p.doc_id == "besluit"]
    assert {p.meta.title for p in passages} == {"Besluit op bezwaar 2021"}
    assert all(p.ocr for p in passages) and {p.page for p in passages} == {1, 2}


def test_the_cache_keeps_only_the_pdfs_in_the_corpus(tmp_path, monkeypatch):
    """After a build the OCR text of a PDF removed from the corpus is deleted (it may be case
    material); a PDF still there keeps its entry, also one skipped half-way (page 2 fails here)."""
    from indexer.parsers.ocr import content_key

    calls = tmp_path / "calls.log"
    use_fake_tesseract(tmp_path, monkeypatch, f'''echo page >> "{calls}"
cat > /dev/null
if [ "$(wc -l < "{calls}")" -ge 4 ]; then echo "Error: kapot" >&2; exit 1; fi
echo "Gelezen tekst over de beslistermijn van zes maanden."''')
    corpus = tmp_path / "c"
    corpus.mkdir()
    pdfs = {name: scanned_pdf(corpus / f"{name}.pdf", [[name]] * pages) for name, pages in (("a", 1), ("b", 1), ("c", 2))}
    keys = {name: content_key(path) for name, path in pdfs.items()}
    cache = tmp_path / "ix" / "ocr-cache"
    report = build([corpus], tmp_path / "ix", FakeEncoder())
    assert [s.file for s in report.skipped] == ["c.pdf"] and "page 2" in report.skipped[0].reason
    assert {p.stem for p in cache.glob("*.json")} == set(keys.values())
    (cache / f".{keys['a'][:16]}.x1y2.tmp").write_text("{", encoding="utf-8")  # left by a killed build

    pdfs["a"].unlink()
    build([corpus], tmp_path / "ix", FakeEncoder())
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{keys[n]}.json" for n in ("b", "c"))
    assert json.loads((cache / f"{keys['c']}.json").read_text(encoding="utf-8"))["pages"].keys() == {"1"}

    (cache / f"{'0' * 64}.json").write_text("{}", encoding="utf-8")  # a PDF removed while no build ran
    assert build([corpus], tmp_path / "ix", FakeEncoder()).published is False  # nothing changed, still pruned
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{keys[n]}.json" for n in ("b", "c"))


def test_the_ocr_cache_folder_is_a_setting(tmp_path, monkeypatch):
    require_tesseract()
    monkeypatch.setenv("BELEIDSWIJZER_OCR_CACHE", str(tmp_path / "elders"))
    build([_corpus(tmp_path)], tmp_path / "ix", FakeEncoder())
    assert len(list((tmp_path / "elders").glob("*.json"))) == 1 and not (tmp_path / "ix" / "ocr-cache").exists()


def test_without_tesseract_a_scan_is_reported_with_the_packages_and_the_rest_indexed(tmp_path, monkeypatch):
    require_font()
    corpus = tmp_path / "c"
    corpus.mkdir()
    scanned_pdf(corpus / "scan.pdf", [PAGE_1])
    (corpus / "gehoor.md").write_text(OTHER, encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    report = build([corpus], tmp_path / "ix", FakeEncoder())
    assert report.documents == 1 and [s.file for s in report.skipped] == ["scan.pdf"]
    skipped = report.skipped[0]
    assert "scanned image" in skipped.reason and "Tesseract" in skipped.reason
    assert "apt-get install tesseract-ocr tesseract-ocr-nld" in skipped.remedy


def test_pages_without_an_image_are_blank_and_not_sent_to_tesseract(tmp_path, monkeypatch):
    from pypdf import PdfWriter

    calls = tmp_path / "calls.log"
    bin_dir = fake_tesseract(tmp_path / "bin", f'echo page >> "{calls}"\nprintf "verzonnen"')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    blank = PdfWriter()
    for _ in range(3):
        blank.add_blank_page(width=595, height=842)
    with open(tmp_path / "leeg.pdf", "wb") as fh:
        blank.write(fh)
    with pytest.raises(UnreadableDocument) as exc:
        parse_file(tmp_path / "leeg.pdf", ocr=Ocr())
    assert "OCR found none" in exc.value.reason and not calls.exists()


def test_a_pdf_over_the_scanned_page_limit_is_refused_before_any_ocr(tmp_path, monkeypatch):
    calls = tmp_path / "calls.log"
    use_fake_tesseract(tmp_path, monkeypatch, f'echo page >> "{calls}"\nprintf "verzonnen"')
    pdf = scanned_pdf(tmp_path / "dik.pdf", [["een"], ["twee"], ["drie"]])
    with pytest.raises(UnreadableDocument) as exc:
        parse_file(pdf, ocr=Ocr(max_pages=2))
    assert "3 scanned pages without text, more than the limit of 2" in exc.value.reason
    assert "BELEIDSWIJZER_OCR_PAGES" in exc.value.remedy and not calls.exists()


def test_the_ocr_limits_are_settings(monkeypatch):
    from indexer.config import SettingError, parse_limits

    monkeypatch.setenv("BELEIDSWIJZER_OCR_SECONDS", "12.5")
    monkeypatch.setenv("BELEIDSWIJZER_OCR_PAGES", "40")
    monkeypatch.setenv("BELEIDSWIJZER_OCR_FILE_SECONDS", "300")
    assert (parse_limits().ocr_seconds, parse_limits().ocr_pages, parse_limits().ocr_file_seconds) == (12.5, 40, 300)
    monkeypatch.setenv("BELEIDSWIJZER_OCR_PAGES", "0")
    with pytest.raises(SettingError, match="BELEIDSWIJZER_OCR_PAGES='0' cannot be used: set it to the scanned pages"):
        parse_limits()


def test_a_damaged_cache_entry_is_read_again_and_replaced(tmp_path, monkeypatch):
    calls = tmp_path / "calls.log"
    use_fake_tesseract(tmp_path, monkeypatch, f'echo page >> "{calls}"\ncat > /dev/null\nprintf "Gelezen tekst.\\n\\f"')
    pdf = scanned_pdf(tmp_path / "scan.pdf", [["x"]])
    ocr = Ocr(tmp_path / "cache")
    assert ocr.read(pdf, [1]) == {1: "Gelezen tekst."}
    entry = next((tmp_path / "cache").glob("*.json"))
    entry.write_text("{ afgebroken", encoding="utf-8")
    assert ocr.read(pdf, [1]) == {1: "Gelezen tekst."} and calls.read_text().count("page") == 2
    assert json.loads(entry.read_text(encoding="utf-8"))["pages"] == {"1": "Gelezen tekst."}
    assert ocr.read(pdf, [1]) == {1: "Gelezen tekst."} and calls.read_text().count("page") == 2  # cached


# ---------------------------------------------------------------------------------------------
# Time


def test_each_scanned_page_adds_its_own_time_to_the_files_limit(tmp_path, monkeypatch):
    """Two pages of 1.5 s each fit in 2 s per file plus 10 s per scanned page, not in 2 s alone."""
    calls = tmp_path / "calls.log"
    use_fake_tesseract(tmp_path, monkeypatch, f'''echo page >> "{calls}"
cat > /dev/null
sleep 1.5
if [ "$(wc -l < "{calls}")" -eq 1 ]; then echo "De eerste pagina, langzaam gelezen."; else echo "Dan de tweede pagina."; fi''')
    pdf = scanned_pdf(tmp_path / "scan.pdf", [["a"], ["b"]])
    started = time.monotonic()
    with ParseWorker(ParseLimits(seconds=2, ocr_seconds=10), tmp_path / "cache") as worker:
        _, passages, pages = worker.parse(pdf, tmp_path)
    assert time.monotonic() - started > 3  # longer than the file's own 2 s
    assert pages == ["De eerste pagina, langzaam gelezen.", "Dan de tweede pagina."] and all(p.ocr for p in passages)


def test_a_page_over_its_ocr_time_names_the_setting_and_tesseract_is_stopped(tmp_path, monkeypatch):
    pid_file = tmp_path / "tesseract.pid"
    use_fake_tesseract(tmp_path, monkeypatch, f'echo $$ > "{pid_file}"\nexec sleep 60')
    pdf = scanned_pdf(tmp_path / "scan.pdf", [["a"]])
    started = time.monotonic()
    with ParseWorker(ParseLimits(seconds=5, ocr_seconds=1), tmp_path / "cache") as worker:
        with pytest.raises(UnreadableDocument) as exc:
            worker.parse(pdf, tmp_path)
    assert time.monotonic() - started < 20
    assert "BELEIDSWIJZER_OCR_SECONDS" in exc.value.remedy and "page 1" in exc.value.reason
    pid = int(pid_file.read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"tesseract (pid {pid}) still runs after its time")


def _gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie waiting for its reaper counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    return state in ("Z", "X")


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while not _gone(pid):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_the_files_ocr_time_is_limited_and_names_its_setting(tmp_path, monkeypatch):
    """Five pages of 2 s each do not fit in 3 s of OCR per file, though each fits in its 30 s."""
    calls = tmp_path / "calls.log"
    use_fake_tesseract(tmp_path, monkeypatch, f'echo page >> "{calls}"\ncat > /dev/null\nsleep 2\necho "Gelezen."')
    pdf = scanned_pdf(tmp_path / "scan.pdf", [[str(n)] for n in range(5)])
    started = time.monotonic()
    with ParseWorker(ParseLimits(seconds=5, ocr_seconds=30, ocr_file_seconds=3), tmp_path / "cache") as worker:
        with pytest.raises(UnreadableDocument) as exc:
            worker.parse(pdf, tmp_path)
    assert time.monotonic() - started < 5 + 3  # the child's own limit, before the parent's deadline
    assert "limit of 3 seconds per file (1 page(s) read)" in exc.value.reason
    assert "BELEIDSWIJZER_OCR_FILE_SECONDS" in exc.value.remedy
    assert calls.read_text().count("page") == 2  # the second page was stopped at the file's limit
    entry = next((tmp_path / "cache").glob("*.json"))
    assert json.loads(entry.read_text(encoding="utf-8"))["pages"] == {"1": "Gelezen."}  # kept


def test_tesseract_is_killed_when_the_parent_deadline_passes_while_it_runs(tmp_path, monkeypatch):
    """The parsing child hangs (stopped by the fake Tesseract, as if stuck in C code), so only the
    parent's deadline ends the file: Tesseract, with 30 s per page of its own, must go with the child."""
    pid_file = tmp_path / "tesseract.pid"
    use_fake_tesseract(tmp_path, monkeypatch, f'echo $$ > "{pid_file}"\nkill -STOP $PPID\nexec sleep 60')
    pdf = scanned_pdf(tmp_path / "scan.pdf", [["a"], ["b"]])
    started = time.monotonic()
    with ParseWorker(ParseLimits(seconds=5, ocr_seconds=30, ocr_file_seconds=2), tmp_path / "cache") as worker:
        with pytest.raises(UnreadableDocument) as exc:
            worker.parse(pdf, tmp_path)
    assert time.monotonic() - started < 20  # the deadline: 5 s per file + 2 s of OCR
    assert "2 seconds of OCR per file" in exc.value.reason and "BELEIDSWIJZER_OCR_FILE_SECONDS" in exc.value.remedy
    pid = int(pid_file.read_text())
    assert _wait_gone(pid), f"tesseract (pid {pid}) still runs after the file's deadline"


PARENT = """
import sys
from pathlib import Path
from indexer.config import ParseLimits
from indexer.sandbox import ParseWorker

with ParseWorker(ParseLimits(seconds=60, ocr_seconds=60), Path(sys.argv[3])) as worker:
    worker.parse(Path(sys.argv[1]), Path(sys.argv[2]))
"""


def test_a_killed_build_leaves_no_ocr_running(tmp_path):
    """The build is killed as the app's stop button kills it (SIGKILL to the build process only):
    its parsing child and the Tesseract it runs end too, and no further page is read."""
    require_font()
    calls = tmp_path / "calls.log"
    bin_dir = fake_tesseract(tmp_path / "bin", f'echo "$$ $PPID" >> "{calls}"\ncat > /dev/null\nsleep 1\necho "Gelezen."')
    pdf = scanned_pdf(tmp_path / "scan.pdf", [[str(n)] for n in range(6)])
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    build = subprocess.Popen([sys.executable, "-c", PARENT, str(pdf), str(tmp_path), str(tmp_path / "cache")],
                             cwd=REPO, env=env)  # fmt: skip
    try:
        for _ in range(300):
            if calls.exists() and calls.read_text().strip():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the fake tesseract never started")
    finally:
        build.kill()
        build.wait()
    tesseract, child = (int(v) for v in calls.read_text().split()[:2])
    assert _wait_gone(child), f"the parsing child (pid {child}) still runs after the build was killed"
    assert _wait_gone(tesseract), f"tesseract (pid {tesseract}) still runs after the build was killed"
    time.sleep(2.5)  # a child still reading would have started the next page by now
    assert len(calls.read_text().splitlines()) == 1


# ---------------------------------------------------------------------------------------------
# The flag in the stores and the app


def _record(doc_id: str, ocr: bool) -> DocRecord:
    meta = DocumentMeta(doc_id=doc_id, title=doc_id, file=f"{doc_id}.pdf")
    text = f"Tekst van {doc_id} over de beslistermijn van zes maanden voor een aanvraag om asiel."
    passage = Passage(doc_id=doc_id, seq=0, text=text, pages=(1,), char_end=len(text), ocr=ocr, meta=meta)
    return DocRecord(meta, f"/c/{doc_id}.pdf", doc_id, [passage], [text])


def test_the_embedded_store_keeps_the_flag_and_reads_a_build_from_before_ocr(tmp_path):
    enc = FakeEncoder()
    docs = [_record("scan", True), _record("tekst", False)]
    folder = tmp_path / "ix" / "builds" / "b1"
    write_build(folder, docs, enc.encode_passages([d.passages[0].text for d in docs]), {"model": enc.name, "dim": enc.dim})
    reader = IndexReader.for_folder(folder)
    assert {p.doc_id: p.ocr for p in reader.passages()} == {"scan": True, "tekst": False}
    reader.close()
    con = sqlite3.connect(folder / PASSAGES_DB)
    for column in ("ocr", "valid_from", "valid_until"):  # as a build written before these columns
        con.execute(f"ALTER TABLE passages DROP COLUMN {column}")
    con.commit()
    con.close()
    old = IndexReader.for_folder(folder)
    assert {p.doc_id: p.ocr for p in old.passages()} == {"scan": False, "tekst": False}
    assert {(p.valid_from, p.valid_until) for p in old.passages()} == {(None, None)}
    rows, _ = old.dense_search(enc.encode_queries(["beslistermijn"])[0], 2, dt.date(2024, 1, 1))
    assert {old.passages()[r].doc_id for r in rows} == {"scan", "tekst"}  # a search on a date still works


def test_a_scanned_passage_opens_in_context_on_its_page_with_the_ocr_mark(tmp_path):
    require_tesseract()
    from streamlit.testing.v1 import AppTest

    build([_corpus(tmp_path)], tmp_path / "ix", FakeEncoder())
    seq = next(p.seq for p in IndexReader(tmp_path / "ix").passages() if p.doc_id == "besluit" and p.page == 2)

    def view(index: str, seq: int) -> None:
        from indexer.store import IndexReader
        from retrieval.library import Library
        from ui.context import context_view

        reader = IndexReader(index)
        passages = reader.passages()
        context_view(Library(reader, passages), next(p for p in passages if p.doc_id == "besluit" and p.seq == seq), None)

    at = AppTest.from_function(view, args=(str(tmp_path / "ix"), seq)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "OCR-tekst: controleer tegen het origineel" in at.caption[0].value
    assert at.number_input[0].value == 2  # the scanned page itself is shown, at the passage's page
    assert not at.warning


def test_the_passage_card_shows_the_ocr_mark(tmp_path):
    from streamlit.testing.v1 import AppTest

    def card(ocr: bool) -> None:
        from indexer.passage import DocumentMeta, Passage
        from ui.passages import passage_card

        meta = DocumentMeta(doc_id="scan", title="Besluit", file="scan.pdf")
        passage_card(Passage(doc_id="scan", seq=0, text="Het bezwaar is ongegrond.", pages=(2,), ocr=ocr, meta=meta),
                     key="p", status="current")  # fmt: skip

    shown = {}
    for ocr in (True, False):
        at = AppTest.from_function(card, args=(ocr,)).run()
        assert not at.exception, [e.value for e in at.exception]
        shown[ocr] = " ".join(m.value for m in at.markdown)
    assert "OCR-tekst: controleer tegen het origineel" in shown[True]
    assert "OCR" not in shown[False]


def test_the_ocr_benchmark_runs():
    require_tesseract()
    from bench import ocr

    res = ocr.run(pages=1, reps=1)
    assert res["pages"] == 1 and res["passages"] >= 1 and res["tesseract"].startswith("tesseract")
    assert {"ocr", "ocr_cached", "text_layer", "ocr_s_per_page", "ocr_vs_cached"} <= set(res)
