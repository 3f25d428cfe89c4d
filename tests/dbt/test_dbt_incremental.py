"""Incremental builds equal full rebuilds.

A night builds the large models incrementally (flows/transform.py). Here a real working database is built,
then receives what a night brings - a republished file, a payee newly identifiable by company number, a
payment giving a number to a supplier an untouched award names without one, a new
process naming suppliers that earlier payments paid, an award update that changes a supplier's scale and a
notice's title - and is built again incrementally; a copy of the same raw data rebuilt from scratch must
hold exactly the same rows in every intermediate table and mart. Then the cases that must force a full
rebuild are checked against the same database.
"""

from __future__ import annotations

import copy
import shutil
from collections import Counter
from datetime import date

import duckdb
import pytest

from dbt_raw_fixtures import (
    LATE,
    OTHERS,
    REPUBLISHED,
    WMCA,
    contracts_finder_releases,
    hand_made_payments,
    insert_payments,
    insert_publishers,
    insert_releases,
    load_raw,
    make_settings,
    payment,
    query,
)
from flows.database import working_db
from flows.publish import publish
from flows.transform import TransformError, build, full_refresh_reason, inputs_fingerprint, prepare_working_db

LATE_PROCESS = "cf_2025_award_suppliers_without_details_late_publication.json"  # Hennessy, LGM, McManus
AKER = "cf_2025_award_supplier_sme.json"
ELM = "cf_2025_award_supplier_sme_vcse_true.json"  # its only award is cancelled in the night
BUILD_TIME_COLUMNS = {"attributed_at", "built_at", "resolved_at"}  # when a row was built, which is all that may differ


def _aker_award_update(release: dict) -> dict:
    """A later release of Aker's process: Aker now states it is large, and the title names a heat pump."""
    update = copy.deepcopy(release)
    update["id"] = release["id"] + "-update"
    update["date"] = "2025-06-30T09:00:00Z"
    update["tag"] = ["awardUpdate"]
    update["tender"]["title"] = "Heat pump retrofit software"
    for party in update["parties"]:
        if "supplier" in party.get("roles", []):
            party["details"]["scale"] = "large"
    return update


def _cancelled(release: dict) -> dict:
    """A later release of the process cancelling every award: the process leaves the award facts."""
    update = copy.deepcopy(release)
    update["id"] = release["id"] + "-cancelled"
    update["date"] = "2025-07-01T09:00:00Z"
    update["tag"] = ["awardUpdate"]
    for award in update["awards"]:
        award["status"] = "cancelled"
    return update


def _night_payments() -> list[dict]:
    """Lines of two new files: a republished file and one whose payees carry company numbers."""
    new_file = "landing/local_spend/solihull/2025-07.csv"
    return [
        *[p for p in hand_made_payments() if p["source_file"] == REPUBLISHED],
        payment("solihull", new_file, 2, date(2025, 7, 1), "90.00", "Mystery Supplier", transaction_number="SO2",
                company_number="7654321", loaded_at=LATE),
        payment("solihull", new_file, 3, date(2025, 7, 1), "600.00", "Mystery Supplier", transaction_number="SO1",
                description="Electric vehicle lease", loaded_at=LATE),
        # An earlier award names this supplier twice without a number: both references take this one.
        payment("solihull", new_file, 4, date(2025, 7, 2), "250.00", "Aurora Group", transaction_number="SO3",
                company_number="999888", loaded_at=LATE),
    ]


def _tables(settings) -> list[str]:
    return [f"{schema}.{name}" for schema, name in query(
        settings,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('intermediate', 'marts') ORDER BY ALL",
    )]


def _difference(a_settings, b_settings, table: str) -> tuple[int, int, int]:
    """(rows in a, rows only in a, rows only in b), rows compared as multisets of whole rows. (dbt keeps
    each built file open in this process, so the two cannot be attached side by side.)"""
    schema, name = table.split(".")
    columns = [c for (c,) in query(a_settings, "SELECT column_name FROM information_schema.columns "
                                   "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", [schema, name])
               if c not in BUILD_TIME_COLUMNS]
    select = f"SELECT {', '.join(columns)} FROM {table}"
    a = Counter(map(repr, query(a_settings, select)))
    b = Counter(map(repr, query(b_settings, select)))
    return sum(a.values()), sum((a - b).values()), sum((b - a).values())


def _copy(settings, home):
    """A home holding a copy of the working database (checkpointed first: dbt may still hold it open)."""
    with working_db(settings) as con:
        con.execute("CHECKPOINT")
    copied = make_settings(home)
    shutil.copy(settings.work_db, copied.work_db)
    return copied


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """(incrementally built home, the same raw data rebuilt in full, the incremental night's BuildResult, the
    rows before the night, the first day's complete BuildResult)."""
    settings = make_settings(tmp_path_factory.mktemp("incremental"))
    prepare_working_db(settings)
    releases = dict(contracts_finder_releases())

    def first_day(con):
        for name, release in releases.items():
            if name != LATE_PROCESS:
                insert_releases(con, "contracts_finder", [release], f"landing/contracts_finder/{name}")
        insert_publishers(con, [(pid, name, lad) for pid, (name, lad) in WMCA.items()])
        insert_payments(con, [p for p in hand_made_payments() if p["source_file"] != REPUBLISHED])

    def night(con):
        insert_releases(con, "contracts_finder", [releases[LATE_PROCESS]], f"landing/contracts_finder/{LATE_PROCESS}")
        insert_releases(con, "contracts_finder", [_aker_award_update(releases[AKER])], "landing/contracts_finder/night")
        insert_releases(con, "contracts_finder", [_cancelled(releases[ELM])], "landing/contracts_finder/night")
        insert_payments(con, _night_payments())

    load_raw(settings, first_day)
    complete = build(settings)
    assert complete.full_refresh_reason == "no complete build recorded yet"
    assert publish(settings).updated_in_place == []  # nothing published yet to start from
    before = dict(query(settings, "SELECT payment_key, scale FROM marts.fct_payments"))
    assert query(settings, f"SELECT count(*) FROM marts.fct_award_suppliers WHERE ocid = '{releases[ELM]['ocid']}'") == [(1,)]
    load_raw(settings, night)
    result = build(settings)

    rebuilt = _copy(settings, tmp_path_factory.mktemp("rebuilt"))
    assert build(rebuilt, full_refresh=True).full_refresh_reason == "requested"
    return settings, rebuilt, result, before, complete


def test_the_night_was_built_incrementally(nightly):
    _, _, result, _, _ = nightly
    assert result.full_refresh_reason is None


def test_the_night_leaves_out_views_and_seeds_but_not_their_tests(nightly):
    """An unchanged project's views and the seeds the models read are as the last complete build left
    them (flows.transform._left_out_of_incremental_build); the data tests on views still run."""
    _, _, result, _, _ = nightly
    built = {n.name for n in result.nodes}
    assert built.isdisjoint({"stg_spend__payments", "stg_ocds__releases", "fct_payments", "green_rules"})
    assert {"columns_not_null_stg_spend__payments_publisher_id__source_file__source_row__amount_gbp__is_redacted",
            "unique_combination_stg_ocds__releases_source__ocid__release_id", "assert_redacted_payees_have_no_supplier",
            "int_spend__payments_attributed"} <= built
    seed_tests = {"unique_combination_green_rules_rule_id", "columns_not_null_green_rules_rule_id__kind__pattern",
                  "unique_lad_geography_lad_code", "relationships_int_green__classified_green_rule__rule_id__ref_green_rules_"}
    assert built.isdisjoint(seed_tests) and "unique_stg_reference__lad_geography_lad_code" in built


def test_a_night_leaves_the_marts_tests_the_validation_gate_repeats_to_it(nightly):
    """Tests tagged also_validated (models/marts/_marts__models.yml) check what the gate checks again before
    publishing: a complete build runs them, a night does not; the marts' other tests run every night."""
    _, _, result, _, complete = nightly
    night, full = {n.name for n in result.nodes}, {n.name for n in complete.nodes}
    repeated = {"assert_payment_keys_unique", "assert_local_spend_total_equals_sme_spend", "unique_dim_buyers_buyer_name",
                "unique_combination_fct_award_suppliers_source__ocid__award_id__supplier_key",
                "accepted_values_fct_payments_scale__sme__large__unknown", "sums_to_sme_spend_total_gbp__sme_gbp__large_gbp__unknown_gbp"}
    assert repeated <= full and night.isdisjoint(repeated)
    assert {"relationships_fct_payments_publisher_id__publisher_id__ref_int_spend__publishers_",
            "columns_not_null_fct_award_suppliers_source__ocid__award_id__supplier_key__locality",
            "assert_marts_sum_to_facts", "assert_redacted_payees_have_no_supplier"} <= night


def test_the_night_changed_what_it_should(nightly):
    settings, _, _, before, _ = nightly
    after = dict(query(settings, "SELECT payment_key, scale FROM marts.fct_payments"))
    # Coventry's payment to Aker was attributed sme on the first day; Aker's award update says large.
    (aker,) = query(settings, "SELECT payment_key FROM marts.fct_payments WHERE supplier_name = 'Aker Systems Limited'")
    assert (before[aker[0]], after[aker[0]]) == ("sme", "large")
    # The earlier Mystery Supplier payment is re-attributed to the company number a later line gave.
    assert query(settings, "SELECT DISTINCT supplier_key FROM marts.fct_payments WHERE supplier_name = 'Mystery Supplier'") \
        == [("GB-COH-07654321",)]
    # Aurora Group, named without a number in a process no release of the night touched, takes the number a
    # payment gave its name.
    assert query(settings, "SELECT DISTINCT supplier_key FROM marts.fct_award_suppliers WHERE supplier_name = 'Aurora Group'") \
        == [("GB-COH-00999888",)]
    # Republished copies are not counted again: of the four republished lines, three are copies.
    assert query(settings, f"SELECT count(*) FROM marts.fct_payments WHERE source_file = '{REPUBLISHED}'") == [(1,)]
    # Elm's only award was cancelled: its process has no award facts any more.
    assert query(settings, "SELECT count(*) FROM marts.fct_award_suppliers WHERE supplier_name = 'Elm Site Services Ltd'") \
        == [(0,)]
    # Aker's notice is re-classified under its new title.
    assert query(settings, "SELECT green_rule FROM intermediate.int_green__classified "
                           "WHERE subject_id LIKE '%f80f9edd%'") == [("kw_heat_pump",)]


INCREMENTAL_MODELS = ["intermediate.int_spend__payments_ranked", "intermediate.int_spend__payments_attributed",
                      "intermediate.int_green__classified"]


def test_every_intermediate_table_and_mart_equals_a_full_rebuild(nightly):
    settings, rebuilt, _, _, _ = nightly
    tables = _tables(settings)
    assert set(INCREMENTAL_MODELS) <= set(tables) and "marts.fct_payments" in tables
    differences = {}
    for table in tables:
        rows, only_incremental, only_rebuilt = _difference(settings, rebuilt, table)
        assert rows > 0, table
        if only_incremental or only_rebuilt:
            differences[table] = (only_incremental, only_rebuilt)
    assert differences == {}, "rows only in the incremental build / only in the full rebuild"


def _reason_after(settings, tmp_path, change) -> str | None:
    with working_db(_copy(settings, tmp_path)) as con:
        change(con)
        return full_refresh_reason(con, inputs_fingerprint(con))


def test_an_unchanged_database_needs_no_full_rebuild(nightly, tmp_path):
    settings, _, _, _, _ = nightly
    assert _reason_after(settings, tmp_path, lambda con: None) is None


def test_a_new_file_or_registry_row_needs_no_full_rebuild(nightly, tmp_path):
    settings, _, _, _, _ = nightly

    def new_file(con):
        insert_payments(con, [payment("walsall", OTHERS.format("walsall") + ".v2", 2, date(2025, 8, 1), "1.00", "X")])
        insert_publishers(con, [("walsall", *WMCA["walsall"])])

    assert _reason_after(settings, tmp_path, new_file) is None


def test_lines_leaving_raw_force_a_full_rebuild(nightly, tmp_path):
    settings, _, _, _, _ = nightly
    reason = _reason_after(settings, tmp_path, lambda con: con.execute(
        "DELETE FROM raw.spend_payments WHERE source_file = ?", [REPUBLISHED]).fetchall())
    assert reason == "payment lines of 1 file(s) left raw.spend_payments (a feed replaced an earlier version)"


def test_a_renamed_publisher_forces_a_full_rebuild(nightly, tmp_path):
    settings, _, _, _, _ = nightly
    reason = _reason_after(settings, tmp_path, lambda con: con.execute(
        "UPDATE raw.spend_publishers SET publisher_name = 'Walsall Metropolitan Borough Council' "
        "WHERE publisher_id = 'walsall'").fetchall())
    assert reason is not None and "publishers' names or districts changed" in reason


def test_a_night_tests_what_arrived_since_the_last_build(nightly, tmp_path):
    """A night's data tests read what can have changed since the last complete build (rows_to_check in
    macros/incremental.sql): a release key repeated by a row loaded since still fails the build."""
    settings = _copy(nightly[0], tmp_path)
    query(settings, "INSERT INTO raw.ocds_releases "
                    "SELECT * REPLACE (current_timestamp AS loaded_at) FROM raw.ocds_releases LIMIT 1")
    with pytest.raises(TransformError, match="unique_combination_stg_ocds__releases_source__ocid__release_id"):
        build(settings)


def _published(settings, sql: str) -> Counter:
    con = duckdb.connect(str(settings.warehouse_db), read_only=True)
    try:
        return Counter(map(repr, con.execute(sql).fetchall()))
    finally:
        con.close()


def test_the_night_is_published_by_updating_a_copy_of_the_warehouse(nightly):
    settings, _, _, _, _ = nightly
    result = publish(settings)

    assert result.updated_in_place == ["fct_award_suppliers", "fct_payments"]
    for mart in result.row_counts:
        assert _published(settings, f"FROM marts.{mart}") == Counter(map(repr, query(settings, f"FROM marts.{mart}"))), mart


def test_a_published_copy_that_does_not_match_is_replaced_whole(nightly, tmp_path):
    settings = _copy(nightly[0], tmp_path)
    publish(settings)
    con = duckdb.connect(str(settings.warehouse_db))
    con.execute("UPDATE marts.fct_payments SET amount_gbp = amount_gbp + 1 WHERE source_file LIKE '%coventry%'")
    con.close()

    result = publish(settings)

    assert result.updated_in_place == []
    assert _published(settings, "FROM marts.fct_payments") == Counter(map(repr, query(settings, "FROM marts.fct_payments")))
