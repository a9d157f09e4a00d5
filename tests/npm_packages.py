"""npm packages the browser tests need (the login test's OpenID Connect provider, axe-core for the
accessibility check), installed at test time into a cache folder outside the repo, never committed.
Without node/npm the tests skip; under CI=true (.ci/run installs them) they fail."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

NPM_CACHE_ENV = "BELEIDSWIJZER_TEST_NPM"  # where npm packages are installed (default ~/.cache/beleidswijzer-test-npm)


def missing(msg: str) -> None:
    """A missing tool: a failure under CI=true (.ci/run installs what these tests need), a skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def require_node(minimum: tuple[int, int], needed_by: str) -> tuple[str, str]:
    """Paths of node and npm, with Node.js at least `minimum` (for the package `needed_by`)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing("node or npm not found; install the Debian packages nodejs and npm (.ci/run installs them)")
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    found = tuple(int(n) for n in re.findall(r"\d+", out)[:2])
    if found < minimum:
        missing(f"node {out} is too old for {needed_by}; it needs {'.'.join(map(str, minimum))} or newer")
    return node, npm


def install(npm: str, package: str, version: str) -> Path:
    """The node_modules folder holding `package`@`version`, installed once into the cache folder
    (in a temp folder first, then renamed, so an interrupted install is never taken as done)."""
    cache = Path(os.environ.get(NPM_CACHE_ENV) or Path.home() / ".cache" / "beleidswijzer-test-npm")
    target = cache / f"{package}-{version}"
    if (target / "node_modules" / package / "package.json").is_file():
        return target / "node_modules"
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".install-", dir=cache))
    try:
        done = subprocess.run(
            [npm, "install", "--prefix", str(work), "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock",
             "--loglevel=error", f"{package}@{version}"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            missing(f"npm install {package}@{version} failed: {(done.stderr or done.stdout)[-800:]}")
        try:
            work.rename(target)
        except OSError:  # another run installed it meanwhile
            pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / "node_modules"
