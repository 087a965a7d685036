"""The offline BigQuery tree on DuckDB (`mfb_infra.ga4_local`): compile cache."""

from __future__ import annotations

from mfb_infra.ga4_local import dbt_tree_hash


def test_the_ga4_compile_cache_key_follows_the_dbt_tree(tmp_path):
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "m.sql"
    model.write_text("select 1")
    before = dbt_tree_hash(tmp_path)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "x.sql").write_text("build output")
    assert dbt_tree_hash(tmp_path) == before  # build output is not an input
    model.write_text("select 2")
    assert dbt_tree_hash(tmp_path) != before
