"""`mfb-infra preview`: every declared dashboard drawn from its cards' SQL on the local database.

The database is the README's main job (`mfb-infra local up`) on the module's throwaway server;
the production stack is rendered with BigQuery on (GA4 cards on the DuckDB marts).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo

from mfb_infra import local, preview
from mfb_infra.pgserver import PgServer

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]
REPO = Path(__file__).resolve().parents[2]


class _Cards(HTMLParser):
    """Every dashcard div of a page: its data-* attributes and class."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, str]] = []
        self.tabs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and "data-key" in a:
            self.cards.append(a)
        if tag == "label" and "data-tab" in a:
            self.tabs.append(a["data-tab"])


def cards_of(path: Path) -> _Cards:
    p = _Cards()
    p.feed(path.read_text())
    return p


@pytest.fixture(scope="module")
def local_db(pg_server: PgServer, tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("local")
    result = local.up(dsn=pg_server.dsn("postgres"), screens=1500, root=root, say=lambda _m: None)
    assert result.ok, result.isolation.format(verbose=True) if result.isolation else "no proof"
    return make_conninfo(pg_server.dsn("postgres"), dbname=result.dbname)


@pytest.fixture(scope="module")
def site(local_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    report = preview.build("production", out, dsn=local_db, bigquery=True, say=lambda _m: None)
    return out, report


def test_every_production_card_renders_non_empty(site):
    _out, report = site
    assert report.failed == []
    assert report.cards == sum(
        1 for p in report.pages for dc in p.dashboard.dashcards if dc.card is not None
    )


def test_ga4_cards_are_drawn_from_the_bigquery_marts(site):
    out, report = site
    plan = preview.plan_for_stack("production", bigquery=True)
    bq = {d.ref for d in plan.databases if d.engine == "bigquery"}
    drawn = 0
    for page in report.pages:
        divs = {c["data-key"]: c for c in cards_of(out / page.file).cards}
        for dc in page.dashboard.dashcards:
            if dc.card is not None and plan.card(dc.card).database in bq:
                assert "failed" not in divs[dc.key]["class"], (page.file, dc.key)
                drawn += 1
    assert drawn >= len(report.pages)  # every dashboard has GA4 cards in production


def test_one_page_per_declared_dashboard_and_an_index(site):
    out, report = site
    files = sorted(p.name for p in out.glob("*.html"))
    assert files == sorted(["index.html", *(preview.page_file(p.dashboard) for p in report.pages)])


def test_card_positions_in_the_html_equal_the_declared_grid(site):
    out, report = site
    for page in report.pages:
        drawn = {
            c["data-key"]: tuple(int(c[k]) for k in ("data-row", "data-col", "data-size-x",
                                                     "data-size-y"))
            for c in cards_of(out / page.file).cards
        }  # fmt: skip
        declared = {
            dc.key: (dc.row, dc.col, dc.size_x, dc.size_y) for dc in page.dashboard.dashcards
        }
        assert drawn == declared, page.dashboard.name


def test_each_page_shows_its_tabs_in_order(site):
    out, report = site
    for page in report.pages:
        assert cards_of(out / page.file).tabs == [k for k, _ in page.dashboard.tabs]


def test_no_page_loads_anything_from_the_network(site):
    out, _report = site
    for f in out.glob("*.html"):
        text = f.read_text()
        assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in text and "<script src" not in text and "<link" not in text


def _scalar(out: Path, page: str, card_name: str) -> str:
    text = (out / page).read_text()
    at = text.index(f"<h3>{card_name}</h3>")
    start = text.index('class="scalar"', at)
    return text[text.index(">", start) + 1 : text.index("</div>", start)]


def test_tenant_cards_are_drawn_as_the_tenant_role(site, local_db):
    import psycopg

    out, _report = site
    with psycopg.connect(local_db) as conn:
        total, co = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE white_label_id = 1) "
            "FROM analytics.mart_screener_data"
        ).fetchone()
    assert 0 < co < total
    assert _scalar(out, "co--main.html", "Completed Screeners") == f"{co:,}"
    assert _scalar(out, "global--main.html", "Completed Screeners") == f"{total:,}"


# --- failures are red and make the command exit 1 -----------------------------------------
def _tree_copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(REPO / "dashboards", root / "dashboards")
    for f in REPO.glob("Pulumi*.yaml"):
        shutil.copy(f, root / f.name)
    return root


def test_a_card_whose_sql_fails_is_red_and_the_command_exits_1(local_db, tmp_path, capsys):
    root = _tree_copy(tmp_path)
    (root / "dashboards/sql/total_individuals.sql").write_text(
        "SELECT no_such_column FROM analytics.mart_screener_data\n"
    )
    code = preview.main(
        ["--stack", "staging", "--no-bigquery", "--dsn", local_db, "--root", str(root),
         "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 1
    assert "Total Individuals: SQL failed" in capsys.readouterr().err
    page = cards_of(tmp_path / "out" / "co--main.html")
    failed = [c["data-key"] for c in page.cards if "failed" in c.get("class", "")]
    assert failed and all(k.endswith(":total_individuals") for k in failed)


def test_an_unbroken_tree_exits_0(local_db, tmp_path):
    root = _tree_copy(tmp_path)
    code = preview.main(
        ["--stack", "staging", "--no-bigquery", "--dsn", local_db, "--root", str(root),
         "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 0


# --- --diff BASE_REF -------------------------------------------------------------------------
def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"},
    )  # fmt: skip


@pytest.fixture
def repo_with_base(tmp_path) -> Path:
    root = _tree_copy(tmp_path)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    return root


def test_diff_shows_a_changed_cards_sql(local_db, repo_with_base, tmp_path):
    sql = repo_with_base / "dashboards/sql/total_individuals.sql"
    sql.write_text(sql.read_text().replace("SELECT", "SELECT /* people */", 1))
    out = tmp_path / "out"
    report = preview.build(
        "staging", out, dsn=local_db, base_ref="HEAD", bigquery=False, root=repo_with_base,
        say=lambda _m: None,
    )  # fmt: skip
    co = next(d for d in report.diffs if d.ref == ("co", "main"))
    changed = [k for k, what in co.cards_changed.items() if "sql" in what]
    assert changed and all(k.endswith(":total_individuals") for k in changed)
    page = (out / "diff" / "co--main.html").read_text()
    assert "+SELECT /* people */" in page.replace("&#x27;", "'")
    assert "changed" in {
        c.get("class", "").split()[-1] for c in cards_of(out / "co--main.html").cards
    }
    assert (out / "base" / "co--main.html").exists()


def test_diff_shows_a_moved_card(local_db, repo_with_base, tmp_path):
    tenant = repo_with_base / "dashboards/content/dashboards/tenant.yaml"
    text = tenant.read_text()
    a, b = "          - card: top_partners\n", "          - card: top_counties\n"
    assert a + b in text
    tenant.write_text(text.replace(a + b, b + a, 1))
    report = preview.build(
        "staging", tmp_path / "out", dsn=local_db, base_ref="HEAD", bigquery=False,
        root=repo_with_base, say=lambda _m: None,
    )  # fmt: skip
    co = next(d for d in report.diffs if d.ref == ("co", "main"))
    assert {k.split(":")[1] for k in co.cards_moved} >= {"top_partners", "top_counties"}
    assert "changed card(s)" in (tmp_path / "out" / "summary.md").read_text()


def test_diff_of_an_unchanged_tree_reports_no_change(local_db, repo_with_base, tmp_path):
    report = preview.build(
        "staging", tmp_path / "out", dsn=local_db, base_ref="HEAD", bigquery=False,
        root=repo_with_base, say=lambda _m: None,
    )  # fmt: skip
    assert [d.name for d in report.diffs if d.any] == []
    assert "No dashboard changes." in (tmp_path / "out" / "summary.md").read_text()


def test_diff_against_an_unknown_ref_says_how_to_fetch_it(local_db, repo_with_base, tmp_path):
    with pytest.raises(preview.PreviewError, match="not a commit"):
        preview.build(
            "staging", tmp_path / "out", dsn=local_db, base_ref="no-such-ref", bigquery=False,
            root=repo_with_base, say=lambda _m: None,
        )  # fmt: skip


# --- a real browser ---------------------------------------------------------------------------
def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium")
    pytest.skip("no chromium on this machine (CI installs it)")


def test_screenshot_of_a_tenant_dashboard_is_not_blank_and_shows_its_tabs(site, tmp_path):
    from PIL import Image, ImageStat

    out, report = site
    page = next(p for p in report.pages if p.dashboard.ref == ("co", "main"))
    png = tmp_path / "co.png"
    subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
         "--window-size=1400,1000", f"--screenshot={png}", (out / page.file).as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    img = Image.open(png).convert("RGB")
    assert img.size == (1400, 1000)
    stat = ImageStat.Stat(img.convert("L"))
    assert stat.stddev[0] > 10  # not one flat colour
    colours = img.resize((140, 100)).getcolors(maxcolors=100_000) or []
    assert len(colours) > 50  # charts drawn, not only a header
    if shutil.which("tesseract") is None:
        if os.environ.get("CI"):
            pytest.fail("tesseract is not installed: .ci/run installs Debian's tesseract-ocr")
        pytest.skip("no tesseract on this machine to read the tab names (CI installs it)")
    text = subprocess.run(
        ["tesseract", str(png), "-", "--psm", "11"], capture_output=True, text=True, check=True
    ).stdout
    for _key, name in page.dashboard.tabs[:3]:
        first_word = re.findall(r"\w+", name)[0]  # the live names start with "•      "
        assert first_word in text, f"tab {name!r} not seen in the screenshot: {text[:300]!r}"
