"""`mfb-infra preview`: the declared dashboards as a static, offline site — pictures, not JSON.

    mfb-infra preview --stack S [--dsn DSN] --out DIR [--diff BASE_REF] [--no-bigquery]

Renders every dashboard the stack declares (global and each tenant's, per its config) into one
self-contained HTML file per dashboard plus an index: its tabs, its filters, the 24-column grid
with each card at its declared position and size, each card drawn (SVG, made here: no CDN) from
its own SQL run against the local analytics database (`mfb-infra local up`). A tenant's cards
run as that tenant's role (`SET LOCAL ROLE` in a read-only transaction), so row-level security
shapes them exactly as it shapes Metabase's tenant connection. BigQuery (GA4) cards run on the
dbt BigQuery marts built in DuckDB from generated GA4 events (`mfb_infra.ga4_local`). Filters
have no value in a preview: optional `[[ ... ]]` clauses drop out, as Metabase does.

A card whose SQL fails, or that returns nothing on the sample data, is drawn in red, and the
command exits 1. `--diff BASE_REF` also renders the base commit's definitions (its
`dashboards/` and stack files, read by this code) under DIR/base and writes DIR/diff/: cards
added, removed, moved or resized, SQL (with a unified diff) or settings changed, tabs and
filters changed; DIR/summary.md has one line per dashboard for a CI job summary.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.metabase_content.definitions import (
    GRID_COLUMNS,
    OPTIONAL_CLAUSE_RE,
    CardSpec,
    ContentPlan,
    DashboardSpec,
    Scope,
    load_definitions,
    render_for_config,
)
from mfb_infra import charts
from mfb_infra.charts import ChartError, Result, esc

REPO = Path(__file__).resolve().parent.parent
ROW_PX = 56  # one Metabase grid row, roughly as the web app draws it
STATEMENT_TIMEOUT_MS = 60_000


class PreviewError(RuntimeError):
    """The preview cannot be built (bad base ref, no database, unreadable definitions)."""


# --------------------------------------------------------------------------------------------
# running cards
# --------------------------------------------------------------------------------------------
def without_optional_clauses(sql: str) -> str:
    """The SQL Metabase runs when no filter has a value: every `[[ ... ]]` clause dropped."""
    return OPTIONAL_CLAUSE_RE.sub("", sql)


@dataclass
class CardRun:
    result: Result | None = None
    error: str | None = None
    seconds: float = 0.0


class PostgresRunner:
    """Runs Postgres cards on one connection; a tenant's cards as the tenant's role."""

    def __init__(self, dsn: str) -> None:
        import psycopg

        try:
            self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as e:
            raise PreviewError(
                f"cannot connect to the analytics database: {str(e).strip().splitlines()[0]} "
                "(start it with `mfb-infra local up`, or pass --dsn)"
            ) from None

    def close(self) -> None:
        self.conn.close()

    def run(self, card: CardSpec, scope: Scope) -> Result:
        import psycopg
        from psycopg import sql as psql

        text = without_optional_clauses(card.sql)
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                if scope.kind != "global":  # tenant and overlay cards: the tenant role
                    if not scope.role_name:
                        raise PreviewError(f"tenant scope {scope.key!r} has no role")
                    cur.execute(
                        psql.SQL("SET LOCAL ROLE {}").format(psql.Identifier(scope.role_name))
                    )
                cur.execute(text.encode())  # bytes: no client-side placeholder parsing of %
                cols = tuple(d.name for d in cur.description or ())
                rows = tuple(tuple(r) for r in cur.fetchall()) if cur.description else ()
        except psycopg.Error as e:
            raise ChartError(f"SQL failed: {str(e).strip().splitlines()[0]}") from None
        return Result(cols, rows)


class CardRunner:
    """Dispatches by the card's database engine; results cached per card (scope, key)."""

    def __init__(
        self,
        plan: ContentPlan,
        postgres: PostgresRunner | None,
        bigquery: Any | None,
    ) -> None:
        self.plan = plan
        self.postgres = postgres
        self.bigquery = bigquery
        self.engines = {d.ref: d.engine for d in plan.databases}
        self.scopes = {s.key: s for s in plan.scopes}
        self.cache: dict[tuple[str, str], CardRun] = {}

    def run(self, card: CardSpec) -> CardRun:
        if card.ref in self.cache:
            return self.cache[card.ref]
        t = time.perf_counter()
        run = CardRun()
        engine = self.engines.get(card.database, "postgres")
        runner = self.postgres if engine == "postgres" else self.bigquery
        try:
            if runner is None:
                raise ChartError(f"no {engine} database to run this card on")
            run.result = runner.run(card, self.scopes[card.scope])
            if run.result.empty:
                raise ChartError("the query returned no rows on the sample data")
        except ChartError as e:
            run.error = str(e)
        run.seconds = time.perf_counter() - t
        self.cache[card.ref] = run
        return run


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------
CSS = """
body{font:14px/1.4 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0;background:#f9fbfc;color:#2e353b}
header{padding:16px 24px;background:#fff;border-bottom:1px solid #eeecec}
h1{font-size:22px;margin:0 0 4px} .desc{color:#696e7b;margin:0}
.filters{margin-top:10px;display:flex;gap:8px;flex-wrap:wrap}
.filter{border:1px solid #d6d9db;border-radius:6px;padding:4px 10px;color:#696e7b;background:#fff}
.tabs{display:flex;gap:2px;padding:0 24px;background:#fff;border-bottom:1px solid #eeecec}
.tabs label{padding:10px 14px;cursor:pointer;border-bottom:3px solid transparent;font-weight:600;
 color:#4c5773}
.tabpanel{display:none;padding:16px 24px}
.grid{display:grid;grid-template-columns:repeat(24,minmax(0,1fr));grid-auto-rows:ROWPXpx;gap:8px}
.card{background:#fff;border:1px solid #eeecec;border-radius:8px;padding:8px 10px;overflow:hidden;
 display:flex;flex-direction:column;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.card h3{font-size:13px;margin:0 0 4px;color:#4c5773}
.card .body{flex:1;min-height:0;overflow:auto}
.card.failed{border:2px solid #e03131;background:#fff5f5}
.card.failed .err{color:#c92a2a;font-weight:600;white-space:pre-wrap}
.card.added{outline:3px solid #2f9e44} .card.changed{outline:3px solid #f08c00}
.card.moved{outline:3px dashed #1c7ed6}
.badge{font-size:11px;font-weight:700;padding:1px 6px;border-radius:4px;margin-left:6px;color:#fff}
.b-added{background:#2f9e44}.b-changed{background:#f08c00}.b-moved{background:#1c7ed6}
.chart{width:100%;height:100%}
.chart text{font-size:10px;fill:#696e7b}.chart .yt{text-anchor:end}.chart .xt{text-anchor:end}
.chart .vl{fill:#4c5773}.chart .fv{text-anchor:middle;fill:#fff;font-weight:600}
.chart .pt{text-anchor:middle;font-size:18px;font-weight:700;fill:#2e353b}
.chart .at{text-anchor:middle;font-weight:600}
.chart .ax{stroke:#c5c9cc}.chart .grid{stroke:#eeecec}
.scalar{font-size:34px;font-weight:800;display:flex;align-items:center;justify-content:center;
 height:100%;color:#2e353b}
table{border-collapse:collapse;width:100%;font-size:12px}
th,td{border-bottom:1px solid #eeecec;padding:3px 6px;text-align:left}
th{color:#696e7b;position:sticky;top:0;background:#fff}
.text{color:#4c5773}.text p{margin:0 0 6px}
.summary{padding:8px 24px;color:#696e7b}
pre.sql{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}
.del{color:#c92a2a}.ins{color:#2f9e44}
""".replace("ROWPX", str(ROW_PX))


def _tab_css(n: int) -> str:
    rules = [
        f"#t{i}:checked~.panels #p{i}{{display:block}}"
        f"#t{i}:checked~.tabs label[for=t{i}]{{border-bottom-color:#509ee3;color:#509ee3}}"
        for i in range(n)
    ]
    return "input.tab{display:none}" + "".join(rules)


@dataclass
class CardStatus:
    """What the diff says of one dashcard (for the badges on the dashboard page)."""

    kind: str  # added | changed | moved
    note: str


@dataclass
class DashboardPage:
    dashboard: DashboardSpec
    file: str
    cards: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def page_file(d: DashboardSpec) -> str:
    return f"{d.scope}--{d.key}.html"


def _dashcard_html(
    plan: ContentPlan, dc: Any, runner: CardRunner, status: CardStatus | None
) -> tuple[str, str | None]:
    """(html, error) of one dashcard."""
    place = (
        f'style="grid-column:{dc.col + 1} / span {dc.size_x};'
        f'grid-row:{dc.row + 1} / span {dc.size_y}" '
        f'data-row="{dc.row}" data-col="{dc.col}" data-size-x="{dc.size_x}" '
        f'data-size-y="{dc.size_y}" data-key="{esc(dc.key)}"'
    )
    badge, extra = "", ""
    if status:
        extra = f" {status.kind}"
        badge = (
            f'<span class="badge b-{status.kind}" title="{esc(status.note)}">{status.kind}</span>'
        )
    if dc.card is None:
        body = charts.draw_text(dc.text or "")
        return f'<div class="card text-card{extra}" {place}>{badge}{body}</div>', None
    card = plan.card(dc.card)
    run = runner.run(card)
    title = f"<h3>{esc(card.name)}{badge}</h3>"
    error = run.error
    if error is None and run.result is not None:
        try:
            body = charts.draw(run.result, card.display, card.visualization_settings, card.name)
        except ChartError as e:
            error = str(e)
    if error is not None:
        return (
            f'<div class="card failed{extra}" {place} data-display="{esc(card.display)}">{title}'
            f'<div class="body err">{esc(error)}</div></div>',
            f"{card.name}: {error}",
        )
    return (
        f'<div class="card{extra}" {place} data-display="{esc(card.display)}">{title}'
        f'<div class="body">{body}</div></div>',
        None,
    )


def render_dashboard(
    plan: ContentPlan,
    d: DashboardSpec,
    runner: CardRunner,
    statuses: dict[str, CardStatus] | None = None,
    *,
    banner: str = "",
) -> tuple[str, DashboardPage]:
    t = time.perf_counter()
    page = DashboardPage(d, page_file(d))
    statuses = statuses or {}
    filters = "".join(f'<span class="filter">{esc(p.name)} ▾</span>' for p in d.parameters)
    tabs = list(d.tabs)
    inputs = "".join(
        f'<input class="tab" type="radio" name="tab" id="t{i}"{" checked" if i == 0 else ""}>'
        for i in range(len(tabs))
    )
    labels = "".join(
        f'<label for="t{i}" data-tab="{esc(k)}">{esc(name)}</label>'
        for i, (k, name) in enumerate(tabs)
    )
    panels = []
    for i, (tab_key, _name) in enumerate(tabs):
        cells = []
        for dc in sorted(
            (x for x in d.dashcards if x.tab == tab_key), key=lambda x: (x.row, x.col)
        ):
            if dc.col + dc.size_x > GRID_COLUMNS:
                raise PreviewError(f"{d.name}: {dc.key} overflows the {GRID_COLUMNS}-column grid")
            cell, error = _dashcard_html(plan, dc, runner, statuses.get(dc.key))
            cells.append(cell)
            if dc.card is not None:
                page.cards += 1
            if error:
                page.failed.append(f"{tab_key}: {error}")
        panels.append(
            f'<section class="tabpanel" id="p{i}" data-tab="{esc(tab_key)}">'
            f'<div class="grid">{"".join(cells)}</div></section>'
        )
    failed = (
        f'<p class="summary" style="color:#c92a2a">{len(page.failed)} card(s) failed</p>'
        if page.failed
        else ""
    )
    html_doc = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{esc(d.name)}</title><style>{CSS}{_tab_css(len(tabs))}</style></head><body>"
        f"{inputs}<header>{banner}<h1>{esc(d.name)}</h1>"
        f'<p class="desc">{esc(d.description or "")}</p>'
        f'<div class="filters">{filters}</div></header>{failed}'
        f'<nav class="tabs">{labels}</nav><div class="panels">{"".join(panels)}</div>'
        "</body></html>"
    )
    page.seconds = time.perf_counter() - t
    return html_doc, page


def render_site(
    plan: ContentPlan,
    runner: CardRunner,
    out: Path,
    *,
    title: str,
    statuses: dict[tuple[str, str], dict[str, CardStatus]] | None = None,
    links: dict[tuple[str, str], str] | None = None,
) -> list[DashboardPage]:
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    for d in plan.dashboards:
        doc, page = render_dashboard(plan, d, runner, (statuses or {}).get(d.ref))
        (out / page.file).write_text(doc)
        pages.append(page)
    rows = []
    for p in pages:
        extra = (links or {}).get(p.dashboard.ref, "")
        state = f'<b style="color:#c92a2a">{len(p.failed)} failed</b>' if p.failed else "ok"
        rows.append(
            f'<tr><td><a href="{esc(p.file)}">{esc(p.dashboard.name)}</a></td>'
            f"<td>{esc(p.dashboard.scope)}</td><td>{len(p.dashboard.tabs)}</td>"
            f"<td>{p.cards}</td><td>{state}</td><td>{extra}</td></tr>"
        )
    (out / "index.html").write_text(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body><header><h1>{esc(title)}</h1></header>"
        '<div class="tabpanel" style="display:block"><table><thead><tr><th>Dashboard</th>'
        "<th>Scope</th><th>Tabs</th><th>Cards</th><th>Result</th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></body></html>"
    )
    return pages


# --------------------------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------------------------
@dataclass
class DashboardDiff:
    ref: tuple[str, str]
    name: str
    status: str = "same"  # same | added | removed | changed
    cards_added: list[str] = field(default_factory=list)
    cards_removed: list[str] = field(default_factory=list)
    cards_moved: list[str] = field(default_factory=list)
    cards_resized: list[str] = field(default_factory=list)
    cards_changed: dict[str, list[str]] = field(default_factory=dict)  # key -> what changed
    sql_diffs: dict[str, str] = field(default_factory=dict)
    tabs: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)

    @property
    def changed_cards(self) -> int:
        keys = (
            set(self.cards_added)
            | set(self.cards_removed)
            | set(self.cards_moved)
            | set(self.cards_resized)
            | set(self.cards_changed)
        )
        return len(keys)

    @property
    def any(self) -> bool:
        return self.status != "same" or bool(self.changed_cards or self.tabs or self.filters)

    def statuses(self) -> dict[str, CardStatus]:
        out: dict[str, CardStatus] = {}
        for k in self.cards_moved + self.cards_resized:
            out[k] = CardStatus("moved", "moved or resized")
        for k, what in self.cards_changed.items():
            out[k] = CardStatus("changed", ", ".join(what))
        for k in self.cards_added:
            out[k] = CardStatus("added", "new on this dashboard")
        return out


def _card_fields(plan: ContentPlan, dc: Any) -> dict[str, Any]:
    if dc.card is None:
        return {"text": dc.text}
    c = plan.card(dc.card)
    return {
        "name": c.name,
        "display": c.display,
        "sql": c.sql,
        "visualization_settings": json.dumps(c.visualization_settings, sort_keys=True),
        "description": c.description,
        "filters": sorted(dc.mappings),
    }


def diff_plans(base: ContentPlan, head: ContentPlan) -> list[DashboardDiff]:
    """Per dashboard (by scope and key), what changed from base to head."""
    bd = {d.ref: d for d in base.dashboards}
    hd = {d.ref: d for d in head.dashboards}
    out: list[DashboardDiff] = []
    for ref in list(hd) + [r for r in bd if r not in hd]:
        h, b = hd.get(ref), bd.get(ref)
        dd = DashboardDiff(ref, (h or b).name)  # type: ignore[union-attr]
        if b is None:
            dd.status = "added"
            dd.cards_added = [x.key for x in h.dashcards]  # type: ignore[union-attr]
            out.append(dd)
            continue
        if h is None:
            dd.status = "removed"
            dd.cards_removed = [x.key for x in b.dashcards]
            out.append(dd)
            continue
        if b.name != h.name:
            dd.tabs.append(f"dashboard renamed: {b.name!r} → {h.name!r}")
        btabs, htabs = dict(b.tabs), dict(h.tabs)
        for k in htabs:
            if k not in btabs:
                dd.tabs.append(f"tab added: {htabs[k]}")
            elif btabs[k] != htabs[k]:
                dd.tabs.append(f"tab renamed: {btabs[k]} → {htabs[k]}")
        dd.tabs += [f"tab removed: {btabs[k]}" for k in btabs if k not in htabs]
        if [k for k, _ in b.tabs if k in htabs] != [k for k, _ in h.tabs if k in btabs]:
            dd.tabs.append("tabs reordered")
        bp = {p.id: p for p in b.parameters}
        hp = {p.id: p for p in h.parameters}
        dd.filters += [f"filter added: {hp[k].name}" for k in hp if k not in bp]
        dd.filters += [f"filter removed: {bp[k].name}" for k in bp if k not in hp]
        dd.filters += [f"filter changed: {hp[k].name}" for k in hp if k in bp and hp[k] != bp[k]]
        bc = {x.key: x for x in b.dashcards}
        hc = {x.key: x for x in h.dashcards}
        for k, x in hc.items():
            y = bc.get(k)
            if y is None:
                dd.cards_added.append(k)
                continue
            if (x.row, x.col) != (y.row, y.col):
                dd.cards_moved.append(k)
            if (x.size_x, x.size_y) != (y.size_x, y.size_y):
                dd.cards_resized.append(k)
            fb, fh = _card_fields(base, y), _card_fields(head, x)
            what = [f for f in fh if fh[f] != fb.get(f)]
            if what:
                dd.cards_changed[k] = what
            if "sql" in what:
                dd.sql_diffs[k] = "".join(
                    difflib.unified_diff(
                        fb["sql"].splitlines(keepends=True),
                        fh["sql"].splitlines(keepends=True),
                        "base",
                        "head",
                    )
                )
        dd.cards_removed = [k for k in bc if k not in hc]
        if dd.changed_cards or dd.tabs or dd.filters:
            dd.status = "changed"
        out.append(dd)
    return out


def _diff_line(ln: str) -> str:
    cls = "ins" if ln.startswith("+") else "del" if ln.startswith("-") else ""
    return f'<span class="{cls}">{esc(ln)}</span>' if cls else esc(ln)


def render_diff_page(dd: DashboardDiff) -> str:
    def section(title: str, items: Iterable[str]) -> str:
        items = list(items)
        if not items:
            return ""
        return f"<h3>{esc(title)}</h3><ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"

    parts = [
        section("Tabs", dd.tabs),
        section("Filters", dd.filters),
        section("Cards added", dd.cards_added),
        section("Cards removed", dd.cards_removed),
        section("Cards moved", dd.cards_moved),
        section("Cards resized", dd.cards_resized),
        section("Cards changed", (f"{k}: {', '.join(v)}" for k, v in dd.cards_changed.items())),
    ]
    for k, text in dd.sql_diffs.items():
        body = "".join(_diff_line(ln) for ln in text.splitlines(keepends=True))
        parts.append(f'<h3>SQL of {esc(k)}</h3><pre class="sql" data-card="{esc(k)}">{body}</pre>')
    links = ""
    if dd.status != "removed":
        links += f'<a href="../{esc(dd.ref[0])}--{esc(dd.ref[1])}.html">head</a> '
    if dd.status != "added":
        links += f'<a href="../base/{esc(dd.ref[0])}--{esc(dd.ref[1])}.html">base</a>'
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>diff: {esc(dd.name)}</title><style>{CSS}</style></head><body><header>"
        f"<h1>{esc(dd.name)}: {esc(dd.status)}</h1><p class=desc>{dd.changed_cards} changed "
        f"card(s) · {links}</p></header><div class=tabpanel style=display:block>"
        f"{''.join(parts) or '<p>No change.</p>'}</div></body></html>"
    )


def summary_markdown(stack: str, diffs: Sequence[DashboardDiff], base_ref: str) -> str:
    lines = [f"### Dashboard preview: stack `{stack}` vs `{base_ref}`", ""]
    changed = [d for d in diffs if d.any]
    if not changed:
        lines.append("No dashboard changes.")
    for d in changed:
        extra = [*d.tabs, *d.filters]
        tail = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"- **{d.name}** ({d.status}): {d.changed_cards} changed card(s){tail}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# inputs: plan, base tree, database
# --------------------------------------------------------------------------------------------
def plan_for_stack(stack: str, root: Path = REPO, *, bigquery: bool | None = None) -> ContentPlan:
    from mfb_infra.sql import load_stack_config

    cfg = load_stack_config(stack, root)
    defs = load_definitions(root / "dashboards")
    return render_for_config(cfg, defs, bigquery=bigquery)


def checkout_base(ref: str, stack: str, dest: Path, repo: Path = REPO) -> Path:
    """The base commit's content definitions and stack files, extracted under `dest`."""
    paths = ["dashboards", "Pulumi.yaml", f"Pulumi.{stack}.yaml"]
    res = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise PreviewError(
            f"--diff {ref}: not a commit in {repo} (in CI, fetch the base: "
            "`git fetch origin <base> --depth=1`, or checkout with fetch-depth: 0)"
        )
    sha = res.stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", sha, *paths], capture_output=True
    )
    if archive.returncode != 0:
        raise PreviewError(
            f"--diff {ref}: cannot read {', '.join(paths)} at {sha[:12]}: "
            f"{archive.stderr.decode().strip()}"
        )
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def local_dsn(root: Path | None = None) -> str:
    """The superuser DSN of the database `mfb-infra local up` left running."""
    from psycopg.conninfo import make_conninfo

    from mfb_infra.local import DEFAULT_DB, LOCAL_DIR, STATE_FILE, _server_running
    from mfb_infra.pgserver import SUPERUSER

    root = root or LOCAL_DIR
    state_path = root / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if not state.get("port") or not _server_running((root / "pg" / "data").resolve()):
        raise PreviewError(
            "no local analytics database is running: start it with `mfb-infra local up` "
            "(or pass --dsn)"
        )
    return make_conninfo(
        host="127.0.0.1", port=int(state["port"]), user=SUPERUSER, dbname=DEFAULT_DB
    )


# --------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------
@dataclass
class PreviewReport:
    pages: list[DashboardPage]
    base_pages: list[DashboardPage] = field(default_factory=list)
    diffs: list[DashboardDiff] = field(default_factory=list)
    seconds: float = 0.0
    card_seconds: list[tuple[str, float]] = field(default_factory=list)  # (engine, s) per card

    @property
    def failed(self) -> list[str]:
        return [f"{p.dashboard.name}: {f}" for p in self.pages for f in p.failed]

    @property
    def cards(self) -> int:
        return sum(p.cards for p in self.pages)


def _runner(plan: ContentPlan, pg: PostgresRunner, bq_factory: Callable[[], Any] | None):
    needs_bq = any(d.engine == "bigquery" for d in plan.databases)
    return CardRunner(plan, pg, bq_factory() if (needs_bq and bq_factory) else None)


def build(
    stack: str,
    out: Path,
    *,
    dsn: str,
    base_ref: str | None = None,
    bigquery: bool | None = None,
    bq_factory: Callable[[], Any] | None = None,
    root: Path = REPO,
    say: Callable[[str], None] = print,
) -> PreviewReport:
    """Render the stack's dashboards (definitions and stack files under `root`, a git work
    tree when `base_ref` is given) into `out`."""
    t = time.perf_counter()
    plan = plan_for_stack(stack, root, bigquery=bigquery)
    if bq_factory is None:
        states = tuple(dict.fromkeys(c for sc in plan.scopes for c in sc.state_codes))

        def bq_factory() -> Any:
            from mfb_infra.ga4_fixture import GA4_EVENTS, sample_events
            from mfb_infra.ga4_local import Ga4DuckDB, compile_bigquery_cached
            from mfb_infra.local import LOCAL_DIR

            compiled = compile_bigquery_cached(LOCAL_DIR / "ga4-compiled")
            return Ga4DuckDB.build([*GA4_EVENTS, *sample_events(states)], compiled=compiled)

    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    pg = PostgresRunner(dsn)
    bq_cache: list[Any] = []

    def shared_bq() -> Any:
        if not bq_cache:
            say("bigquery: building the GA4 marts in DuckDB (fixture + generated sessions) ...")
            bq_cache.append(bq_factory())
        return bq_cache[0]

    try:
        base_plan = None
        diffs: list[DashboardDiff] = []
        if base_ref:
            with tempfile.TemporaryDirectory(prefix="mfb-preview-base-") as tmp:
                base_root = checkout_base(base_ref, stack, Path(tmp), repo=root)
                try:
                    base_plan = plan_for_stack(stack, base_root, bigquery=bigquery)
                except Exception as e:
                    raise PreviewError(
                        f"--diff {base_ref}: its content definitions cannot be read by this "
                        f"version: {e}"
                    ) from None
            diffs = diff_plans(base_plan, plan)
        statuses = {d.ref: d.statuses() for d in diffs}
        links = {
            d.ref: f'<a href="diff/{esc(d.ref[0])}--{esc(d.ref[1])}.html">diff: '
            f"{d.changed_cards} changed</a>"
            for d in diffs
            if d.any
        }
        say(f"preview: {len(plan.dashboards)} dashboards, {len(plan.cards)} cards ({stack})")
        head_runner = _runner(plan, pg, shared_bq)
        pages = render_site(
            plan,
            head_runner,
            out,
            title=f"Dashboards of stack {stack}",
            statuses=statuses,
            links=links,
        )
        report = PreviewReport(pages, diffs=diffs)
        report.card_seconds = [
            (head_runner.engines.get(plan.card(ref).database, "postgres"), run.seconds)
            for ref, run in head_runner.cache.items()
        ]
        if base_plan is not None:
            report.base_pages = render_site(
                base_plan,
                _runner(base_plan, pg, shared_bq),
                out / "base",
                title=f"Dashboards of stack {stack} at {base_ref}",
            )
            (out / "diff").mkdir(parents=True, exist_ok=True)
            for d in diffs:
                (out / "diff" / f"{d.ref[0]}--{d.ref[1]}.html").write_text(render_diff_page(d))
            (out / "summary.md").write_text(summary_markdown(stack, diffs, base_ref))
    finally:
        pg.close()
    report.seconds = time.perf_counter() - t
    return report


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="mfb-infra preview",
        description="render the stack's dashboards into a static offline site",
    )
    p.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    p.add_argument("--out", required=True, type=Path, help="output directory (replaced)")
    p.add_argument(
        "--dsn",
        help="analytics database to run the cards on: a role that may SET ROLE to each tenant "
        "role (default: the database `mfb-infra local up` left running)",
    )
    p.add_argument("--diff", metavar="BASE_REF", help="also render BASE_REF and mark changes")
    p.add_argument(
        "--root",
        type=Path,
        default=REPO,
        help="the checkout whose dashboards/ and stack files to render (default: this one)",
    )
    bq = p.add_mutually_exclusive_group()
    bq.add_argument(
        "--bigquery", dest="bigquery", action="store_true", default=None,
        help="declare the BigQuery (GA4) content even if the stack has it off",
    )  # fmt: skip
    bq.add_argument("--no-bigquery", dest="bigquery", action="store_false")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        dsn = args.dsn or local_dsn()
        report = build(
            args.stack,
            args.out,
            dsn=dsn,
            base_ref=args.diff,
            bigquery=args.bigquery,
            root=args.root.resolve(),
        )
    except (PreviewError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    n = len(report.pages)
    print(
        f"preview: wrote {n} dashboards ({report.cards} cards) to {args.out}/index.html "
        f"in {report.seconds:.1f} s"
    )
    if report.diffs:
        print(summary_markdown(args.stack, report.diffs, args.diff), end="")
    if report.failed:
        print(f"preview: {len(report.failed)} card(s) failed:", file=sys.stderr)
        for f in report.failed:
            print(f"  {f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
