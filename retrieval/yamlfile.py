"""Reading YAML data files: the shipped query files (lexicon, thesaurus, gazetteer) fast, and the
list files of the evaluation (question sets, eval/sets.yaml, conversations) entry by entry."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

# libyaml's loader (PyYAML wheels include it) parses the lexicon (59 KB) and the thesaurus (81 KB)
# in ~30 ms each, ten times faster than the pure-Python loader; both are safe loaders.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """The YAML document in `path` (UTF-8), with plain data types only; a syntax error is a
    ValueError naming the file, like the content checks of the files' readers."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None


def entries(path: Path, key: str, error: type[ValueError], name: str = "id", bare_list: bool = False) -> Iterator[tuple[str, dict]]:
    """(where, entry) for each entry of the list under `key` in a YAML file, `where` naming the
    file, the entry's number and its `name` field for messages; `error` when the file cannot be
    read, holds no such list (a bare list is accepted with `bare_list`), or an entry is not a mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"cannot read {path}: {exc}") from None
    items = data.get(key) if isinstance(data, dict) else data if bare_list else None
    if not isinstance(items, list) or not items:
        raise error(f"{path}: expected a list under '{key}:'")
    for n, item in enumerate(items, 1):
        where = f"{path}, entry {n} ({item.get(name, '?') if isinstance(item, dict) else '?'})"
        if not isinstance(item, dict):
            raise error(f"{where}: each entry must be a mapping")
        yield where, item
