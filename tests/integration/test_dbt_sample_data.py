"""mfb_infra.sample_data: deterministic, skewed, Django-shaped rows; appends for incrementals."""

from __future__ import annotations

import pytest

from mfb_infra.sample_data import TENANTS, load_sample_data, main

pytestmark = pytest.mark.postgres

SCREENS = 2000
FINGERPRINT = "SELECT md5(string_agg(s::text, '|' ORDER BY s.id)) FROM public.screener_screen s"


@pytest.fixture
def loaded(pg_db):
    pg, db = pg_db
    result = load_sample_data(pg.dsn(db), SCREENS, seed=11)
    return pg, db, result


def test_loads_the_requested_number_of_screens(loaded):
    pg, db, result = loaded
    assert result["rows"]["screener_screen"] == SCREENS
    assert pg.execute("SELECT count(*) FROM public.screener_screen", db) == [(SCREENS,)]


def test_same_seed_gives_identical_rows(loaded, pg_server):
    pg, db, _ = loaded
    other = "sample_same_seed"
    pg_server.create_database(other)
    try:
        load_sample_data(pg_server.dsn(other), SCREENS, seed=11)
        assert pg.execute(FINGERPRINT, db) == pg_server.execute(FINGERPRINT, other)
    finally:
        pg_server.execute(f'DROP DATABASE "{other}" WITH (FORCE)')


def test_different_seed_gives_different_rows(loaded, pg_server):
    pg, db, _ = loaded
    other = "sample_other_seed"
    pg_server.create_database(other)
    try:
        load_sample_data(pg_server.dsn(other), SCREENS, seed=12)
        assert pg.execute(FINGERPRINT, db) != pg_server.execute(FINGERPRINT, other)
    finally:
        pg_server.execute(f'DROP DATABASE "{other}" WITH (FORCE)')


def test_all_eight_tenants_with_a_skew(loaded):
    pg, db, _ = loaded
    counts = dict(
        pg.execute("SELECT white_label_id, count(*) FROM public.screener_screen GROUP BY 1", db)
    )
    assert set(counts) == {wl for _slug, wl, *_ in TENANTS}
    assert counts[1] > 4 * counts[3]  # co vs co_tax_calculator


def test_dates_span_about_two_years(loaded):
    pg, db, _ = loaded
    (days,) = pg.execute(
        "SELECT extract(day FROM max(start_date) - min(start_date)) FROM public.screener_screen", db
    )[0]
    assert 600 <= days <= 731


def test_incomplete_screens_have_no_submission_date(loaded):
    pg, db, _ = loaded
    rows = pg.execute(
        "SELECT completed, bool_and(submission_date IS NULL), count(*) "
        "FROM public.screener_screen GROUP BY 1 ORDER BY 1",
        db,
    )
    assert [(c, nulls) for c, nulls, _n in rows] == [(False, True), (True, False)]


def test_nullable_columns_hold_nulls(loaded):
    pg, db, _ = loaded
    (test_data_nulls, utm_nulls) = pg.execute(
        "SELECT count(*) FILTER (WHERE is_test_data IS NULL), "
        "count(*) FILTER (WHERE utm_source IS NULL) FROM public.screener_screen",
        db,
    )[0]
    assert test_data_nulls > 0 and utm_nulls > SCREENS / 2


def test_children_reference_existing_screens(loaded):
    pg, db, _ = loaded
    orphans = pg.execute(
        "SELECT count(*) FROM public.screener_householdmember m "
        "LEFT JOIN public.screener_screen s ON s.id = m.screen_id WHERE s.id IS NULL",
        db,
    )
    assert orphans == [(0,)]


def test_append_adds_one_percent_after_the_existing_rows(loaded):
    pg, db, _ = loaded
    (last,) = pg.execute("SELECT max(start_date) FROM public.screener_screen", db)[0]
    result = load_sample_data(pg.dsn(db), 0, seed=11, new_fraction=0.01)
    assert result["rows"]["screener_screen"] == SCREENS // 100
    (new_min,) = pg.execute(
        f"SELECT min(start_date) FROM public.screener_screen WHERE id > {SCREENS}", db
    )[0]
    assert new_min > last
    assert result["updates"]["late_snapshots"] > 0


def test_second_full_load_into_a_loaded_database_is_refused(loaded):
    pg, db, _ = loaded
    with pytest.raises(ValueError, match="append-fraction"):
        load_sample_data(pg.dsn(db), 10, seed=1)


def test_cli_loads_and_reports(pg_db, capsys):
    pg, db = pg_db
    assert main(["--dsn", pg.dsn(db), "--screens", "300", "--seed", "3"]) == 0
    assert "screener_screen" in capsys.readouterr().out


def test_refuses_to_touch_screens_it_did_not_load(pg_db):
    pg, db = pg_db
    pg.execute(
        "create table public.screener_screen (id bigint primary key, white_label_id bigint); "
        "insert into public.screener_screen values (1, 1)",
        db,
    )
    with pytest.raises(ValueError, match="real database"):
        load_sample_data(pg.dsn(db), 10, new_fraction=0.1)
    tables = pg.execute("select count(*) from pg_tables where schemaname = 'public'", db)
    assert tables == [(1,)]
