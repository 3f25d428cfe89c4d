"""The OCDS models built incrementally equal a full rebuild, and an incremental build recompiles only the
processes that took new releases. Real DuckDB, real dbt (flows.transform.build), releases loaded by the
harvest's loader from landed package files."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

from dbt_raw_fixtures import contracts_finder_releases, make_settings, query
from flows.database import working_db
from flows.raw.ocds_releases import LandedPackage, load_releases
from flows.transform import build, prepare_working_db

OCDS_MODELS = "+int_ocds__award_supplier_parties +int_ocds__compiled_releases +int_ocds__compiled_classifications"
COMPILED = ["int_ocds__release_sequence", "int_ocds__compiled_releases", "int_ocds__compiled_parties",
            "int_ocds__compiled_awards", "int_ocds__compiled_classifications", "int_ocds__award_supplier_parties"]
STAGED = ["stg_ocds__releases", "stg_ocds__release_awards", "stg_ocds__release_parties",
          "stg_ocds__release_classifications"]


def land(settings, name: str, releases: list[dict]) -> LandedPackage:
    path = Path(settings.home) / "landing" / "contracts_finder" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"releases": releases}), encoding="utf-8")
    return LandedPackage("contracts_finder", path, path.relative_to(settings.home).as_posix())


def snapshot(settings) -> dict[str, Counter]:
    tables = [("intermediate", t) for t in COMPILED] + [("staging", t) for t in STAGED]
    # repr: rows hold lists and structs, which are not hashable
    return {t: Counter(map(repr, query(settings, f"SELECT * FROM {schema}.{t}"))) for schema, t in tables}


def the_next_night(releases: dict[str, dict]) -> list[dict]:
    """A day of notices: an award update, a backdated release, a new process and a re-delivered release."""
    sme = releases["cf_2025_award_supplier_sme.json"]
    update = copy.deepcopy(sme)
    update.update(id=sme["id"] + "-upd", date="2025-02-20T09:00:00Z", tag=["awardUpdate"])
    update["awards"][0]["value"]["amount"] = 2 * update["awards"][0]["value"]["amount"]
    update["awards"][0]["suppliers"].append({"id": "GB-COH-09999999", "name": "Second Supplier Ltd"})
    update["parties"].append({"id": "GB-COH-09999999", "name": "Second Supplier Ltd", "roles": ["supplier"],
                              "address": {"postalCode": "B1 1AA"}, "details": {"scale": "sme"}})
    update["tender"]["classification"] = {"scheme": "CPV", "id": "72000000"}  # the old CPV code must go

    planning = releases["cf_2025_planning.json"]
    backdated = {"ocid": planning["ocid"], "id": planning["id"] + "-early", "date": "2024-01-01T00:00:00Z",
                 "tag": ["planning"], "title": "An earlier title that must not win"}

    tender = releases["cf_2025_tender_open.json"]
    new_process = copy.deepcopy(releases["cf_2025_award_supplier_sme_vcse_true.json"])
    new_process.update(ocid=new_process["ocid"] + "-new", id=new_process["id"] + "-new")

    redelivered = {**tender, "title": "A second copy of a stored release, ignored"}
    return [update, backdated, new_process, redelivered]


def test_incremental_build_recompiles_only_touched_processes_and_equals_a_full_rebuild(tmp_path):
    settings = make_settings(tmp_path / "home")
    prepare_working_db(settings)
    releases = dict(contracts_finder_releases())
    with working_db(settings) as con:
        load_releases(con, [land(settings, "night1.json", list(releases.values()))])
    build(settings, select=OCDS_MODELS)

    # A process no release of the next night touches: marked, so that recompiling it would show.
    untouched = releases["cf_2025_award_multi_supplier_large_duplicate_names.json"]["ocid"]
    (title,) = query(settings, "SELECT title FROM intermediate.int_ocds__compiled_releases WHERE ocid = ?", [untouched])[0]
    query(settings, "UPDATE intermediate.int_ocds__compiled_releases SET title = 'not recompiled' WHERE ocid = ?",
          [untouched])

    with working_db(settings) as con:
        count = load_releases(con, [land(settings, "night2.json", the_next_night(releases))])
    assert (count.seen, count.new) == (4, 3)  # the re-delivered release is stored once
    build(settings, select=OCDS_MODELS, full_refresh=False)

    assert query(settings, "SELECT title FROM intermediate.int_ocds__compiled_releases WHERE ocid = ?",
                 [untouched]) == [("not recompiled",)]
    sme = releases["cf_2025_award_supplier_sme.json"]["ocid"]
    assert query(settings, "SELECT cpv_code FROM intermediate.int_ocds__compiled_classifications WHERE ocid = ?",
                 [sme]) == [("72000000",)]
    assert ("Second Supplier Ltd",) in query(
        settings, "SELECT supplier_name FROM intermediate.int_ocds__award_supplier_parties WHERE ocid = ?", [sme])
    query(settings, "UPDATE intermediate.int_ocds__compiled_releases SET title = ? WHERE ocid = ?", [title, untouched])
    incremental = snapshot(settings)

    build(settings, select=OCDS_MODELS, full_refresh=True)
    rebuilt = snapshot(settings)
    assert sum(len(rows) for rows in rebuilt.values()) > 100
    for table in rebuilt:
        assert incremental[table] == rebuilt[table], table
