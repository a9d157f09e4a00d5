"""The evaluation sets: eval/sets.yaml lists the question files in eval/, each with its role (the
one tuning set, or a check set never tuned on), a line on what it holds and its regression floors.

retrieval.evaluate takes its default question file from here (the tuning set), retrieval.calibrate
its check sets, and the integration tests the floors. The floors are checked here for their shape
(mode -> language or "all" -> metric -> a number between 0 and 1); tests/test_evalsets.py checks
that every mode, language and metric they name is one retrieval.evaluate reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retrieval.yamlfile import entries

SETS_FILE = Path(__file__).resolve().parents[1] / "eval" / "sets.yaml"
ROLES = ("tune", "check", "conversations")
KEYS = ("file", "role", "description", "floors")


class EvalSetsError(ValueError):
    """eval/sets.yaml is malformed; the message names the file, the entry and what is allowed."""


@dataclass(frozen=True)
class EvalSet:
    file: str  # the question file's name, in the folder of sets.yaml
    path: Path
    role: str  # "tune" or "check"
    description: str
    floors: dict  # mode -> "nl" | "en" | "all" -> metric -> the lowest value the tests accept

    def below_floor(self, metrics: dict) -> list[str]:
        """The floors that `metrics` (retrieval.evaluate's report["metrics"]) does not reach, as
        "mode group metric: value < floor"; empty when it reaches them all."""
        out = []
        for mode, groups in self.floors.items():
            for group, floors in groups.items():
                for metric, floor in floors.items():
                    value = metrics[mode][group][metric]
                    if value is None or not value >= floor:
                        out.append(f"{mode} {group} {metric}: {value} < {floor}")
        return out


def load_sets(path: Path | str = SETS_FILE) -> tuple[EvalSet, ...]:
    """The sets listed in `path` (`sets: [{file, role, description, floors}]`), in its order."""
    path = Path(path)
    out: list[EvalSet] = []
    for where, item in entries(path, "sets", EvalSetsError, name="file"):
        unknown = [str(k) for k in item if k not in KEYS]
        if unknown:
            raise EvalSetsError(f"{where}: unknown key {', '.join(unknown)}; allowed: {', '.join(KEYS)}")
        missing = [k for k in ("file", "role", "description") if not item.get(k)]
        if missing:
            raise EvalSetsError(f"{where}: missing {', '.join(missing)}")
        file, role, description = item["file"], item["role"], item["description"]
        if not isinstance(file, str) or Path(file).name != file or not file.endswith(".yaml") or file == path.name:
            raise EvalSetsError(f"{where}: file must be the name of a question file (.yaml) in {path.parent}")
        if any(s.file == file for s in out):
            raise EvalSetsError(f"{where}: {file} is listed twice")
        if role not in ROLES:
            raise EvalSetsError(f"{where}: role '{role}' is not one of {', '.join(ROLES)}")
        if not isinstance(description, str) or "\n" in description.strip():
            raise EvalSetsError(f"{where}: description must be one line")
        floors = item.get("floors") or {}
        if role == "check" and not floors:
            raise EvalSetsError(f"{where}: a check set needs floors")
        _check_floors(floors, where)
        out.append(EvalSet(file, path.parent / file, role, description.strip(), floors))
    if not any(s.role == "tune" for s in out):
        raise EvalSetsError(f"{path}: at least one set must have role 'tune', found none")
    return tuple(out)


def _check_floors(floors: object, where: str) -> None:
    shape = "floors must map a mode to nl, en or all, each to metrics with a floor between 0 and 1"
    if not isinstance(floors, dict):
        raise EvalSetsError(f"{where}: {shape}")
    for mode, groups in floors.items():
        if not isinstance(groups, dict) or not groups:
            raise EvalSetsError(f"{where}: floors of mode '{mode}': {shape}")
        for group, metrics in groups.items():
            if not isinstance(metrics, dict) or not metrics:
                raise EvalSetsError(f"{where}: floors of {mode} {group}: {shape}")
            for metric, floor in metrics.items():
                if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not 0 <= floor <= 1:
                    raise EvalSetsError(f"{where}: floor of {mode} {group} {metric} is {floor!r}, not a number between 0 and 1")


def tune_set(path: Path | str = SETS_FILE) -> EvalSet:
    """The first tuning set (eval/questions.yaml): the fusion weights are fitted on it, and it is
    retrieval.evaluate's default."""
    return next(s for s in load_sets(path) if s.role == "tune")


def tune_sets(path: Path | str = SETS_FILE) -> tuple[EvalSet, ...]:
    """Every tuning set: the confidence model (retrieval.confidence) is fitted on all of them."""
    return tuple(s for s in load_sets(path) if s.role == "tune")


def conversation_sets(path: Path | str = SETS_FILE) -> tuple[EvalSet, ...]:
    """The files of two-turn conversations (retrieval.evaluate --conversations)."""
    return tuple(s for s in load_sets(path) if s.role == "conversations")


def check_sets(path: Path | str = SETS_FILE) -> tuple[EvalSet, ...]:
    """The sets written apart and never tuned on, in the order of the file."""
    return tuple(s for s in load_sets(path) if s.role == "check")
