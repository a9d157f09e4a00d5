"""Which files of a corpus folder are read (indexer/sources.py): links out of the folder,
dangling links, special files and bad names are reported and skipped; names print escaped."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer import store
from indexer.build import build, scan
from indexer.encoders.fake import FakeEncoder
from indexer.sources import Skipped, shown

DOC = "---\ntitle: Nota A\n---\nHet besluit- en vertrekmoratorium geldt voor dienstplichtigen.\n"
SECRET = "root:x:0:0:geheim wachtwoord van de beheerder:/root:/bin/bash\n"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    (corpus / "a.txt").write_text(DOC, encoding="utf-8")
    (outside / "passwd.txt").write_text(SECRET, encoding="utf-8")
    return corpus, outside


def reasons(report) -> dict[str, str]:
    return {s.file: f"{s.reason} {s.remedy}" for s in report.skipped}


def test_link_out_of_the_folder_is_reported_and_never_indexed(folders, tmp_path):
    corpus, outside = folders
    (corpus / "passwd.txt").symlink_to(outside / "passwd.txt")
    (corpus / "map").symlink_to(outside, target_is_directory=True)
    r = build([corpus], tmp_path / "ix", FakeEncoder())
    why = reasons(r)
    assert r.added == ["a.txt"]
    assert "points outside the corpus folder" in why["passwd.txt"] and "Copy the file into" in why["passwd.txt"]
    assert "points outside the corpus folder" in why["map"]
    texts = " ".join(p.text for p in store.IndexReader(tmp_path / "ix").passages())
    assert "geheim" not in texts


def test_dangling_link_is_reported(folders, tmp_path):
    corpus, _ = folders
    (corpus / "weg.txt").symlink_to(tmp_path / "bestaat-niet.txt")
    (corpus / "lus.txt").symlink_to(corpus / "lus.txt")  # a link to itself
    r = build([corpus], tmp_path / "ix", FakeEncoder())
    why = reasons(r)
    assert "does not exist" in why["weg.txt"] and "Remove the link" in why["weg.txt"]
    assert "loop of links" in why["lus.txt"]
    assert r.added == ["a.txt"]


def test_links_inside_the_folder_are_followed(folders, tmp_path):
    corpus, _ = folders
    (corpus / "sub").mkdir()
    (corpus / "sub" / "b.txt").write_text("Brief B over de beslistermijn van zes maanden.\n", encoding="utf-8")
    (corpus / "b-link.txt").symlink_to(Path("sub") / "b.txt")
    (corpus / "sub-link").symlink_to("sub", target_is_directory=True)  # its files are indexed once, in sub/
    r = build([corpus], tmp_path / "ix", FakeEncoder())
    assert sorted(r.added) == ["a.txt", "b-link.txt", "b.txt"] and not r.skipped


def test_a_sidecar_linked_out_of_the_folder_skips_its_document(folders, tmp_path):
    corpus, outside = folders
    from tests.conftest import NOTE_PDF

    (corpus / "nota.pdf").write_bytes(NOTE_PDF.read_bytes())
    (outside / "meta.yaml").write_text("title: Van buiten\n", encoding="utf-8")
    (corpus / "nota.pdf.yaml").symlink_to(outside / "meta.yaml")
    r = build([corpus], tmp_path / "ix", FakeEncoder())
    assert "its metadata file nota.pdf.yaml is a symbolic link that points outside" in reasons(r)["nota.pdf"]


def test_special_files_are_reported(folders, tmp_path):
    corpus, _ = folders
    os.mkfifo(corpus / "pijp.txt")
    r = build([corpus], tmp_path / "ix", FakeEncoder())  # reading a pipe would wait forever
    assert "not a regular file" in reasons(r)["pijp.txt"]


def test_names_with_control_characters_are_skipped_and_shown_escaped(folders, tmp_path):
    corpus, _ = folders
    (corpus / "nota\x1b[2J\x1b]0;pwned\x07.txt").write_text(DOC, encoding="utf-8")
    (corpus / "factuur\u202etxt.exe.txt").write_text(DOC, encoding="utf-8")
    (corpus / os.fsdecode(b"caf\xe9.txt")).write_text(DOC, encoding="utf-8")  # latin-1 name
    r = build([corpus], tmp_path / "ix", FakeEncoder())
    why = reasons(r)
    assert set(why) == {"nota\\x1b[2J\\x1b]0;pwned\\x07.txt", "factuur\\u202etxt.exe.txt", "caf\\xe9.txt"}
    assert "control characters" in why["nota\\x1b[2J\\x1b]0;pwned\\x07.txt"]
    assert "not valid UTF-8" in why["caf\\xe9.txt"]
    assert r.added == ["a.txt"]
    assert all(s.isprintable() for s in str(r.to_dict()))


def test_a_folder_with_a_bad_name_is_reported_not_walked(folders, tmp_path):
    corpus, _ = folders
    bad = corpus / os.fsdecode(b"map-\xff")
    bad.mkdir()
    (bad / "b.txt").write_text(DOC, encoding="utf-8")
    r = build([corpus], tmp_path / "ix", FakeEncoder())  # its path would not fit in the index's database
    assert r.added == ["a.txt"]
    assert [str(s) for s in r.skipped] == [
        f"{corpus}/map-\\xff: is a folder whose name is not valid UTF-8. Rename it (letters, digits, '-', '_' and '.')."
    ]


def test_shown_escapes_like_repr_and_keeps_letters():
    assert shown("Oekraïne\x1b[31m\n\t€") == "Oekraïne\\x1b[31m\\x0a\\x09€"
    assert shown("a\u200bb\u2028c") == "a\\u200bb\\u2028c"
    assert str(Skipped("x\x1b.txt", "reden\x07.", "doe\rdit.")) == "x\\x1b.txt: reden\\x07. doe\\x0ddit."


def test_scan_gives_the_files_the_build_reads(folders):
    corpus, outside = folders
    (corpus / "passwd.txt").symlink_to(outside / "passwd.txt")
    files, skipped = scan([corpus])
    assert files == [corpus / "a.txt"] and [s.file for s in skipped] == ["passwd.txt"]
