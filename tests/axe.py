"""axe-core (Deque, npm) in the browser tests: inject it into the page Selenium shows, run the
WCAG 2.0/2.1 A and AA rules and return the serious and critical violations that are not on the
allow-list below, nor the contrast of a disabled control (which WCAG exempts). The allow-list is the
README's ("Accessibility"): keep both the same."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.npm_packages import install, require_node

AXE_PACKAGE, AXE_VERSION = "axe-core", "4.11.0"
NODE_MIN = (16, 0)  # only npm runs; axe-core itself runs in Chromium
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Allowed:
    """A violation from Streamlit's own markup that no theme, config or change of our pages removes."""

    rule: str  # the axe rule id
    target: str  # a string in the CSS selector axe reports for the element
    upstream: str  # the Streamlit issue it belongs to
    why: str


ALLOWED: tuple[Allowed, ...] = ()


@cache
def axe_script() -> str:
    """The axe-core source (installed once into the npm cache folder, outside the repo)."""
    _, npm = require_node(NODE_MIN, f"{AXE_PACKAGE} {AXE_VERSION}")
    return (install(npm, AXE_PACKAGE, AXE_VERSION) / AXE_PACKAGE / "axe.min.js").read_text(encoding="utf-8")


def allowed(rule: str, target: str) -> bool:
    return any(a.rule == rule and a.target in target for a in ALLOWED)


def inactive(browser, target: str) -> bool:
    """Whether the element belongs to a disabled widget (a date field switched off by 'nog niet
    beslist'): WCAG 1.4.3 asks no contrast of inactive controls, but axe cannot tell, because
    Streamlit's label is not tied to the disabled field."""
    return browser.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "const box = e && e.closest(\"[data-testid='stElementContainer']\");"
        "return !!(box && box.querySelector('input:disabled, button:disabled, [aria-disabled=\"true\"]'));",
        target,
    )


def violations(browser, page: str) -> list[str]:
    """The page's serious and critical WCAG 2.1 A/AA violations not on the allow-list, one line
    each: page, impact, rule, element, what axe says to fix."""
    if not browser.execute_script("return typeof window.axe === 'object'"):
        browser.execute_script(axe_script())
    browser.set_script_timeout(60)
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical', nodes: [{target: [String(e)]}]}]));",
        list(TAGS),
    )  # fmt: skip
    out = []
    for v in found:
        if v.get("impact") not in BLOCKING:
            continue
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node.get("target", []))
            if allowed(v["id"], target) or (v["id"] == "color-contrast" and inactive(browser, target)):
                continue
            summary = " ".join((node.get("failureSummary") or "").split())
            out.append(f"{page}: {v['impact']} {v['id']} at {target} {node.get('html', '')[:120]!r}: {summary[:300]}")
    return out
