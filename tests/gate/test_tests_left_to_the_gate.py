"""The marts' dbt tests tagged also_validated, which a night's incremental build leaves to the validation gate
(flows/transform.py, _left_out_of_incremental_build), are each checked by the gate too: the same rule on the
same mart in expectations/suites.py. A tagged test with no such check fails here."""

from __future__ import annotations

import re
from pathlib import Path

import great_expectations.expectations as gxe
import pytest
import yaml

from expectations.suites import SUITES

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
TAG = "also_validated"
# Singular tests tagged also_validated -> the gate's checks (table, check name) that repeat them.
SINGULAR = {
    "assert_payment_keys_unique": [("marts.fct_payments", "unique_payment_key")],
    "assert_local_spend_total_equals_sme_spend": [("marts.local_spend", "total_gbp_matches_sme_spend"),
                                                  ("marts.green_spend", "total_gbp_matches_sme_spend")],
}
SUITE = {s.table: s for s in SUITES}


def _tagged_generic_tests() -> list[tuple[str, str | None, str, dict]]:
    """(table, column or None, test name, arguments) of every generic test on a mart tagged also_validated."""
    found = []
    for model in yaml.safe_load((DBT / "models" / "marts" / "_marts__models.yml").read_text())["models"]:
        table = f"marts.{model['name']}"
        placed = [(None, t) for t in model.get("data_tests", [])]
        placed += [(c["name"], t) for c in model.get("columns", []) for t in c.get("data_tests", [])]
        for column, test in placed:
            if isinstance(test, dict):
                (name, spec), = test.items()
                if TAG in (spec.get("config") or {}).get("tags", []):
                    found.append((table, column, name, spec.get("arguments") or {}))
    return found


def _row_expectations(table: str, kind: type) -> list:
    return [e for e in SUITE[table].rows if isinstance(e, kind) and e.row_condition is None and e.mostly == 1]


def _check(table: str, name: str):
    return next((c for c in SUITE[table].checks if c.name == name), None)


def _gate_repeats(table: str, column: str | None, name: str, arguments: dict) -> bool:
    if name == "accepted_values":
        return any(e.column == column and set(e.value_set) == set(arguments["values"])
                   for e in _row_expectations(table, gxe.ExpectColumnValuesToBeInSet))
    if name == "columns_not_null":
        not_null = {e.column for e in _row_expectations(table, gxe.ExpectColumnValuesToNotBeNull)}
        return set(arguments["columns"]) <= not_null
    if name in ("unique", "unique_combination"):
        return _check(table, "unique_" + "_".join(arguments.get("columns") or [column])) is not None
    if name == "sums_to":
        sql = re.escape(" + ".join(arguments["parts"])) + r" - " + re.escape(column)
        return any(re.search(sql, c.sql) for c in SUITE[table].checks)
    return False


def test_some_marts_tests_are_left_to_the_gate():
    assert len(_tagged_generic_tests()) >= 20


@pytest.mark.parametrize("table, column, name, arguments", _tagged_generic_tests(),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_the_gate_checks_what_a_tagged_generic_test_checks(table, column, name, arguments):
    assert _gate_repeats(table, column, name, arguments), f"no check of {table} repeats {name} {column or arguments}"


def test_the_gate_checks_what_a_tagged_singular_test_checks():
    tagged = {p.stem for p in (DBT / "tests").glob("*.sql") if f"tags=['{TAG}']" in p.read_text()}
    assert tagged == set(SINGULAR)
    for table, check in (pair for pairs in SINGULAR.values() for pair in pairs):
        assert _check(table, check) is not None, (table, check)
