"""Charts (Altair): the term timeline of a rule check, from application date to deadline, each
part a bar labelled by its legal basis, with the dates that matter marked."""
from __future__ import annotations

import altair as alt

from rules.timeline import Timeline
from ui.i18n import fmt_date, t

# at least 3:1 on white, as graphical objects need (WCAG 1.4.11; tests/test_contrast.py)
KIND_COLOURS = {"base": "#4263eb", "extension": "#e8590c", "cap": "#868e96"}
MARKER_COLOURS = {"start": "#495057", "deadline": "#c92a2a", "decision": "#2b8a3e", "reference": "#7048e8",
                  "today": "#1098ad"}  # fmt: skip
ROW_HEIGHT = 46  # pixels per bar (two label lines: what it is, and its legal basis)


def timeline_height(timeline: Timeline) -> int:
    """The chart's height in pixels: a row per segment, the axis, and a legend line per marker."""
    return ROW_HEIGHT * len(timeline.segments) + 50 + 20 * len(timeline.markers)


def term_timeline_chart(timeline: Timeline) -> alt.LayerChart:
    """Bars from start to deadline (base term, each extension; a cap as the part it cuts off),
    each labelled with what it is and its legal basis (two-line axis label) and its months;
    dashed rules for start, deadline, decision, reference date and today, named in the legend."""
    rows = []
    for i, s in enumerate(timeline.segments, 1):
        rows.append({
            "row": f"{i}. {s.label}|{s.basis}" if s.basis else f"{i}. {s.label}",
            "kind": t(f"tl_kind_{s.kind}"), "kind_id": s.kind, "basis": s.basis,
            "start": s.start.isoformat(), "end": s.end.isoformat(),
            "months": t("tl_months", months=f"{s.months:+d}" if s.kind != "base" else s.months),
            "period": f"{fmt_date(s.start.isoformat())} – {fmt_date(s.end.isoformat())}",
        })  # fmt: skip
    order = [r["row"] for r in rows]
    markers = [{"day": m.day.isoformat(), "label": f"{t('tl_' + m.id)} {fmt_date(m.day.isoformat())}", "id": m.id}
               for m in timeline.markers]  # fmt: skip
    y = alt.Y("row:N", sort=order, title=None,
              axis=alt.Axis(labelExpr="split(datum.label, '|')", labelLimit=430, labelFontSize=12, labelPadding=8))
    bars = alt.Chart(alt.Data(values=rows)).mark_bar(cornerRadius=3, height=ROW_HEIGHT * 0.5).encode(
        x=alt.X("start:T", title=None, axis=alt.Axis(format="%d-%m-%Y", labelAngle=0, grid=True, tickCount=6)),
        x2="end:T", y=y,
        color=alt.Color("kind_id:N", scale=alt.Scale(domain=list(KIND_COLOURS), range=list(KIND_COLOURS.values())),
                        legend=None),
        tooltip=[alt.Tooltip("kind:N", title=t("tl_col_kind")), alt.Tooltip("period:N", title=t("tl_col_period")),
                 alt.Tooltip("basis:N", title=t("tl_col_basis"))],
    )  # fmt: skip
    months = alt.Chart(alt.Data(values=rows)).mark_text(align="left", dx=5, fontSize=12, fontWeight="bold").encode(
        x="end:T", y=y, text="months:N",
    )  # fmt: skip
    labels = [m["label"] for m in markers]
    marks = alt.Chart(alt.Data(values=markers)).mark_rule(strokeDash=[5, 3], strokeWidth=2).encode(
        x="day:T",
        color=alt.Color("label:N", sort=labels,
                        scale=alt.Scale(domain=labels, range=[MARKER_COLOURS.get(m["id"], "#868e96") for m in markers]),
                        legend=alt.Legend(title=None, orient="bottom", direction="vertical", symbolType="stroke",
                                          labelFontSize=12, labelLimit=300)),
        tooltip=[alt.Tooltip("label:N", title=t("tl_col_date"))],
    )  # fmt: skip
    return alt.layer(bars, months, marks).resolve_scale(color="independent")


def timeline_lines(timeline: Timeline) -> list[str]:
    """The timeline as text (its text alternative, WCAG 1.1.1): each part with its period, months
    and legal basis, then each marked date; what the chart shows, in the same words."""
    lines = []
    for i, s in enumerate(timeline.segments, 1):
        months = t("tl_months", months=f"{s.months:+d}" if s.kind != "base" else s.months)
        period = f"{fmt_date(s.start.isoformat())} – {fmt_date(s.end.isoformat())}"
        basis = f" ({s.basis})" if s.basis else ""
        lines.append(f"{i}. {s.label}{basis}: {t('tl_kind_' + s.kind)}, {period}, {months}")
    lines += [f"{t('tl_' + m.id)}: {fmt_date(m.day.isoformat())}" for m in timeline.markers]
    return lines
