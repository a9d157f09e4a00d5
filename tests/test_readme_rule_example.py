"""The README's 'Adding a rule' example works as written: only a YAML file and its scenarios."""
from __future__ import annotations

import re
import shutil

import yaml

import rules
from rules.loader import DEFINITIONS_DIR
from tests.conftest import REPO


def test_readme_fourth_rule_example_loads_and_passes_its_scenarios(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = dict((path, body) for body, path in re.findall(r"```yaml\n(# (\S+)\n.*?)```", readme, re.S))
    rule_yaml = blocks["rules/definitions/uitsluiting-1f.yaml"]
    scenarios = yaml.safe_load(blocks["tests/rules_scenarios/uitsluiting-1f.yaml"])["scenarios"]
    defs = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_DIR, defs)
    (defs / "uitsluiting-1f.yaml").write_text(rule_yaml, encoding="utf-8")
    assert "uitsluiting-1f" in rules.load_rules(defs)
    for sc in scenarios:
        result = rules.check("uitsluiting-1f", sc["facts"], sc["reference_date"], directory=defs).to_dict()
        for key, expected in sc["expect"].items():
            assert result[key] == expected, (sc["name"], key, result[key])
