"""The command line through a subprocess: JSON shapes, stdin, the text rendering, and exit code 2
with a one-line error naming the value and the allowed choices."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rules.cli import main
from tests.conftest import REPO

EXAMPLE = {"application_date": "2022-06-01", "decision_date": None, "moratorium": False}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rules", *args], cwd=REPO, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_list_json():
    proc = run("list", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {r["id"]: r for r in json.loads(proc.stdout)}
    assert set(listed) == {"beslistermijn", "bvm-dienstplichtigen", "dienstweigering-vluchteling"}
    for rule in listed.values():
        assert rule["title"] and rule["rule_version"].startswith("sha256:")
        for fact in rule["facts"]:
            assert {"name", "type", "label", "question"} <= set(fact)
    category = {f["name"]: f for f in listed["bvm-dienstplichtigen"]["facts"]}["category"]
    assert category["type"] == "enum" and "gemobiliseerde" in category["allowed_values"]
    assert listed["bvm-dienstplichtigen"]["outcomes"] == [
        "not-applicable", "excluded", "applies", "insufficient-facts", "not-in-force"]


def test_list_text():
    proc = run("list")
    assert proc.returncode == 0
    assert "bvm-dienstplichtigen — " in proc.stdout and "category: enum (dienstplichtige" in proc.stdout


def test_check_json_from_file(tmp_path: Path):
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(EXAMPLE), encoding="utf-8")
    proc = run("check", "beslistermijn", "--facts", str(facts), "--on", "2022-10-01", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out)[:5] == ["rule", "title", "rule_version", "reference_date", "outcome"]
    assert (out["rule"], out["reference_date"], out["outcome"]) == ("beslistermijn", "2022-10-01", "computed")
    assert (out["deadline"], out["months"]) == ("2023-09-01", 15)
    assert [e["id"] for e in out["extensions"]] == ["wbv-2022-22"]
    assert out["trace"] and all("source" in step for step in out["trace"])


def test_check_json_from_stdin_with_reference_date_in_facts():
    facts = {**EXAMPLE, "reference_date": "2022-09-26"}
    proc = run("check", "beslistermijn", "--facts", "-", "--json", stdin=json.dumps(facts))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["reference_date"], out["deadline"], out["months"]) == ("2022-09-26", "2022-12-01", 6)


def test_check_with_preset():
    proc = run("check", "dienstweigering-vluchteling", "--facts", "-", "--on", "2023-01-01", "--json",
               "--preset", "russische-gemobiliseerde-oekraine", stdin='{"g1_no_alternative": true}')
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["outcome"], out["grounds_met"]) == ("refugee-ground-met", [1])
    assert len(out["presets_applied"]) == 2


def test_check_text_rendering():
    proc = run("check", "bvm-dienstplichtigen", "--facts", "-", "--on", "2022-10-01",
               stdin='{"nationality": "RUS", "category": "gemobiliseerde"}')
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[2] == "Uitkomst: not-applicable — Niet van toepassing: voor gemobiliseerden geldt geen BVM"
    assert "  1. [voldaan] Regel in werking op de peildatum" in lines
    assert any(line.startswith("     bron: Nota Beleidsconsequenties mobilisatie Rusland, p. 3:") for line in lines)


@pytest.mark.parametrize("args,stdin,message", [
    (["check", "bvm", "--facts", "-"], "{}",
     "error: unknown rule 'bvm'; allowed: beslistermijn, bvm-dienstplichtigen, dienstweigering-vluchteling"),
    (["check", "beslistermijn", "--facts", "-"], '{"aplication_date": "2022-06-01"}',
     "error: unknown fact 'aplication_date' for rule 'beslistermijn'; allowed: application_date, decision_date, moratorium, reference_date"),
    (["check", "bvm-dienstplichtigen", "--facts", "-"], '{"age": "22"}',
     "error: fact 'age': expected an integer or null, got '22' (str)"),
    (["check", "bvm-dienstplichtigen", "--facts", "-"], '{"category": "soldaat"}',
     "error: fact 'category': 'soldaat' is not allowed; allowed: dienstplichtige, gemobiliseerde, beroepsmilitair, anders"),
    (["check", "beslistermijn", "--facts", "-"], '{"moratorium": "ja"}',
     "error: fact 'moratorium': expected true or false or null, got 'ja' (str)"),
    (["check", "beslistermijn", "--facts", "-"], "{not json",
     "error: --facts standard input: not valid JSON (Expecting property name enclosed in double quotes at line 1)"),
    (["check", "beslistermijn", "--facts", "-"], "[1, 2]",
     "error: --facts standard input: expected a JSON object {\"fact\": value, ...}, got list"),
    (["check", "beslistermijn", "--facts", "/nonexistent/facts.json"], None,
     "error: --facts /nonexistent/facts.json: cannot read (No such file or directory)"),
    (["check", "beslistermijn", "--facts", "-", "--on", "1-10-2022"], "{}",
     "error: fact 'reference_date': expected an ISO date (YYYY-MM-DD), got '1-10-2022'"),
    (["check", "dienstweigering-vluchteling", "--facts", "-", "--preset", "x"], "{}",
     "error: unknown preset 'x' for rule 'dienstweigering-vluchteling'; allowed: russische-gemobiliseerde-oekraine"),
])
def test_errors_exit_2_with_one_line(args, stdin, message):
    proc = run(*args, stdin=stdin)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [message]


def test_missing_arguments_exit_2():
    assert run("check", "beslistermijn").returncode == 2
    assert run("frobnicate").returncode == 2


@pytest.mark.parametrize("facts, message", [
    ({"application_date": "9999-12-31"}, "fact 'application_date' (Datum aanvraag): 9999-12-31 lies outside the plausible range; allowed: 2001-04-01 to today"),
    ({"application_date": "2099-01-01"}, "2099-01-01 lies outside the plausible range"),
    ({"application_date": "1850-01-01"}, "1850-01-01 lies outside the plausible range"),
    ({"application_date": "2022-06-01", "decision_date": "2022-01-01"},
     "fact 'decision_date' (Datum beslissing): 2022-01-01 lies before 'application_date' (2022-06-01); allowed: 2022-06-01 or later"),
])  # fmt: skip
def test_implausible_facts_are_refused_with_one_sentence_and_exit_code_2(tmp_path, capsys, facts, message):
    f = tmp_path / "facts.json"
    f.write_text(json.dumps(facts), encoding="utf-8")
    assert main(["check", "beslistermijn", "--facts", str(f), "--on", "2022-10-01"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_deeply_nested_facts_are_refused_with_one_sentence(tmp_path, capsys):
    f = tmp_path / "facts.json"
    f.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert main(["check", "beslistermijn", "--facts", str(f)]) == 2
    assert "nested too deeply" in capsys.readouterr().err
