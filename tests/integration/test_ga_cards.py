"""GA4 cards of the four engagement tabs, run (transpiled to DuckDB) on the BigQuery marts built
from the hand-made fixture events plus a few screenings made here, each in a state the fixture
leaves empty so the hand-worked numbers stay small:

- tx: screening T0 loads results (the only results viewer); H1-H3 click "More Help?" and use a
  results filter without loading results; M5 spans five sessions, M2 two.
- il: program 77 shown to 5 screenings, one opens its details; ma: shown to 4.
- wa: program 77 shown to 20 screenings, two open its details.

Rules (upstream-content.md §2.4): Sessions per Screener buckets 1/2/3/4+ as % of screenings;
Clicked More Help? is capped at 100 while Used Citizenship Filter is not; Program Engagement keeps
programs shown to at least 5 screenings on a tenant and 20 per program and state globally.
"""

from __future__ import annotations

import pytest

from mfb_infra import preview
from mfb_infra.ga4_fixture import D1, GA4_EVENTS, ev, item
from mfb_infra.ga4_local import Ga4DuckDB, compile_bigquery_cached

_sid = iter(range(900_000, 990_000))


def _screening(state: str, uid: str, *names: tuple[str, dict], sessions: int = 1) -> list[tuple]:
    """Events of one screening: each (name, params) in its first session; extra sessions each
    carry one form-step view (so the screening spans them)."""
    st = {"screener_state": state, "screener_uid": uid}
    first = next(_sid)
    rows = [ev(D1, 10 + i, n, f"u-{uid}", first, **st, **p) for i, (n, p) in enumerate(names)]
    for k in range(1, sessions):
        rows.append(
            ev(D1, 100 * k, "screener_form_step", f"u-{uid}", next(_sid), **st,
               screener_step_name="language", step_action="view")
        )  # fmt: skip
    return rows


def _shown(state: str, n: int, details: int) -> list[tuple]:
    rows = []
    for k in range(n):
        events = [("view_item_list", {})]
        if k < details:
            events.append(("screener_program_more_info", {"program_id": 77}))
        rows += _screening(state, f"P-{state}-{k}", *events)
        # the impression carries the program as an item of the results list
        rows[-len(events)] = (
            *rows[-len(events)][:6],
            [item("results_programs", "77", "Test Program")],
        )
    return rows


HELP = ("screener_get_help_click", {"location": "results"})
FILTER = ("screener_filter_engaged", {"filter_type": "citizenship"})
STEP = ("screener_form_step", {"screener_step_name": "language", "step_action": "view"})
EXTRA = [
    *_screening("tx", "T0", ("screener_results_loaded", {"program_count": 2})),
    *(r for k in (1, 2, 3) for r in _screening("tx", f"H{k}", HELP, FILTER)),
    *_screening("tx", "M5", STEP, sessions=5),
    *_screening("tx", "M2", STEP, sessions=2),
    *_shown("il", 5, 1),
    *_shown("ma", 4, 1),
    *_shown("wa", 20, 2),
]


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    plan = preview.plan_for_stack("production", bigquery=True)
    compiled = compile_bigquery_cached(tmp_path_factory.mktemp("ga4-compiled"))
    db = Ga4DuckDB.build([*GA4_EVENTS, *EXTRA], compiled=compiled)

    def run(scope: str, key: str) -> list[tuple]:
        card = next(c for c in plan.cards if c.scope == scope and c.key == key)
        return [tuple(r) for r in db.run(card).rows]

    return run


def test_sessions_per_screener_buckets_four_and_more_sessions_together(cards):
    # tx screenings: T0, H1, H2, H3 one session each; M2 two; M5 five -> "4+"; no "3" bar
    assert cards("tx", "ga_sessions_per_screener") == [
        ("1", 66.7, 4),
        ("2", 16.7, 1),
        ("4+", 16.7, 1),
    ]


def test_sessions_per_screener_leaves_out_screenings_first_seen_before_the_epoch(cards):
    # co: A (one session), B (sessions 21 and 22); C was first seen on 2026-07-20
    assert cards("co", "ga_sessions_per_screener") == [("1", 50.0, 1), ("2", 50.0, 1)]


def test_more_help_reach_is_capped_at_100_percent_of_results_viewers(cards):
    # tx: one results viewer (T0), three screenings clicked More Help? -> 300% capped to 100
    assert cards("tx", "ga_get_help_clicks") == [(100.0, 3)]


def test_citizenship_filter_reach_is_not_capped(cards):
    # the control: same three screenings used a filter, one viewer -> 300%
    assert cards("tx", "ga_filter_usage") == [(300.0, 3)]


def test_program_engagement_on_a_tenant_needs_five_screenings_shown(cards):
    assert ("Test Program", 20.0) in cards("il", "ga_program_engagement")  # 1 of 5
    assert all(row[0] != "Test Program" for row in cards("ma", "ga_program_engagement"))  # 4


def test_program_engagement_globally_needs_twenty_screenings_per_program_and_state(cards):
    rows = cards("global", "ga_program_engagement_global")
    assert ("Test Program (WA)", 10.0) in rows  # 2 of 20
    assert not any(row[0] in ("Test Program (IL)", "Test Program (MA)") for row in rows)


def test_program_conversion_counts_shown_details_and_applied(cards):
    assert cards("il", "ga_program_conversion") == [("Test Program", 5, 1, 0, 20.0, 0.0, 0.0)]


def test_global_funnel_counts_no_cesn_screening(cards):
    # A and B (co), T0, H1-H3, M5, M2 (tx), 29 program screenings (il, ma, wa); CESN E left out
    rows = dict(cards("global", "ga_macro_funnel"))
    assert rows["Screeners Created"] == 2 + 6 + 5 + 4 + 20
