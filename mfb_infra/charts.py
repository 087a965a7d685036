"""Static SVG/HTML drawings of Metabase card results, for `mfb-infra preview`.

Pure functions, no network, no third-party chart library: each takes a `Result` (column names
and rows as the database returned them) and the card's display and visualization settings, and
returns an HTML fragment (inline SVG for charts). What Metabase would show is approximated as
far as the settings we declare apply: `graph.dimensions` / `graph.metrics` (a second dimension is
a breakout into series), `pie.dimension` / `pie.metric`, `column_settings` number styles
(percent, currency, decimals), `graph.x_axis.title_text` / `graph.y_axis.title_text`,
`stackable.stack_type`.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PALETTE = (
    "#509EE3", "#88BF4D", "#A989C5", "#EF8C8C", "#F9D45C",
    "#F2A86F", "#98D9D9", "#7172AD", "#6C7A89", "#E75C5C",
)  # fmt: skip
DISPLAYS = ("scalar", "bar", "row", "line", "area", "pie", "table", "funnel", "combo", "text")
MAX_TABLE_ROWS = 50
W, H = 480.0, 260.0  # the SVG viewBox every chart draws in; CSS scales it to the card


class ChartError(ValueError):
    """The result cannot be drawn as the card's display (names the reason)."""


@dataclass(frozen=True)
class Result:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.rows

    def index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise ChartError(f"column {name!r} not in result {list(self.columns)}") from None


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------------------------
# number formatting (column_settings)
# --------------------------------------------------------------------------------------------
def _style(settings: dict[str, Any], column: str) -> dict[str, Any]:
    cs = settings.get("column_settings") or {}
    return dict(cs.get(f'["name","{column}"]') or {})


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool)


def fmt_value(value: Any, settings: dict[str, Any], column: str) -> str:
    """A cell as Metabase would show it, per the column's number style."""
    if value is None:
        return "—"
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if not _is_number(value):
        return str(value)
    style = _style(settings, column)
    x = float(value)
    kind = style.get("number_style")
    decimals = style.get("decimals")
    if kind == "percent":
        # Metabase's percent style multiplies a ratio by 100; our cards return ratios
        d = 1 if decimals is None else int(decimals)
        return f"{x * 100:,.{d}f}%"
    if kind == "currency":
        d = 0 if decimals is None else int(decimals)
        sign = "-" if x < 0 else ""
        return f"{sign}${abs(x):,.{d}f}"
    if decimals is not None:
        return f"{x:,.{int(decimals)}f}"
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}"


def _short(x: float) -> str:
    ax = abs(x)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if ax >= div:
            return f"{x / div:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


def _num(v: Any) -> float:
    if v is None:
        return 0.0
    if _is_number(v):
        return float(v)
    raise ChartError(f"value {v!r} is not a number")


# --------------------------------------------------------------------------------------------
# series extraction
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


def series_of(result: Result, settings: dict[str, Any]) -> tuple[str, list[str], list[Series], str]:
    """(dimension name, category labels, series, the metric column for number styles).

    Dimensions: `graph.dimensions` or the first column; a second dimension breaks the rows out
    into one series per value. Metrics: `graph.metrics` or every numeric column after the
    dimensions.
    """
    if not result.columns:
        raise ChartError("the query returned no columns")
    dims = list(settings.get("graph.dimensions") or [result.columns[0]])
    metrics = list(settings.get("graph.metrics") or [])
    dim_idx = [result.index(d) for d in dims]
    if not metrics:
        metrics = [
            c
            for i, c in enumerate(result.columns)
            if i not in dim_idx and any(_is_number(r[i]) for r in result.rows)
        ]
    if not metrics:
        raise ChartError(f"no numeric column to plot in {list(result.columns)}")
    met_idx = [result.index(m) for m in metrics]
    labels: list[str] = []
    for r in result.rows:
        label = fmt_value(r[dim_idx[0]], settings, dims[0])
        if label not in labels:
            labels.append(label)
    if len(dims) >= 2:
        breakout: dict[str, dict[str, float]] = {}
        for r in result.rows:
            key = fmt_value(r[dim_idx[1]], settings, dims[1])
            label = fmt_value(r[dim_idx[0]], settings, dims[0])
            breakout.setdefault(key, {})[label] = _num(r[met_idx[0]])
        series = [Series(k, tuple(v.get(lbl, 0.0) for lbl in labels)) for k, v in breakout.items()]
    else:
        series = []
        for name, i in zip(metrics, met_idx, strict=True):
            by_label: dict[str, float] = {}
            for r in result.rows:
                label = fmt_value(r[dim_idx[0]], settings, dims[0])
                by_label[label] = by_label.get(label, 0.0) + _num(r[i])
            series.append(Series(name, tuple(by_label[lbl] for lbl in labels)))
    return dims[0], labels, series, metrics[0]


# --------------------------------------------------------------------------------------------
# drawings
# --------------------------------------------------------------------------------------------
def _svg(body: str, *, label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {W:.0f} {H:.0f}" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _legend(series: Sequence[Series], x0: float, y: float) -> str:
    if len(series) < 2:
        return ""
    out, x = [], x0
    for i, s in enumerate(series[:8]):
        color = PALETTE[i % len(PALETTE)]
        out.append(
            f'<rect x="{x:.1f}" y="{y - 8:.1f}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14:.1f}" y="{y + 1:.1f}" class="lg">{esc(s.name[:18])}</text>'
        )
        x += 24 + 6.2 * min(len(s.name), 18)
    return "".join(out)


def _axis_max(values: Sequence[float], stacked: bool, series: Sequence[Series]) -> float:
    if stacked:
        top = max(sum(s.values[i] for s in series) for i in range(len(series[0].values)))
    else:
        top = max(values) if values else 0.0
    return top if top > 0 else 1.0


def draw_xy(result: Result, display: str, settings: dict[str, Any], title: str) -> str:
    """bar, line, area, combo: categories along x, metrics up y."""
    _dim, labels, series, metric = series_of(result, settings)
    stacked = settings.get("stackable.stack_type") in ("stacked", "normalized")
    left, right, top, bottom = 46.0, 10.0, 14.0, 46.0
    pw, ph = W - left - right, H - top - bottom
    all_vals = [v for s in series for v in s.values]
    vmax = _axis_max(all_vals, stacked, series)
    n = max(len(labels), 1)
    step = pw / n
    parts = [f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" class="ax"/>']
    for k in range(5):
        v = vmax * k / 4
        y = top + ph - ph * k / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" class="yt">{esc(_short(v))}</text>'
        )
    every = max(1, math.ceil(n / 12))
    for i, lbl in enumerate(labels):
        if i % every:
            continue
        x = left + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{top + ph + 14}" class="xt" '
            f'transform="rotate(-30 {x:.1f} {top + ph + 14})">{esc(lbl[:14])}</text>'
        )
    kinds = [display] * len(series)
    if display == "combo":
        kinds = ["bar"] + ["line"] * (len(series) - 1)
    bars = [i for i, k in enumerate(kinds) if k == "bar"]
    base = [0.0] * n
    for si, (s, kind) in enumerate(zip(series, kinds, strict=True)):
        color = PALETTE[si % len(PALETTE)]
        if kind == "bar":
            nb = 1 if stacked else len(bars)
            slot = 0 if stacked else bars.index(si)
            bw = max(step * 0.8 / nb, 0.8)
            for i, v in enumerate(s.values):
                h = ph * v / vmax
                y0 = top + ph - ph * base[i] / vmax if stacked else top + ph
                x = left + step * i + step * 0.1 + bw * slot
                parts.append(
                    f'<rect x="{x:.1f}" y="{y0 - h:.1f}" width="{bw:.1f}" height="{max(h, 0):.1f}" '
                    f'fill="{color}"><title>{esc(labels[i])}: '
                    f"{esc(fmt_value(v, settings, s.name))}</title></rect>"
                )
                if stacked:
                    base[i] += v
        else:
            pts = [
                (left + step * (i + 0.5), top + ph - ph * v / vmax) for i, v in enumerate(s.values)
            ]
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            if kind == "area" and pts:
                poly = f"{pts[0][0]:.1f},{top + ph} {path} {pts[-1][0]:.1f},{top + ph}"
                parts.append(f'<polygon points="{poly}" fill="{color}" fill-opacity="0.35"/>')
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
            if len(pts) <= 40:
                parts.extend(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in pts
                )
    parts.append(_legend(series, left, H - 4))
    xt = settings.get("graph.x_axis.title_text")
    yt = settings.get("graph.y_axis.title_text")
    if yt:
        parts.append(
            f'<text x="10" y="{top + ph / 2:.1f}" class="at" '
            f'transform="rotate(-90 10 {top + ph / 2:.1f})">{esc(yt)}</text>'
        )
    if xt:
        parts.append(f'<text x="{left + pw / 2:.1f}" y="{H - 16}" class="at">{esc(xt)}</text>')
    del metric
    return _svg("".join(parts), label=title)


def draw_row(result: Result, settings: dict[str, Any], title: str) -> str:
    """Horizontal bars: one per category, longest first as the rows come."""
    _dim, labels, series, metric = series_of(result, settings)
    s = series[0]
    shown = list(zip(labels, s.values, strict=True))[:15]
    vmax = max((v for _l, v in shown), default=0) or 1.0
    left, top = 130.0, 8.0
    bh = (H - top - 8) / max(len(shown), 1)
    parts = []
    for i, (lbl, v) in enumerate(shown):
        y = top + i * bh
        w = (W - left - 60) * v / vmax
        parts.append(
            f'<text x="{left - 6}" y="{y + bh * 0.65:.1f}" class="yt">{esc(lbl[:22])}</text>'
            f'<rect x="{left}" y="{y + bh * 0.15:.1f}" width="{w:.1f}" height="{bh * 0.7:.1f}" '
            f'fill="{PALETTE[0]}"/><text x="{left + w + 4:.1f}" y="{y + bh * 0.65:.1f}" '
            f'class="vl">{esc(fmt_value(v, settings, metric))}</text>'
        )
    return _svg("".join(parts), label=title)


def draw_pie(result: Result, settings: dict[str, Any], title: str) -> str:
    dim = settings.get("pie.dimension") or result.columns[0]
    metric = settings.get("pie.metric") or (
        result.columns[1] if len(result.columns) > 1 else result.columns[0]
    )
    di, mi = result.index(dim), result.index(metric)
    items = [(fmt_value(r[di], settings, dim), _num(r[mi])) for r in result.rows]
    total = sum(v for _l, v in items)
    if total <= 0:
        raise ChartError(f"pie metric {metric!r} sums to {total}")
    cx, cy, rad = 120.0, H / 2, 100.0
    parts, angle = [], -math.pi / 2
    for i, (lbl, v) in enumerate(items):
        color = PALETTE[i % len(PALETTE)]
        frac = v / total
        if frac >= 0.9999:
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{rad}" fill="{color}"/>')
        elif frac > 0:
            a2 = angle + 2 * math.pi * frac
            x1, y1 = cx + rad * math.cos(angle), cy + rad * math.sin(angle)
            x2, y2 = cx + rad * math.cos(a2), cy + rad * math.sin(a2)
            large = 1 if frac > 0.5 else 0
            parts.append(
                f'<path d="M{cx},{cy} L{x1:.2f},{y1:.2f} A{rad},{rad} 0 {large} 1 '
                f'{x2:.2f},{y2:.2f} Z" fill="{color}"><title>{esc(lbl)}</title></path>'
            )
            angle = a2
        if i < 10:
            y = 24 + i * 22
            parts.append(
                f'<rect x="250" y="{y - 9}" width="11" height="11" fill="{color}"/>'
                f'<text x="266" y="{y}" class="lg">{esc(lbl[:22])} · {100 * frac:.1f}%</text>'
            )
    parts.append(f'<circle cx="{cx}" cy="{cy}" r="{rad * 0.55}" fill="#fff"/>')
    parts.append(
        f'<text x="{cx}" y="{cy + 6}" class="pt">{esc(fmt_value(total, settings, metric))}</text>'
    )
    return _svg("".join(parts), label=title)


def draw_funnel(result: Result, settings: dict[str, Any], title: str) -> str:
    dim = settings.get("funnel.dimension") or result.columns[0]
    metric = settings.get("funnel.metric") or (
        result.columns[1] if len(result.columns) > 1 else result.columns[0]
    )
    di, mi = result.index(dim), result.index(metric)
    items = [(fmt_value(r[di], settings, dim), _num(r[mi])) for r in result.rows]
    first = items[0][1] if items and items[0][1] else 1.0
    vmax = max((v for _l, v in items), default=0) or 1.0
    n = max(len(items), 1)
    bh = (H - 16) / n
    parts = []
    for i, (lbl, v) in enumerate(items):
        w = (W - 180) * v / vmax
        x = 150 + (W - 180 - w) / 2
        y = 8 + i * bh
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 2:.1f}" width="{w:.1f}" height="{bh - 4:.1f}" '
            f'fill="{PALETTE[0]}" fill-opacity="{1 - 0.12 * i:.2f}"/>'
            f'<text x="144" y="{y + bh / 2 + 4:.1f}" class="yt">{esc(lbl[:22])}</text>'
            f'<text x="{150 + (W - 180) / 2:.1f}" y="{y + bh / 2 + 4:.1f}" class="fv">'
            f"{esc(fmt_value(v, settings, metric))} · {100 * v / first:.0f}%</text>"
        )
    return _svg("".join(parts), label=title)


def draw_scalar(result: Result, settings: dict[str, Any], title: str) -> str:
    column = settings.get("scalar.field") or result.columns[0]
    value = result.rows[0][result.index(column)]
    return (
        f'<div class="scalar" title="{esc(title)}">{esc(fmt_value(value, settings, column))}</div>'
    )


def draw_table(result: Result, settings: dict[str, Any], title: str) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in result.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{esc(fmt_value(v, settings, c))}</td>"
            for v, c in zip(r, result.columns, strict=True)
        )
        + "</tr>"
        for r in result.rows[:MAX_TABLE_ROWS]
    )
    more = (
        f'<p class="more">{len(result.rows) - MAX_TABLE_ROWS} more rows</p>'
        if len(result.rows) > MAX_TABLE_ROWS
        else ""
    )
    return (
        f'<table aria-label="{esc(title)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{more}"
    )


def draw_text(text: str) -> str:
    """A text card: paragraphs, **bold** and `# heading` lines (the Markdown we use)."""
    out = []
    for para in text.strip().split("\n\n"):
        p = esc(para.strip())
        while "**" in p:
            p = p.replace("**", "<b>", 1).replace("**", "</b>", 1)
        if p.startswith("#"):
            out.append(f"<h4>{p.lstrip('#').strip()}</h4>")
        else:
            out.append(f"<p>{p}</p>")
    return '<div class="text">' + "".join(out) + "</div>"


def draw(result: Result, display: str, settings: dict[str, Any], title: str) -> str:
    """The card's drawing. Raises ChartError when the result cannot be drawn (or is empty)."""
    if display not in DISPLAYS:
        raise ChartError(f"display {display!r} has no drawing ({', '.join(DISPLAYS)})")
    if result.empty:
        raise ChartError("the query returned no rows")
    if display == "scalar":
        return draw_scalar(result, settings, title)
    if display == "table":
        return draw_table(result, settings, title)
    if display == "pie":
        return draw_pie(result, settings, title)
    if display == "funnel":
        return draw_funnel(result, settings, title)
    if display == "row":
        return draw_row(result, settings, title)
    return draw_xy(result, display, settings, title)
