"""Colour contrast of the app's theme (.streamlit/config.toml) and of our own CSS and chart colours,
computed with WCAG 2.1's relative luminance and contrast ratio, without a browser: a colour
change that drops a pair under 4.5:1 (text) or 3:1 (graphical objects, WCAG 1.4.11) fails here.
The browser test (test_accessibility_browser.py) checks the rendered pages with axe-core."""
from __future__ import annotations

import re
import tomllib

import pytest

from tests.conftest import REPO
from rules import diagram
from ui import a11y, charts, pdf_view, rule_view, text

TEXT, LARGE_OR_GRAPHIC = 4.5, 3.0
CAPTION_OPACITY = 0.6  # Streamlit draws captions (fadedText60) in the text colour at 60% opacity
PALETTE = ("red", "orange", "yellow", "blue", "green", "violet", "gray")
THEME = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]


def rgb(colour: str) -> tuple[float, float, float]:
    """'#ffe066' or '#111' -> (r, g, b) in 0..255."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    assert re.fullmatch(r"[0-9a-fA-F]{6}", h), colour
    return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))


def luminance(c: tuple[float, float, float]) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""

    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a, b) -> float:
    """The contrast ratio of two colours (hex strings or rgb tuples), 1..21."""
    la, lb = sorted((luminance(rgb(a) if isinstance(a, str) else a), luminance(rgb(b) if isinstance(b, str) else b)))
    return (lb + 0.05) / (la + 0.05)


def over(colour, background, alpha: float) -> tuple[float, float, float]:
    """`colour` at opacity `alpha` drawn over `background`."""
    fg, bg = (rgb(c) if isinstance(c, str) else c for c in (colour, background))
    return tuple(alpha * f + (1 - alpha) * b for f, b in zip(fg, bg))


def css(style: str, prop: str) -> str:
    found = re.search(rf"(?:^|;)\s*{prop}\s*:\s*(#[0-9a-fA-F]{{3,6}})", style)
    assert found, f"{prop} not in {style!r}"
    return found.group(1)


def theme_pairs() -> list[tuple[str, object, object, float]]:
    """(what, foreground, background, minimum) for every text colour of the theme where it is drawn."""
    bg, side, fg = THEME["backgroundColor"], THEME["secondaryBackgroundColor"], THEME["textColor"]
    pairs = [
        ("text on the page", fg, bg, TEXT),
        ("text in the sidebar and widgets", fg, side, TEXT),
        ("caption on the page", over(fg, bg, CAPTION_OPACITY), bg, TEXT),
        ("caption in the sidebar", over(fg, side, CAPTION_OPACITY), side, TEXT),
        ("primary button label (white)", "#ffffff", THEME["primaryColor"], TEXT),
        ("primary colour as text on the page", THEME["primaryColor"], bg, TEXT),
        ("link", THEME["linkColor"], bg, TEXT),
        ("code (citations)", THEME["codeTextColor"], THEME["codeBackgroundColor"], TEXT),
    ]
    for c in PALETTE:
        pairs.append((f"{c} badge", THEME[f"{c}TextColor"], THEME[f"{c}BackgroundColor"], TEXT))
        pairs.append((f"{c} text on the page", THEME[f"{c}TextColor"], bg, TEXT))
    return pairs


def css_pairs() -> list[tuple[str, object, object, float]]:
    """Our own colours: the quote highlight, the passage in context, a rule source's phrase, the
    PDF page's highlights (black print under the translucent fill), the focus ring and the timeline's
    bars and lines."""
    white = THEME["backgroundColor"]
    pairs = [
        ("quote highlight", css(text.STYLE_QUOTE, "color"), css(text.STYLE_QUOTE, "background"), TEXT),
        ("passage in context", css(text.STYLE_PASSAGE, "color"), css(text.STYLE_PASSAGE, "background"), TEXT),
        ("cited phrase of a rule source", css(rule_view.PHRASE_STYLE, "color"), white, TEXT),
        ("keyboard focus ring", a11y.FOCUS_COLOUR, white, LARGE_OR_GRAPHIC),
        ("decision diagram: a grey edge label", diagram.LABEL_COLOUR, white, TEXT),
        ("PDF page: print in the quote highlight", "#000000", over(pdf_view.QUOTE_RGBA[:3], white, pdf_view.QUOTE_RGBA[3] / 255), TEXT),
        ("PDF page: print in the passage highlight", "#000000", over(pdf_view.PASSAGE_RGBA[:3], white, pdf_view.PASSAGE_RGBA[3] / 255), TEXT),
    ]  # fmt: skip
    for kind, colour in {**charts.KIND_COLOURS, **charts.MARKER_COLOURS}.items():
        pairs.append((f"timeline: {kind}", colour, white, LARGE_OR_GRAPHIC))
    return pairs


def test_the_luminance_formula_gives_wcag_s_known_ratios():
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest grey that passes on white
    assert ratio("#777777", "#ffffff") < TEXT
    assert over("#000000", "#ffffff", 0.5) == (127.5, 127.5, 127.5)


def test_streamlit_s_default_caption_colour_would_fail():
    """Why the theme sets a near-black text colour: Streamlit's default gives captions under 4.5:1."""
    assert ratio(over("#2f2d2b", "#ffffff", CAPTION_OPACITY), "#ffffff") < TEXT


@pytest.mark.parametrize("what, fg, bg, minimum", theme_pairs(), ids=[p[0] for p in theme_pairs()])
def test_theme_colours_meet_wcag_aa(what, fg, bg, minimum):
    assert ratio(fg, bg) >= minimum, f"{what}: {ratio(fg, bg):.2f}:1 < {minimum}:1"


@pytest.mark.parametrize("what, fg, bg, minimum", css_pairs(), ids=[p[0] for p in css_pairs()])
def test_our_css_and_chart_colours_meet_wcag_aa(what, fg, bg, minimum):
    assert ratio(fg, bg) >= minimum, f"{what}: {ratio(fg, bg):.2f}:1 < {minimum}:1"
