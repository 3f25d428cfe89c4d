"""Generate the bundled sample OCDS feeds for Contracts Finder and Find a Tender.

    python -m flows.sample.make_ocds_feeds [--out DIR]

Writes `contracts_finder/releases.json`, `find_a_tender/releases.json` (JSON arrays of OCDS 1.1
releases; the loopback server pages them into release packages), `manifest.json` (the date range the
releases cover) and `edge_cases.json` (the ocids of the deliberately awkward processes, so tests can
name them instead of hunting for them).

Seeded and stdlib only: the same code writes the same bytes on every machine. The synthetic releases
copy the shape of the real 2025 Contracts Finder releases in `tests/fixtures/contracts_finder/`, which
are included verbatim. Company numbers, supplier names (other than those from the real releases) and
people are fictional; postcodes and buyers' addresses are real, so the ONS Postcode Directory places
every party in the intended local authority district.
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).parent
FEEDS_DIR = HERE / "feeds"
# the real releases are the project's test fixtures; the generator includes them so the sample run loads them too
REAL_CF_DIR = HERE.parent.parent / "tests" / "fixtures" / "contracts_finder"

SEED = 20250401
WINDOW_START = date(2025, 4, 1)
WINDOW_END = date(2025, 9, 30)
# The real releases are dated January to March 2025; the manifest starts early enough to harvest them.
MANIFEST = {"published_from": "2025-01-01T00:00:00Z", "published_to": "2025-10-01T00:00:00Z"}

CF_PREFIX = "ocds-b5fd17-"
FTS_PREFIX = "ocds-h6vhtk-"


@dataclass(frozen=True)
class Supplier:
    key: str
    name: str
    company_number: str | None  # as written by the supplier; some lack the leading zero
    street: str
    town: str
    postcode: str | None
    lad: str | None  # the district the postcode is in (ONS code), checked by the tests
    scale: str | None  # 'sme' | 'large' | None: no details published
    vcse: bool
    address_style: str  # 'street': postcode at the end of streetAddress; 'postal'; 'postal_nospace'; 'lower'
    area: str  # 'wmca' | 'region' | 'national'
    alias: str | None = None  # another spelling the supplier also publishes under, without a company number


def _s(key, name, coh, street, town, postcode, lad, scale, vcse, style, area, alias=None) -> Supplier:
    return Supplier(key, name, coh, street, town, postcode, lad, scale, vcse, style, area, alias)


BIR, COV, DUD, SAN, SOL, WAL, WOL = ("E08000025", "E08000026", "E08000027", "E08000028", "E08000029",
                                      "E08000030", "E08000031")
WMCA_LADS = (BIR, COV, DUD, SAN, SOL, WAL, WOL)

SUPPLIERS: tuple[Supplier, ...] = (
    # Birmingham
    _s("S01", "Tyseley Solar & Electrical Ltd", "08412345", "Unit 4, Tyseley Industrial Estate", "Birmingham", "B11 2AL", BIR, "sme", False, "street", "wmca"),
    _s("S02", "Digbeth Digital Limited", "7012345", "The Custard Factory, Gibb Street", "Birmingham", "B5 5NE", BIR, "sme", False, "postal", "wmca"),
    _s("S03", "Balsall Heath Community Transport", None, "12 Edward Road, Balsall Heath", "Birmingham", "B12 8JN", BIR, "sme", True, "street", "wmca"),
    _s("S04", "Brummie Builders & Sons Ltd", "03456789", "88 Witton Road, Aston", "Birmingham", "B6 6JA", BIR, "sme", False, "postal", "wmca"),
    _s("S05", "Café Élan Catering Ltd", "09876543", "14 Colmore Row", "Birmingham", "B1 2JD", BIR, "sme", False, "street", "wmca"),
    _s("S06", "Hennessy Flooring Ltd", None, "30 Lismore Drive, Birmingham, West Midlands, United Kingdom", "Birmingham", "B17 0TP", BIR, None, False, "street", "wmca"),
    _s("S07", "Forward Steps Charity", None, "Unit 2, Hockley Hill", "Birmingham", "B19 2BS", BIR, "sme", True, "street", "wmca"),
    # Coventry
    _s("S08", "Coventry Retrofit Co-operative Ltd", None, "3 Far Gosford Street", "Coventry", "CV1 2TU", COV, "sme", True, "street", "wmca"),
    _s("S09", "Godiva Facilities Management Ltd", "05551234", "Whitley Business Park, London Road", "Coventry", "CV3 2ZW", COV, "sme", False, "postal", "wmca",
       alias="Godiva Facilities Management Limited"),
    _s("S10", "Phoenix Care Services", None, "41 Holbrook Lane", "Coventry", "CV6 4BA", COV, None, False, "street", "wmca"),
    _s("S11", "Spon End Software Co Ltd", "10234567", "9 Spon Street", "Coventry", "CV1 3PE", COV, "sme", False, "postal_nospace", "wmca"),
    # Dudley
    _s("S12", "Black Country Recycling Ltd", "06123987", "Pensnett Road Works", "Dudley", "DY2 7BY", DUD, "sme", False, "street", "wmca"),
    _s("S13", "Stourbridge Glass & Glazing Ltd", "2345678", "Amblecote Works, Brettell Lane", "Stourbridge", "DY8 3BG", DUD, "sme", False, "postal", "wmca"),
    _s("S14", "Halesowen Care Partnership", None, "5 Hagley Road", "Halesowen", "B63 2RJ", DUD, None, False, "street", "wmca"),
    _s("S15", "Brierley Hill Electrical Contractors Ltd", "04567321", "Unit 7, Level Street", "Brierley Hill", "DY5 2LG", DUD, "sme", False, "postal", "wmca"),
    # Sandwell
    _s("S16", "Oldbury Fabrications Ltd", "01987654", "Rood End Road", "Oldbury", "B69 2FD", SAN, "large", False, "postal", "wmca"),
    _s("S17", "The Albion Community Foundation", None, "Halfords Lane", "West Bromwich", "B71 2DQ", SAN, "sme", True, "street", "wmca"),
    _s("S18", "Smethwick Cleaning Services Ltd", "11223344", "210 High Street, Smethwick", "Smethwick", "B66 3AA", SAN, "sme", False, "street", "wmca"),
    _s("S19", "West Bromwich Heat Pumps Ltd", "12345670", "Unit 12, Kenrick Way", "West Bromwich", "B70 6DD", SAN, "sme", False, "postal", "wmca"),
    # Solihull
    _s("S20", "Solihull EV Charging Ltd", "13012345", "Blythe Valley Park", "Shirley", "B90 2QB", SOL, "sme", False, "postal", "wmca"),
    _s("S21", "Shirley Software Solutions Ltd", "07788990", "Stratford Road, Shirley", "Solihull", "B90 3NZ", SOL, "sme", False, "street", "wmca"),
    _s("S22", "Chelmsley Wood Community Trust", None, "Chelmsley Wood Centre", "Birmingham", "B37 6HA", SOL, "sme", True, "street", "wmca"),
    _s("S23", "Meriden Grounds Maintenance Ltd", "08899001", "Lode Lane Depot", "Solihull", "B92 7HZ", SOL, None, False, "postal", "wmca"),
    # Walsall
    _s("S24", "Walsall Waste & Recycling Co Ltd", "03344556", "Fryers Road", "Walsall", "WS2 7NU", WAL, "large", False, "postal", "wmca"),
    _s("S25", "Bloxwich Building Services Ltd", "06655443", "Station Street, Bloxwich", "Walsall", "WS3 2HY", WAL, "sme", False, "street", "wmca"),
    _s("S26", "Aldridge Insulation Ltd", "09911223", "Unit 5, Northgate", "Aldridge", "WS9 1BS", WAL, "sme", False, "postal", "wmca"),
    _s("S27", "Walsall Community Transport", None, "Pleck Road", "Walsall", "WS1 2NT", WAL, "sme", True, "street", "wmca"),
    _s("S28", "Sunrise Home Care Ltd", "10555666", "Bridge Street", "Walsall", "WS1 3LR", WAL, None, False, "lower", "wmca"),
    # Wolverhampton
    _s("S29", "Wolverhampton LED Lighting Ltd", "10987654", "Dudley Road", "Wolverhampton", "WV2 2LH", WOL, "sme", False, "postal", "wmca"),
    _s("S30", "The Wulfrun Cleaning Company Ltd", "05432198", "Lichfield Street", "Wolverhampton", "WV1 2TP", WOL, "sme", False, "street", "wmca"),
    _s("S31", "Bilston Community Care CIC", "11876543", "Church Street, Bilston", "Wolverhampton", "WV14 6NZ", WOL, "sme", True, "street", "wmca"),
    # a Wolverhampton postal address that is really in South Staffordshire (from a real 2025 release)
    _s("S32", "McManus Flooring", None, "Unit 4, Four Ashes Enterprise Centre, Latherford Close, Four Ashes, Wolverhampton, United Kingdom", "Wolverhampton", "WV10 7BY", "E07000196", None, False, "street", "region"),
    # rest of the West Midlands region
    _s("S33", "Warwickshire Solar Farms Ltd", "09123456", "Tachbrook Park Drive", "Warwick", "CV34 5NZ", "E07000222", "sme", False, "postal", "region"),
    _s("S34", "Nuneaton Highways Ltd", "04455667", "Attleborough Fields", "Nuneaton", "CV11 5JH", "E07000219", "large", False, "postal", "region"),
    _s("S35", "Rugby Consulting Group Ltd", "08765432", "North Street", "Rugby", "CV21 2RR", "E07000220", "sme", False, "street", "region"),
    _s("S36", "Staffordshire Fleet Electric Ltd", "10111213", "Beaconside", "Stafford", "ST16 2HB", "E07000197", "sme", False, "postal", "region"),
    _s("S37", "Lichfield Flood Defence Ltd", "06987123", "Cricket Lane", "Lichfield", "WS13 6YD", "E07000194", "sme", False, "street", "region"),
    _s("S38", "Tamworth Transport Ltd", "02468135", "Lichfield Street", "Tamworth", "B79 7HN", "E07000199", "large", False, "postal", "region"),
    _s("S39", "Redditch Care Homes Ltd", "05678123", "Plymouth Road", "Redditch", "B97 5PF", "E07000236", "sme", False, "street", "region"),
    _s("S40", "Kidderminster Grounds Ltd", "07123450", "Worcester Road", "Kidderminster", "DY10 2LR", "E07000239", "sme", False, "postal", "region"),
    _s("S41", "LGM Limited", None, "Coppice Trading Estate, Stourport Road, Kidderminster, Worcestershire, United Kingdom", "Kidderminster", "DY11 7QY", "E07000239", None, False, "street", "region"),
    _s("S42", "Shropshire Hills Heat Pumps Ltd", "08080808", "Harlescott Lane", "Shrewsbury", "SY1 2RZ", "E06000051", "sme", False, "postal", "region"),
    _s("S43", "Telford Insulation Ltd", "7654321", "Halesfield 3", "Telford", "TF3 1ZY", "E06000020", "sme", False, "street", "region"),
    _s("S44", "Hereford Environmental Services CIC", "12121212", "Holmer Road", "Hereford", "HR1 2NP", "E06000019", "sme", True, "postal", "region"),
    _s("S45", "Potteries Recycling Ltd", "03030303", "Etruria Road", "Stoke-on-Trent", "ST4 4FN", "E06000021", "large", False, "postal", "region"),
    _s("S46", "Cannock Chase Construction Ltd", "04040404", "Watling Street", "Cannock", "WS11 2LH", "E07000192", "large", False, "street", "region"),
    _s("S47", "Worcester Software Ltd", None, "The Butts", "Worcester", "WR1 2PL", "E07000237", None, False, "street", "region"),
    # elsewhere
    _s("S48", "Britannia Business Services Ltd", "01234567", "Shoreditch High Street", "London", "EC2A 2HJ", "E09000019", "large", False, "postal", "national"),
    _s("S49", "Northgate Infrastructure Group plc", "00456789", "Park Row", "Leeds", "LS1 4AT", "E08000035", "large", False, "postal", "national"),
    _s("S50", "Meridian Waste Management Ltd", "02938475", "Temple Way", "Bristol", "BS1 3SB", "E06000023", "large", False, "street", "national"),
    _s("S51", "Pennine Construction Ltd", "01122334", "Portland Street", "Manchester", "M1 2TG", "E08000003", "large", False, "postal", "national"),
    _s("S52", "Thames Valley IT Services Ltd", "03847562", "Forbury Road", "Reading", "RG1 4BD", "E06000038", "large", False, "postal", "national"),
    _s("S53", "Anglia Facilities plc", "00987123", "Station Road", "Cambridge", "CB1 2XN", "E07000008", "large", False, "street", "national"),
    _s("S54", "Caledonian Energy Ltd", "SC123456", "St Vincent Street", "Glasgow", "G2 4BJ", "S12000049", "large", False, "postal", "national"),
    _s("S55", "Crown Coaches Group plc", "1928374", "Grey Street", "Newcastle upon Tyne", "NE1 3PA", "E08000021", "large", False, "postal", "national"),
    _s("S56", "Solent Consulting LLP", "OC398765", "Ocean Way", "Southampton", "SO14 2AS", "E06000045", "sme", False, "street", "national"),
    _s("S57", "Greenline Electric Vehicles Ltd", "09182736", "Silbury Boulevard", "Milton Keynes", "MK9 2ED", "E06000042", "large", False, "postal", "national"),
    _s("S58", "Pinnacle Software & Data Ltd", "10293847", "Spinningfields", "Manchester", "M3 3HQ", "E08000003", "sme", False, "street", "national"),
    _s("S59", "Zuhlke Engineering LTD", "4103211", "Kunal Sharma, 80 Great Eastern St, London", "London", "EC2A 3JL", "E09000012", "sme", False, "street", "national"),
    _s("S60", "Aker Systems Limited", "10161344", "25A Market Square, Bicester, Oxfordshire,", "Bicester", "OX26 6AD", "E07000177", "sme", False, "street", "national"),
    _s("S61", "Elm Site Services Ltd", "05109035", "Elm House, Southend Arterial Road, Hornchurch, Essex,", "Hornchurch", "RM11 3UB", "E09000016", "sme", True, "street", "national"),
    _s("S62", "The Careers & Skills Trust", None, "Westminster Bridge Road", "London", "SE1 7TP", "E09000022", "large", True, "postal", "national"),
    _s("S63", "Green Spaces Trust", None, "Queen Square", "Bristol", "BS1 5BB", "E06000023", "sme", True, "street", "national"),
    # no postcode anywhere: its locality is unknown
    _s("S64", "Albion Security Services Ltd", "06060606", "Suite 2, Harbour House, Harbour Way", "", None, None, "large", False, "street", "national"),
)

# What each supplier does, so a solar contract goes to a solar firm when the pool allows it.
TRADES: dict[str, tuple[str, ...]] = {
    "S01": ("energy",), "S02": ("it",), "S03": ("transport",), "S04": ("construction",), "S05": ("facilities",),
    "S06": ("construction",), "S07": ("care", "training"), "S08": ("construction", "energy"), "S09": ("facilities",),
    "S10": ("care",), "S11": ("it",), "S12": ("waste",), "S13": ("construction",), "S14": ("care",),
    "S15": ("energy",), "S16": ("construction",), "S17": ("training", "care"), "S18": ("facilities",),
    "S19": ("energy",), "S20": ("energy",), "S21": ("it",), "S22": ("training",), "S23": ("facilities",),
    "S24": ("waste",), "S25": ("construction",), "S26": ("construction",), "S27": ("transport",), "S28": ("care",),
    "S29": ("energy",), "S30": ("facilities",), "S31": ("care",), "S32": ("construction",), "S33": ("energy",),
    "S34": ("construction", "transport"), "S35": ("it",), "S36": ("energy", "transport"), "S37": ("construction",),
    "S38": ("transport",), "S39": ("care",), "S40": ("facilities",), "S41": ("construction",), "S42": ("energy",),
    "S43": ("construction",), "S44": ("waste", "facilities"), "S45": ("waste",), "S46": ("construction",),
    "S47": ("it",), "S48": ("it", "facilities"), "S49": ("construction",), "S50": ("waste",), "S51": ("construction",),
    "S52": ("it",), "S53": ("facilities",), "S54": ("energy",), "S55": ("transport",), "S56": ("it",),
    "S57": ("energy", "transport"), "S58": ("it",), "S59": ("it",), "S60": ("it",), "S61": ("construction",),
    "S62": ("training", "care"), "S63": ("facilities", "waste"), "S64": ("facilities",),
}


@dataclass(frozen=True)
class Buyer:
    key: str
    name: str
    cf_scheme: str
    cf_id: str
    fts_scheme: str
    fts_id: str
    street: str
    locality: str
    postcode: str
    lad: str
    kind: str  # 'council' | 'combined_authority' | 'national' | 'region'
    email: str
    postcode_nospace: bool = False  # Contracts Finder often prints a buyer's postcode without its space


BUYERS: tuple[Buyer, ...] = (
    Buyer("birmingham", "Birmingham City Council", "GB-LAE", "BIR", "GB-PPON", "PBRM-4821-QHTW", "Council House, Victoria Square", "Birmingham", "B1 1BB", BIR, "council", "procurement@birmingham.gov.uk"),
    Buyer("coventry", "Coventry City Council", "GB-LAE", "COV", "GB-PPON", "PCVT-7734-LMNB", "One Friargate", "Coventry", "CV1 2GN", COV, "council", "procurement@coventry.gov.uk", True),
    Buyer("dudley", "Dudley Metropolitan Borough Council", "GB-LAE", "DUD", "GB-PPON", "PDDL-1180-XKRT", "Council House, Priory Road", "Dudley", "DY1 1HF", DUD, "council", "procurement@dudley.gov.uk"),
    Buyer("sandwell", "Sandwell Metropolitan Borough Council", "GB-LAE", "SAW", "GB-PPON", "PSND-5523-WQZD", "Sandwell Council House, Freeth Street", "Oldbury", "B69 3DB", SAN, "council", "procurement@sandwell.gov.uk", True),
    Buyer("solihull", "Solihull Metropolitan Borough Council", "GB-LAE", "SOL", "GB-PPON", "PSLH-3067-JVNC", "Council House, Manor Square", "Solihull", "B91 3QB", SOL, "council", "procurement@solihull.gov.uk"),
    Buyer("walsall", "Walsall Council", "GB-LAE", "WLL", "GB-PPON", "PWLS-9412-HBRM", "Civic Centre, Darwall Street", "Walsall", "WS1 1TP", WAL, "council", "procurement@walsall.gov.uk"),
    Buyer("wolverhampton", "City of Wolverhampton Council", "GB-LAE", "WLV", "GB-PPON", "PWLV-2259-TCGK", "Civic Centre, St Peter's Square", "Wolverhampton", "WV1 1SH", WOL, "council", "procurement@wolverhampton.gov.uk", True),
    Buyer("wmca", "West Midlands Combined Authority", "GB-CFS", "228114", "GB-PPON", "PWMC-6605-RDLS", "16 Summer Lane", "Birmingham", "B19 3SD", BIR, "combined_authority", "procurement@wmca.org.uk"),
    Buyer("cabinet_office", "Cabinet Office", "GB-SRS", "sid4gov.cabinetoffice.gov.uk/3A4AmUm4", "GB-PPON", "PCAB-1001-MWHT", "70 Whitehall", "LONDON", "SW1A 2AS", "E09000033", "national", "procurement@cabinetoffice.gov.uk", True),
    Buyer("dfe", "Department for Education", "GB-CFS", "199803", "GB-PPON", "PDFE-2044-SNCB", "Sanctuary Buildings, Great Smith Street", "London", "SW1P 3BT", "E09000033", "national", "commercial@education.gov.uk"),
    Buyer("nhs_england", "NHS England", "GB-CFS", "210377", "GB-PPON", "PNHE-3390-QRYH", "Quarry House, Quarry Hill", "Leeds", "LS2 7UE", "E08000035", "national", "commercial@england.nhs.uk"),
    Buyer("environment_agency", "Environment Agency", "GB-CFS", "187244", "GB-PPON", "PENV-4718-HZDR", "Horizon House, Deanery Road", "Bristol", "BS1 5AH", "E06000023", "national", "procurement@environment-agency.gov.uk"),
    Buyer("dft", "Department for Transport", "GB-CFS", "201556", "GB-PPON", "PDFT-5102-GMHR", "Great Minster House, 33 Horseferry Road", "London", "SW1P 4DR", "E09000033", "national", "commercial@dft.gov.uk"),
    Buyer("ccs", "Crown Commercial Service", "GB-CFS", "166320", "GB-PPON", "PCCS-6631-LVPL", "The Capital, Old Hall Street", "Liverpool", "L3 9PP", "E08000012", "national", "info@crowncommercial.gov.uk"),
    Buyer("warwickshire", "Warwickshire County Council", "GB-LAE", "WAR", "GB-PPON", "PWRW-7245-SHRH", "Shire Hall, Market Place", "Warwick", "CV34 4RL", "E07000222", "region", "procurement@warwickshire.gov.uk"),
    # a council-owned company: Find a Tender identifies it by its company number
    Buyer("wm_growth", "West Midlands Growth Company Limited", "GB-COH", "08532201", "GB-COH", "08532201", "Colmore Plaza, 20 Colmore Circus", "Birmingham", "B4 6AT", BIR, "region", "procurement@wmgrowth.example"),
)
BUYER = {b.key: b for b in BUYERS}
COUNCILS = tuple(b for b in BUYERS if b.kind == "council")
SUPPLIER = {s.key: s for s in SUPPLIERS}


@dataclass(frozen=True)
class Work:
    """A kind of contract: its CPV codes, wording, and whether the green rules should tag it."""
    key: str
    cpv: str
    cpv_description: str
    title: str
    description: str
    trade: str
    category: str  # OCDS mainProcurementCategory
    green: bool
    low: int  # typical contract value range, GBP
    high: int
    item_cpv: tuple[str, str] | None = None  # (code, description) on tender.items[].classification
    additional_cpv: tuple[str, str] | None = None  # on tender.items[].additionalClassifications


def _w(key, cpv, cpv_desc, title, description, trade, category, green, low, high, item=None, additional=None) -> Work:
    return Work(key, cpv, cpv_desc, title, description, trade, category, green, low, high, item, additional)


WORKS: tuple[Work, ...] = (
    # core green CPV codes
    _w("solar_pv", "09331200", "Solar photovoltaic modules", "Solar PV installation on {place} depot roofs",
       "Design, supply and installation of roof-mounted solar PV arrays on operational depots, with monitoring for 10 years.", "energy", "works", True, 80_000, 900_000),
    _w("pv_cells", "31712331", "Photovoltaic cells", "Supply of photovoltaic panels for {place} schools",
       "Supply of photovoltaic panels and inverters for the schools capital programme.", "energy", "goods", True, 40_000, 400_000),
    _w("heat_pumps", "42511110", "Heat pumps", "Air source heat pumps for sheltered housing schemes",
       "Supply and installation of air source heat pumps in sheltered housing, including removal of storage heaters.", "energy", "works", True, 150_000, 1_800_000),
    _w("insulation", "45321000", "Thermal insulation work", "External wall insulation programme {year}",
       "External wall and loft insulation to council-owned homes under the Warm Homes Social Housing Fund.", "construction", "works", True, 200_000, 2_500_000),
    _w("ev_fleet", "34144900", "Electric vehicles", "Electric refuse collection vehicles",
       "Supply of battery-electric refuse collection vehicles with maintenance.", "transport", "goods", True, 300_000, 3_000_000),
    _w("waste_disposal", "90510000", "Refuse disposal and treatment", "Residual waste treatment and disposal",
       "Treatment and disposal of residual household waste delivered to transfer stations.", "waste", "services", True, 500_000, 6_000_000),
    _w("recycling", "90514000", "Refuse recycling services", "Dry mixed recycling processing",
       "Reception, sorting and onward sale of dry mixed recyclables from kerbside collections.", "waste", "services", True, 100_000, 1_500_000),
    _w("flood", "45246400", "Flood-prevention works", "Flood defence improvements on the River {river}",
       "Construction of raised flood embankments and a flood storage area.", "construction", "works", True, 250_000, 4_000_000),
    # green only through a classification other than tender.classification
    _w("solar_canopy", "45261215", "Solar panel roof-covering work", "Car park canopy for the civic centre",
       "Canopy structure over the civic centre car park.", "energy", "works", True, 120_000, 600_000,
       additional=("09331200", "Solar photovoltaic modules")),
    _w("plant_room", "45000000", "Construction work", "Leisure centre plant room upgrade",
       "Replacement of the leisure centre's plant room equipment.", "energy", "works", True, 200_000, 900_000,
       item=("42511110", "Heat pumps")),
    # ambiguous CPV codes, with a green keyword in the wording
    _w("renewable_electricity", "09310000", "Electricity", "Supply of renewable electricity to corporate buildings",
       "100% renewable electricity backed by REGO certificates for offices, depots and schools.", "energy", "goods", True, 500_000, 5_000_000),
    _w("hvac_heat_pump", "45331000", "Heating, ventilation and air-conditioning installation work", "Heat pump installation at {place} leisure centre",
       "Replacement of the pool heating with a ground source heat pump system.", "energy", "works", True, 150_000, 1_200_000),
    _w("retrofit", "45210000", "Building construction work", "Whole-house retrofit of council homes",
       "Deep retrofit of council homes: insulation, glazing, ventilation and solar.", "construction", "works", True, 300_000, 3_000_000),
    _w("zero_emission_bus", "60112000", "Public road transport services", "Zero emission bus services: routes {route}",
       "Operation of supported bus routes with zero emission buses.", "transport", "services", True, 400_000, 4_000_000),
    _w("led_lighting", "34993000", "Road lights", "LED street lighting conversion",
       "Conversion of sodium street lights to LED lanterns with a central management system.", "energy", "goods", True, 200_000, 2_000_000),
    # no green CPV code: keyword rules only
    _w("ev_charge_points", "45310000", "Electrical installation work", "EV charge points at council car parks",
       "Installation and maintenance of EV charge points in public car parks.", "energy", "works", True, 60_000, 700_000),
    _w("battery_storage", "31440000", "Batteries", "Battery storage at {place} depot",
       "Supply and commissioning of a battery storage system for the depot.", "energy", "goods", True, 80_000, 500_000),
    # the same ambiguous codes without a green keyword
    _w("electricity", "09310000", "Electricity", "Supply of electricity to corporate buildings",
       "Half-hourly and non-half-hourly electricity supply for council sites.", "energy", "goods", False, 500_000, 5_000_000),
    _w("gas_boiler", "45331000", "Heating, ventilation and air-conditioning installation work", "Gas boiler replacement programme",
       "Replacement of failed gas boilers in council homes.", "construction", "works", False, 100_000, 1_000_000),
    _w("new_build", "45210000", "Building construction work", "New build community hub in {place}",
       "Construction of a two-storey community hub with library and cafe.", "construction", "works", False, 800_000, 6_000_000),
    _w("bus_services", "60112000", "Public road transport services", "Supported local bus services",
       "Operation of tendered local bus routes.", "transport", "services", False, 200_000, 2_000_000),
    _w("street_lighting", "34993000", "Road lights", "Street lighting column replacement",
       "Structural testing and replacement of street lighting columns.", "construction", "works", False, 100_000, 900_000),
    # exclusion terms; the fuel cards veto a keyword-only match ('electric'), while fossil_heating pairs an
    # ambiguous code and a keyword with an exclusion, which the rule set must settle (hence green=False is
    # only this generator's label, not a claim about the rules)
    _w("fleet_fuel", "09134100", "Diesel oil", "Supply of diesel and petrol for the council fleet",
       "Bulk delivery of diesel and petrol to council depots.", "energy", "goods", False, 200_000, 1_500_000),
    _w("fuel_cards", "30163100", "Agency fuel cards", "Fuel cards: petrol, diesel and electric vehicle charging",
       "Fuel cards for fleet vehicles, covering petrol, diesel and electric charging.", "transport", "services", False, 50_000, 400_000),
    _w("fossil_heating", "45331000", "Heating, ventilation and air-conditioning installation work", "Fossil fuel heating maintenance with heat pump feasibility",
       "Servicing of fossil fuel boilers in civic buildings and a heat pump feasibility study.", "construction", "services", False, 40_000, 300_000),
    _w("generators", "31121000", "Generating sets", "Diesel generator hire for events",
       "Hire of diesel generators for outdoor events.", "energy", "services", False, 20_000, 150_000),
    # ordinary services
    _w("software", "48000000", "Software package and information systems", "Revenues and benefits software",
       "Hosted revenues and benefits system with support.", "it", "goods", False, 60_000, 1_200_000),
    _w("it_services", "72000000", "IT services: consulting, software development, Internet and support", "Website redevelopment",
       "Redevelopment of the council website and content migration.", "it", "services", False, 40_000, 400_000),
    _w("consultancy", "79400000", "Business and management consultancy and related services", "Transformation consultancy support",
       "Consultancy support for the council's transformation programme.", "it", "services", False, 30_000, 500_000),
    _w("care", "85000000", "Health and social work services", "Domiciliary care framework",
       "Home care for adults assessed as eligible under the Care Act 2014.", "care", "services", False, 200_000, 5_000_000),
    _w("supported_living", "85311000", "Social work services with accommodation", "Supported living placements",
       "Supported living for adults with learning disabilities.", "care", "services", False, 100_000, 2_000_000),
    _w("construction", "45000000", "Construction work", "School extension works at {place}",
       "Two-classroom extension and associated external works.", "construction", "works", False, 300_000, 3_000_000),
    _w("cleaning", "90910000", "Cleaning services", "Office cleaning services",
       "Daily cleaning of civic offices and libraries.", "facilities", "services", False, 40_000, 600_000),
    _w("transport", "60100000", "Road transport services", "Home to school transport",
       "Transport for pupils with special educational needs.", "transport", "services", False, 100_000, 1_500_000),
    _w("security", "79710000", "Security services", "Manned guarding for civic buildings",
       "Security officers and key holding for civic buildings.", "facilities", "services", False, 60_000, 700_000),
    _w("catering", "55520000", "Catering services", "School meals catering",
       "Provision of school meals to primary schools.", "facilities", "services", False, 150_000, 2_000_000),
    _w("grounds", "77310000", "Planting and maintenance services of green areas", "Parks grounds maintenance",
       "Grass cutting, shrub beds and litter picking in parks.", "facilities", "services", False, 50_000, 800_000),
    _w("training", "80500000", "Training services", "Adult skills training",
       "Community adult learning courses.", "training", "services", False, 30_000, 400_000),
    _w("highways", "50230000", "Repair, maintenance and associated services related to roads and other equipment", "Highways maintenance term contract",
       "Reactive and planned highways maintenance.", "construction", "services", False, 400_000, 5_000_000),
    _w("flooring", "44112200", "Floor coverings", "Flooring term contract",
       "Floor coverings for schools and offices, with agreed rates for ad hoc works.", "construction", "works", False, 20_000, 250_000),
)
WORK = {w.key: w for w in WORKS}
GREEN_WORKS = tuple(w for w in WORKS if w.green)
OTHER_WORKS = tuple(w for w in WORKS if not w.green)
PLACES = ("Tyseley", "Stechford", "Foleshill", "Brierley Hill", "Tipton", "Chelmsley Wood", "Bloxwich", "Bilston", "Digbeth", "Aldridge")
RIVERS = ("Tame", "Rea", "Sowe", "Stour", "Penk")

# Each slot of a council's awards draws its supplier from the next pool, so every council gets
# local, regional and national firms, SMEs, large firms, charities and suppliers of unknown scale.
POOLS = ("own", "large", "unknown", "region", "vcse", "wmca", "national_sme")
MONTHS = (4, 5, 6, 7, 8, 9)
ABOVE_THRESHOLD = 214_904  # the Procurement Act 2023 threshold for local authority services (GBP, incl. VAT)


def _pool(name: str, buyer: Buyer) -> list[Supplier]:
    wmca = [s for s in SUPPLIERS if s.area == "wmca"]
    pools = {
        "own": [s for s in wmca if s.lad == buyer.lad] or wmca,
        "large": [s for s in SUPPLIERS if s.scale == "large"],
        "unknown": [s for s in SUPPLIERS if s.scale is None],
        "region": [s for s in SUPPLIERS if s.area == "region"],
        "vcse": [s for s in SUPPLIERS if s.vcse],
        "wmca": [s for s in wmca if s.lad != buyer.lad],
        "national_sme": [s for s in SUPPLIERS if s.area == "national" and s.scale == "sme"],
    }
    return pools[name]


def _pick(rng: random.Random, pool: str, buyer: Buyer, trade: str, exclude: tuple[Supplier, ...] = ()) -> Supplier:
    candidates = [s for s in _pool(pool, buyer) if s not in exclude]
    fitting = [s for s in candidates if trade in TRADES[s.key]]
    return rng.choice(fitting or candidates)


def _money(rng: random.Random, low: int, high: int) -> int | float:
    """Round amounts mostly; now and then pence, as real notices have."""
    amount = rng.randint(low, high)
    if rng.random() < 0.2:
        return round(amount + rng.randint(1, 99) / 100, 2)
    return amount // 500 * 500


def _stamp(day: date, rng: random.Random) -> str:
    """A release timestamp during office hours, in UTC as both services print it."""
    return f"{day.isoformat()}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def _midnight(day: date, bst: bool) -> str:
    """Award and contract dates are local midnight; Contracts Finder prints some with the BST offset."""
    return f"{day.isoformat()}T00:00:00{'+01:00' if bst else 'Z'}"


def _clamp(day: date) -> date:
    return min(max(day, WINDOW_START), WINDOW_END)


def _fill(work: Work, rng: random.Random) -> tuple[str, str]:
    names = {"place": rng.choice(PLACES), "river": rng.choice(RIVERS), "year": "2025/26",
             "route": f"{rng.randint(1, 99)} and {rng.randint(100, 199)}"}
    return work.title.format(**names), work.description.format(**names)


def _classification(code: str, description: str) -> dict[str, str]:
    return {"scheme": "CPV", "id": code, "description": description}


def _items(work: Work, delivery: dict[str, str]) -> list[dict[str, Any]]:
    item: dict[str, Any] = {"id": "1"}
    if work.item_cpv:
        item["classification"] = _classification(*work.item_cpv)
    if work.additional_cpv:
        item["additionalClassifications"] = [_classification(*work.additional_cpv)]
    item["deliveryAddresses"] = [delivery]
    return [item]


def _street_address(s: Supplier, postcode: str) -> str:
    parts = [s.street.rstrip(", ")]
    if s.town and s.town not in s.street:
        parts.append(s.town)
    return ", ".join(parts + [postcode])


def _cf_address(s: Supplier) -> dict[str, str]:
    if s.postcode is None:
        return {"streetAddress": s.street}
    if s.address_style == "street":
        return {"streetAddress": _street_address(s, s.postcode)}
    if s.address_style == "lower":
        return {"streetAddress": _street_address(s, s.postcode.lower())}
    postcode = s.postcode.replace(" ", "") if s.address_style == "postal_nospace" else s.postcode
    return {"streetAddress": s.street, "locality": s.town, "postalCode": postcode, "countryName": "England"}


def _cf_supplier(s: Supplier, alias: bool = False) -> dict[str, Any]:
    name = s.alias if alias and s.alias else s.name
    if s.company_number and not alias:
        party_id = f"GB-COH-{s.company_number}"
        identifier = {"legalName": name, "scheme": "GB-COH", "id": s.company_number}
    else:
        party_id = f"GB-CFS-{307000 + int(s.key[1:]) * 11 + (5 if alias else 0)}"
        identifier = {"legalName": name}
    party: dict[str, Any] = {"id": party_id, "name": name, "identifier": identifier, "address": _cf_address(s)}
    if s.scale:
        party["details"] = {"scale": s.scale, "vcse": s.vcse}
    party["roles"] = ["supplier"]
    return party


def _cf_buyer(b: Buyer) -> dict[str, Any]:
    party_id = f"{b.cf_scheme}-{b.cf_id}"
    identifier = {"legalName": b.name, "scheme": b.cf_scheme, "id": b.cf_id} if b.cf_scheme != "GB-CFS" else {"legalName": b.name}
    postcode = b.postcode.replace(" ", "") if b.postcode_nospace else b.postcode
    return {
        "id": party_id, "name": b.name, "identifier": identifier,
        "address": {"streetAddress": b.street, "locality": b.locality, "postalCode": postcode, "countryName": "England"},
        "contactPoint": {"name": "Corporate Procurement", "email": b.email},
        "roles": ["buyer"],
    }


@dataclass
class Award:
    suppliers: list[tuple[Supplier, bool]]  # (supplier, published under its alias)
    value: int | float | None
    currency: str = "GBP"
    status: str = "active"
    title: str | None = None


@dataclass
class Update:
    """A later awardUpdate release of the same award notice."""
    day: date
    award_index: int = 0
    value: int | float | None = None
    add: Supplier | None = None
    status: str | None = None
    same_timestamp: bool = False  # published with exactly the award release's timestamp


class ContractsFinder:
    """Builds Contracts Finder releases the way the service publishes them: every notice is a full
    snapshot of the process, and each edit of a notice is a new release `<notice-uuid>-<number>`."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.releases: list[tuple[tuple[str, str, int], str, dict[str, Any]]] = []  # (sort key, notice, release)
        self.tender_numbers: dict[str, int] = {}

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _emit(self, release: dict[str, Any], notice: str, seq: int) -> None:
        self.releases.append(((release["date"], release["ocid"], seq), notice, release))

    def _tender_id(self, buyer: Buyer) -> str:
        n = self.tender_numbers[buyer.key] = self.tender_numbers.get(buyer.key, 0) + 1
        return f"{buyer.key.upper()[:3]}-2025-{n:04d}"

    def process(self, buyer: Buyer, work: Work, award_day: date | None, awards: list[Award], *,
                planning: bool = False, tender: bool = True, amend_tender: bool = False,
                updates: tuple[Update, ...] = (), release_day: date | None = None,
                award_date: str | None = "default", bst: bool | None = None) -> str:
        """One procurement process. `award_day` None: still open, no award yet. Returns its ocid."""
        rng = self.rng
        ocid = CF_PREFIX + self._uuid()
        title, description = _fill(work, rng)
        known = [a.value for a in awards if a.value is not None and a.currency == "GBP"]
        estimate = max(known) if known else _money(rng, work.low, work.high)
        estimate = int(estimate * rng.uniform(0.95, 1.25)) // 1000 * 1000 or 1000
        if bst is None:
            bst = rng.random() < 0.5
        if award_day is not None:
            release_day = release_day or _clamp(award_day + timedelta(days=rng.randint(2, 21)))
            tender_day = award_day - timedelta(days=rng.randint(35, 75))
        else:
            tender_day = release_day or _clamp(date(2025, 9, 30) - timedelta(days=rng.randint(0, 50)))
        close_day = tender_day + timedelta(days=rng.randint(21, 35))
        start_day = (award_day or close_day) + timedelta(days=rng.randint(14, 45))
        years = rng.choice((1, 2, 3, 4))
        method, details = (("open", "Open procedure (above threshold)") if estimate > ABOVE_THRESHOLD
                           else rng.choice((("open", "Open procedure (below threshold)"),
                                            ("limited", "Competitive quotation (below threshold)"))))
        tender_block: dict[str, Any] = {
            "id": self._tender_id(buyer),
            "title": title,
            "description": description,
            "status": "active",
            "classification": _classification(work.cpv, work.cpv_description),
            "items": _items(work, {"postalCode": buyer.postcode}),
            "value": {"amount": estimate, "currency": "GBP"},
            "procurementMethod": method,
            "procurementMethodDetails": details,
            "tenderPeriod": {"endDate": f"{close_day.isoformat()}T12:00:00{'+01:00' if bst else 'Z'}"},
            "contractPeriod": {"startDate": _midnight(start_day, bst),
                               "endDate": f"{(start_day + timedelta(days=365 * years - 1)).isoformat()}T23:59:59{'+01:00' if bst else 'Z'}"},
            "suitability": {"sme": True, "vcse": rng.random() < 0.4},
            "mainProcurementCategory": work.category,
        }
        tender_notice = self._uuid()
        tender_stamp = _stamp(tender_day, rng)
        tender_doc = {"id": "1", "documentType": "tenderNotice", "description": "Opportunity notice on Contracts Finder",
                      "url": f"https://www.contractsfinder.service.gov.uk/Notice/{tender_notice}",
                      "datePublished": tender_stamp, "format": "text/html", "language": "en"}
        buyer_party = _cf_buyer(buyer)
        buyer_ref = {"id": buyer_party["id"], "name": buyer.name}
        seq = 0

        def base(stamp: str, tag: str) -> dict[str, Any]:
            return {"ocid": ocid, "id": None, "language": "en", "date": stamp, "tag": [tag], "initiationType": "tender"}

        if planning:
            plan_day = tender_day - timedelta(days=rng.randint(20, 50))
            if plan_day >= WINDOW_START:
                plan_notice = self._uuid()
                stamp = _stamp(plan_day, rng)
                release = base(stamp, "planning")
                release["title"] = f"{title} - early market engagement"
                release["planning"] = {
                    "milestones": [{"id": "1", "title": "Engagement end date", "type": "engagement",
                                    "dueDate": f"{(plan_day + timedelta(days=14)).isoformat()}T23:59:59{'+01:00' if bst else 'Z'}"}],
                    "documents": [{"id": "1", "documentType": "marketEngagementNotice", "description": "Early engagement notice on Contracts Finder",
                                   "url": f"https://www.contractsfinder.service.gov.uk/Notice/{plan_notice}",
                                   "datePublished": stamp, "format": "text/html", "language": "en"}],
                }
                plan_tender = {k: v for k, v in tender_block.items() if k not in ("tenderPeriod", "procurementMethod", "procurementMethodDetails")}
                release["tender"] = {**plan_tender, "status": "planning"}
                release["parties"] = [buyer_party]
                release["buyer"] = buyer_ref
                self._emit(release, plan_notice, seq)
                seq += 1
        if tender and tender_day >= WINDOW_START:
            release = base(tender_stamp, "tender")
            release["tender"] = {**tender_block, "datePublished": tender_stamp, "documents": [tender_doc]}
            release["parties"] = [buyer_party]
            release["buyer"] = buyer_ref
            self._emit(release, tender_notice, seq)
            seq += 1
            amend_day = tender_day + timedelta(days=rng.randint(4, 12)) if amend_tender else None
            if amend_day is not None and amend_day <= WINDOW_END:
                stamp = _stamp(amend_day, rng)
                new_close = close_day + timedelta(days=7)
                release = base(stamp, "tenderAmendment")
                release["tender"] = {
                    **tender_block,
                    "description": f"***Amendment*** The closing date has been extended by one week.\n{description}",
                    "datePublished": tender_stamp,
                    "tenderPeriod": {"endDate": f"{new_close.isoformat()}T12:00:00{'+01:00' if bst else 'Z'}"},
                    "documents": [{**tender_doc, "dateModified": stamp}],
                }
                release["parties"] = [buyer_party]
                release["buyer"] = buyer_ref
                self._emit(release, tender_notice, seq)
                seq += 1
        if award_day is None:
            return ocid

        award_notice = self._uuid()
        award_stamp = _stamp(release_day, rng)
        award_doc = {"id": "1", "documentType": "awardNotice", "description": "Awarded contract notice on Contracts Finder",
                     "url": f"https://www.contractsfinder.service.gov.uk/Notice/{award_notice}",
                     "datePublished": award_stamp, "format": "text/html", "language": "en"}
        date_text = _midnight(award_day, bst) if award_date == "default" else award_date

        def award_release(stamp: str, tag: str, state: list[Award], modified: str | None) -> dict[str, Any]:
            release = base(stamp, tag)
            release["tender"] = {**tender_block, "status": "complete"}
            if tender and tender_day >= WINDOW_START:
                release["tender"]["datePublished"] = tender_stamp
            parties = [buyer_party]
            seen: set[str] = set()
            award_objects = []
            for index, award in enumerate(state, start=1):
                refs = []
                for supplier, alias in award.suppliers:
                    party = _cf_supplier(supplier, alias)
                    refs.append({"id": party["id"], "name": party["name"]})
                    if party["id"] not in seen:
                        seen.add(party["id"])
                        parties.append(party)
                obj: dict[str, Any] = {"id": f"{ocid}-{index}"}
                if award.title:
                    obj["title"] = award.title
                obj["status"] = award.status
                if date_text is not None:
                    obj["date"] = date_text
                obj["datePublished"] = award_stamp
                if award.value is not None:
                    obj["value"] = {"amount": award.value, "currency": award.currency}
                obj["suppliers"] = refs
                obj["contractPeriod"] = tender_block["contractPeriod"]
                obj["documents"] = [{**award_doc, "id": str(index), **({"dateModified": modified} if modified else {})}]
                award_objects.append(obj)
            release["parties"] = parties
            release["buyer"] = buyer_ref
            release["awards"] = award_objects
            return release

        self._emit(award_release(award_stamp, "award", awards, None), award_notice, seq)
        seq += 1
        state = [Award(list(a.suppliers), a.value, a.currency, a.status, a.title) for a in awards]
        for update in updates:
            target = state[update.award_index]
            if update.value is not None:
                target.value = update.value
            if update.add is not None:
                target.suppliers.append((update.add, False))
            if update.status is not None:
                target.status = update.status
            day = max(update.day, release_day + timedelta(days=1))
            if day > WINDOW_END:
                raise ValueError(f"an update of {ocid} would fall after the sample window")
            stamp = award_stamp if update.same_timestamp else _stamp(day, rng)
            self._emit(award_release(stamp, "awardUpdate", state, stamp), award_notice, seq)
            seq += 1
        return ocid

    def finish(self, first_number: int = 835_000) -> list[dict[str, Any]]:
        """Number the releases in publication order, as the service does."""
        number = first_number
        out = []
        for _key, notice, release in sorted(self.releases, key=lambda r: r[0]):
            number += self.rng.randint(1, 60)
            release["id"] = f"{notice}-{number}"
            out.append(release)
        return out


def _award_day(rng: random.Random, month: int) -> date:
    return date(2025, month, rng.randint(1, 28 if month < 9 else 12))


def _suppliers(rng: random.Random, buyer: Buyer, work: Work, first_pool: str, count: int) -> list[tuple[Supplier, bool]]:
    chosen: list[Supplier] = []
    for i in range(count):
        pool = first_pool if i == 0 else rng.choice(POOLS)
        chosen.append(_pick(rng, pool, buyer, work.trade, tuple(chosen)))
    # Godiva also publishes under its long name without a company number: one supplier, two spellings
    return [(s, bool(s.alias) and rng.random() < 0.4) for s in chosen]


def contracts_finder_releases(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    cf = ContractsFinder(rng)
    edge: dict[str, Any] = {}

    def routine(buyer: Buyer, work: Work, month: int, pool: str) -> str:
        framework = work.category == "services" and rng.random() < 0.12
        count = rng.randint(3, 5) if framework else 1
        suppliers = _suppliers(rng, buyer, work, pool, count)
        value = _money(rng, work.low, work.high) * (3 if framework else 1)
        updates: tuple[Update, ...] = ()
        if rng.random() < 0.07 and month < 9:
            updates = (Update(date(2025, month + 1, rng.randint(1, 28)), value=round(value * rng.uniform(1.05, 1.3))),)
        title = "Framework agreement (multi-supplier)" if framework else None
        return cf.process(buyer, work, _award_day(rng, month), [Award(suppliers, value, title=title)],
                          planning=rng.random() < 0.2, tender=rng.random() < 0.8, amend_tender=rng.random() < 0.15,
                          updates=updates)

    for month_index, month in enumerate(MONTHS):
        for council_index, council in enumerate(COUNCILS):
            for slot in range(3):
                pool = POOLS[(month_index * 3 + slot + council_index) % len(POOLS)]
                works = GREEN_WORKS if slot == 0 else OTHER_WORKS
                routine(council, rng.choice(works), month, pool)
        for _ in range(2):
            routine(BUYER["wmca"], rng.choice(WORKS), month, rng.choice(POOLS))
        for _ in range(4):
            buyer = rng.choice([b for b in BUYERS if b.kind in ("national", "region")])
            routine(buyer, rng.choice(WORKS), month, rng.choice(POOLS))
    # open opportunities, not yet awarded
    for _ in range(14):
        cf.process(rng.choice(BUYERS), rng.choice(WORKS), None, [], planning=rng.random() < 0.3, amend_tender=rng.random() < 0.2)

    def case(name: str, *args: Any, **kwargs: Any) -> None:
        # Each deliberate edge case draws from its own stream, so its ocid and dates stay put when the
        # routine volume or the other cases change: tests and hand-derived expectations name them.
        cf.rng = random.Random(f"{SEED}-contracts-finder-{name}")
        edge[name] = cf.process(*args, **kwargs)

    s = SUPPLIER
    case("award_value_amended",
        BUYER["birmingham"], WORK["solar_pv"], date(2025, 5, 6), [Award([(s["S01"], False)], 480_000)],
        updates=(Update(date(2025, 7, 15), value=525_000),), bst=False)
    case("award_supplier_added",
        BUYER["coventry"], WORK["care"], date(2025, 4, 22),
        [Award([(s["S10"], False), (s["S39"], False), (s["S62"], False)], 1_800_000, title="Framework agreement (multi-supplier)")],
        updates=(Update(date(2025, 8, 4), add=s["S31"]),), bst=False)
    case("award_cancelled",
        BUYER["dudley"], WORK["cleaning"], date(2025, 6, 10), [Award([(s["S18"], False)], 96_000)],
        updates=(Update(date(2025, 7, 2), status="cancelled"),), bst=False)
    case("award_unsuccessful",
        BUYER["sandwell"], WORK["security"], date(2025, 7, 8), [Award([(s["S64"], False)], 150_000, status="unsuccessful")], bst=False)
    case("award_eur",
        BUYER["dfe"], WORK["software"], date(2025, 6, 3), [Award([(s["S59"], False)], 250_000, currency="EUR")], bst=False)
    case("late_publication",
        BUYER["walsall"], WORK["flooring"], date(2024, 2, 12), [Award([(s["S06"], False), (s["S41"], False), (s["S32"], False)], 64_250.5)],
        tender=False, release_day=date(2025, 6, 18), bst=False)
    case("award_date_bst_midnight",
        BUYER["solihull"], WORK["ev_charge_points"], date(2025, 7, 1), [Award([(s["S20"], False)], 210_000)],
        award_date="2025-07-01T00:00:00+01:00", bst=True)
    case("award_without_date",
        BUYER["wolverhampton"], WORK["grounds"], date(2025, 5, 19), [Award([(s["S23"], False)], 72_000)],
        award_date=None, release_day=date(2025, 5, 30), bst=False)
    case("framework_five_suppliers",
        BUYER["wmca"], WORK["retrofit"], date(2025, 8, 12),
        [Award([(s["S08"], False), (s["S26"], False), (s["S43"], False), (s["S61"], False), (s["S51"], False)], 12_000_000,
               title="Framework agreement (multi-supplier)")], bst=False)
    case("two_lots",
        BUYER["wolverhampton"], WORK["highways"], date(2025, 4, 28),
        [Award([(s["S34"], False)], 1_250_000, title="Lot 1: north"), Award([(s["S30"], False)], 430_000, title="Lot 2: south")], bst=False)
    case("supplier_alias_without_company_number",
        BUYER["coventry"], WORK["cleaning"], date(2025, 9, 2), [Award([(s["S09"], True)], 188_000)], bst=False)
    case("awardUpdate_same_timestamp",
        BUYER["sandwell"], WORK["recycling"], date(2025, 8, 20), [Award([(s["S12"], False)], 340_000)],
        updates=(Update(date(2025, 8, 20), value=355_000, same_timestamp=True),), bst=False)
    case("keyword_with_exclusion",
        BUYER["birmingham"], WORK["fuel_cards"], date(2025, 6, 24), [Award([(s["S48"], False)], 240_000)], bst=False)
    case("ambiguous_cpv_keyword_and_exclusion",
        BUYER["dudley"], WORK["fossil_heating"], date(2025, 7, 22), [Award([(s["S13"], False)], 88_000)], bst=False)
    case("green_via_additional_classification",
        BUYER["dudley"], WORK["solar_canopy"], date(2025, 8, 5), [Award([(s["S15"], False)], 310_000)], bst=False)
    case("green_via_item_classification",
        BUYER["walsall"], WORK["plant_room"], date(2025, 9, 1), [Award([(s["S19"], False)], 455_000)], bst=False)
    case("supplier_without_postcode",
        BUYER["solihull"], WORK["security"], date(2025, 5, 12), [Award([(s["S64"], False)], 118_000)], bst=False)
    case("postcode_lower_case_in_street_address",
        BUYER["walsall"], WORK["care"], date(2025, 6, 16), [Award([(s["S28"], False)], 64_000)], bst=False)
    case("postcode_without_space",
        BUYER["coventry"], WORK["it_services"], date(2025, 7, 7), [Award([(s["S11"], False)], 86_500)], bst=False)
    case("company_number_without_leading_zero",
        BUYER["birmingham"], WORK["software"], date(2025, 8, 11), [Award([(s["S02"], False)], 144_000)], bst=False)
    case("b_postcode_outside_wmca",
        BUYER["birmingham"], WORK["transport"], date(2025, 9, 3), [Award([(s["S38"], False)], 390_000)], bst=False)
    case("accented_supplier_name",
        BUYER["birmingham"], WORK["catering"], date(2025, 4, 9), [Award([(s["S05"], False)], 52_750.25)], bst=False)
    cf.rng = random.Random(f"{SEED}-contracts-finder-numbers")
    return cf.finish(), edge


def _fts_party(s: Supplier) -> dict[str, Any]:
    """Find a Tender parties: a PPON or company number, structured addresses, and details.scale/vcse."""
    if s.company_number:
        party_id = f"GB-COH-{s.company_number}"
        identifier = {"scheme": "GB-COH", "id": s.company_number, "legalName": s.name}
    else:
        ppon = _ppon(s.key)
        party_id = f"GB-PPON-{ppon}"
        identifier = {"scheme": "GB-PPON", "id": ppon, "legalName": s.name}
    address: dict[str, str] = {"streetAddress": s.street.rstrip(", ")}
    if s.town:
        address["locality"] = s.town
    if s.postcode:
        address["postalCode"] = s.postcode
    address["countryName"] = "United Kingdom"
    address["country"] = "GB"
    party: dict[str, Any] = {"id": party_id, "name": s.name, "identifier": identifier, "address": address, "roles": ["supplier"]}
    if s.scale:
        party["details"] = {"scale": s.scale, "vcse": s.vcse}
    return party


def _ppon(key: str) -> str:
    """A stable, made-up Procurement Act PPON for a supplier with no company number."""
    rng = random.Random(f"ppon-{key}")
    letters = "BCDFGHJKLMNPQRSTVWXZ"
    return (f"P{''.join(rng.choice(letters) for _ in range(3))}-{rng.randint(1000, 9999)}-"
            f"{''.join(rng.choice(letters) for _ in range(4))}")


def _fts_buyer(b: Buyer) -> dict[str, Any]:
    return {
        "id": f"{b.fts_scheme}-{b.fts_id}", "name": b.name,
        "identifier": {"scheme": b.fts_scheme, "id": b.fts_id, "legalName": b.name},
        "address": {"streetAddress": b.street, "locality": b.locality, "postalCode": b.postcode,
                    "countryName": "United Kingdom", "country": "GB"},
        "contactPoint": {"email": b.email},
        "roles": ["buyer"],
        "details": {"classifications": [{"scheme": "UK_CA_TYPE", "id": "publicAuthorityCentralGovernment" if b.kind == "national" else "publicAuthoritySubCentralGovernment"}]},
    }


def _fts_value(amount: int | float) -> dict[str, Any]:
    return {"amountGross": round(amount * 1.2, 2) if isinstance(amount, float) else amount * 6 // 5,
            "amount": amount, "currency": "GBP"}


class FindATender:
    """Builds Find a Tender releases for Procurement Act 2023 notices: one release per notice, ids
    `<ocid suffix>-<n>`, tags planning (UK2/UK3), tender (UK4), award (UK6) and contract (UK7)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.releases: list[dict[str, Any]] = []
        self.suffixes: set[str] = set()
        self.notice_number = 21_400

    def _notice(self, notice_type: str, document_type: str, stamp: str) -> dict[str, Any]:
        self.notice_number += self.rng.randint(3, 90)
        return {"id": f"{self.notice_number:06d}-2025", "documentType": document_type, "noticeType": notice_type,
                "description": f"{notice_type} notice on Find a Tender",
                "url": f"https://www.find-tender.service.gov.uk/Notice/{self.notice_number:06d}-2025",
                "datePublished": stamp, "format": "text/html", "language": "en"}

    def process(self, buyer: Buyer, work: Work, award_day: date, suppliers: list[Supplier], value: int | float, *,
                planning: bool = False, tender: bool = True, contract: bool = True,
                corrected_value: int | float | None = None, tender_value: dict[str, Any] | None = None) -> str:
        rng = self.rng
        while True:
            suffix = f"{rng.getrandbits(24):06x}"
            if suffix not in self.suffixes:
                self.suffixes.add(suffix)
                break
        ocid = FTS_PREFIX + suffix
        title, description = _fill(work, rng)
        framework = len(suppliers) > 1
        tender_day = award_day - timedelta(days=rng.randint(40, 90))
        start_day = award_day + timedelta(days=rng.randint(20, 60))
        years = rng.choice((2, 3, 4, 5))
        tender_block: dict[str, Any] = {
            "id": ocid,
            "legalBasis": {"scheme": "UKPGA", "id": "2023/54", "uri": "https://www.legislation.gov.uk/ukpga/2023/54/contents"},
            "title": title,
            "description": description,
            "status": "active",
            "classification": _classification(work.cpv, work.cpv_description),
            "items": _items(work, {"region": "UKG31" if buyer.kind in ("council", "combined_authority") else "UK"}),
            "mainProcurementCategory": work.category,
            "value": tender_value or _fts_value(int(value * rng.uniform(1.0, 1.2)) // 1000 * 1000),
            "procurementMethod": "open" if not framework else "selective",
            "procurementMethodDetails": "Open procedure" if not framework else "Competitive flexible procedure",
            "techniques": {"hasFrameworkAgreement": framework},
            "tenderPeriod": {"endDate": f"{(tender_day + timedelta(days=30)).isoformat()}T12:00:00+01:00"},
            "contractPeriod": {"startDate": f"{start_day.isoformat()}T00:00:00+01:00",
                               "endDate": f"{(start_day + timedelta(days=365 * years - 1)).isoformat()}T23:59:59+01:00"},
        }
        buyer_party = _fts_buyer(buyer)
        buyer_ref = {"id": buyer_party["id"], "name": buyer.name}
        n = 0

        def emit(day: date, tag: str, body: Callable[[str], dict[str, Any]], parties: list[dict[str, Any]]) -> None:
            """`body` builds the notice-specific fields from the release timestamp (its notice document needs it)."""
            nonlocal n
            n += 1
            stamp = _stamp(day, rng)
            release = {"id": f"{suffix}-{n}", "ocid": ocid, "date": stamp, "tag": [tag], "language": "en",
                       "initiationType": "tender", "parties": parties, "buyer": buyer_ref}
            release.update(body(stamp))
            self.releases.append(release)

        if planning and tender_day - timedelta(days=30) >= WINDOW_START:
            day = tender_day - timedelta(days=rng.randint(20, 40))
            emit(day, "planning", lambda stamp: {"tender": {**tender_block, "status": "planned",
                                                            "documents": [self._notice("UK3", "plannedProcurementNotice", stamp)]}},
                 [buyer_party])
        if tender and tender_day >= WINDOW_START:
            emit(tender_day, "tender", lambda stamp: {"tender": {**tender_block, "documents": [self._notice("UK4", "tenderNotice", stamp)]}},
                 [buyer_party])
        supplier_parties = [_fts_party(s) for s in suppliers]
        award_release_day = _clamp(award_day + timedelta(days=rng.randint(1, 10)))

        def award_body(amount: int | float) -> Callable[[str], dict[str, Any]]:
            def body(stamp: str) -> dict[str, Any]:
                return {
                    "tender": {**tender_block, "status": "complete"},
                    "awards": [{
                        "id": "1", "title": title, "status": "active", "date": f"{award_day.isoformat()}T00:00:00+01:00",
                        "value": _fts_value(amount),
                        "suppliers": [{"id": p["id"], "name": p["name"]} for p in supplier_parties],
                        "documents": [self._notice("UK6", "awardNotice", stamp)],
                    }],
                }
            return body

        emit(award_release_day, "award", award_body(value), [buyer_party, *supplier_parties])
        last_day = award_release_day
        if corrected_value is not None:
            last_day = _clamp(award_release_day + timedelta(days=rng.randint(7, 20)))
            emit(last_day, "award", award_body(corrected_value), [buyer_party, *supplier_parties])
            value = corrected_value
        if contract:
            contract_day = last_day + timedelta(days=rng.randint(15, 40))
            if contract_day <= WINDOW_END:
                emit(contract_day, "contract", lambda stamp: {"contracts": [{
                    "id": "1", "awardID": "1", "title": title, "status": "active",
                    "value": _fts_value(value),
                    "period": {"startDate": tender_block["contractPeriod"]["startDate"],
                               "endDate": tender_block["contractPeriod"]["endDate"]},
                    "dateSigned": f"{(last_day + timedelta(days=10)).isoformat()}T00:00:00+01:00",
                    "documents": [self._notice("UK7", "contractNotice", stamp)],
                }]}, [buyer_party, *supplier_parties])
        return ocid


def find_a_tender_releases(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    fts = FindATender(rng)
    edge: dict[str, Any] = {}
    buyers = list(BUYERS)
    for month_index, month in enumerate(MONTHS):
        for i in range(15):
            buyer = buyers[(month_index * 15 + i) % len(buyers)]
            work = rng.choice(GREEN_WORKS if i % 3 == 0 else OTHER_WORKS)
            framework = rng.random() < 0.2
            count = rng.randint(3, 5) if framework else 1
            chosen = [s for s, _alias in _suppliers(rng, buyer, work, POOLS[(month_index + i) % len(POOLS)], count)]
            value = _money(rng, work.low * 4, work.high * 12)
            fts.process(buyer, work, _award_day(rng, month), chosen, value,
                        planning=rng.random() < 0.3, tender=rng.random() < 0.9, contract=rng.random() < 0.6)
    def case(name: str, *args: Any, **kwargs: Any) -> None:
        fts.rng = random.Random(f"{SEED}-find-a-tender-{name}")
        edge[name] = fts.process(*args, **kwargs)

    s = SUPPLIER
    case("framework_five_suppliers",
        BUYER["ccs"], WORK["led_lighting"], date(2025, 5, 14), [s["S29"], s["S54"], s["S57"], s["S15"], s["S49"]], 85_000_000)
    case("award_value_corrected",
        BUYER["birmingham"], WORK["waste_disposal"], date(2025, 6, 9), [s["S50"]], 42_000_000, corrected_value=46_500_000)
    case("sme_vcse_supplier",
        BUYER["nhs_england"], WORK["supported_living"], date(2025, 7, 21), [s["S31"]], 2_400_000)
    # A single release whose distinctive `tender.value.amountGross` (999999999, nowhere else in the file)
    # the loopback server can rewrite into the invalid numbers Find a Tender emits (`1e9999`, ` 000,`);
    # the file itself stays valid JSON.
    case("invalid_number_target",
        BUYER["dft"], WORK["zero_emission_bus"], date(2025, 8, 18), [s["S55"]], 18_750_000, tender=False, contract=False,
        tender_value={"amountGross": 999999999, "amount": 18750000, "currency": "GBP"})
    case("supplier_without_postcode",
        BUYER["environment_agency"], WORK["security"], date(2025, 4, 15), [s["S64"]], 1_100_000)
    releases = sorted(fts.releases, key=lambda r: (r["date"], r["id"]))
    return releases, edge


def real_contracts_finder_releases(folder: Path = REAL_CF_DIR) -> list[dict[str, Any]]:
    """The real 2025 releases, verbatim (see the PROVENANCE.md beside them)."""
    paths = sorted(folder.glob("cf_2025_*.json"))
    if not paths:
        raise FileNotFoundError(f"no real Contracts Finder releases (cf_2025_*.json) in {folder}")
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1) + "\n"


def build(real_folder: Path = REAL_CF_DIR) -> dict[str, str]:
    """Every output file's relative path and text."""
    cf, cf_edge = contracts_finder_releases(random.Random(f"{SEED}-contracts-finder"))
    fts, fts_edge = find_a_tender_releases(random.Random(f"{SEED}-find-a-tender"))
    real = real_contracts_finder_releases(real_folder)
    cf = sorted(cf + real, key=lambda r: (datetime.fromisoformat(r["date"]), r["id"]))
    cf_edge["real_releases"] = sorted(r["ocid"] for r in real)
    return {
        "contracts_finder/releases.json": _dump(cf),
        "find_a_tender/releases.json": _dump(fts),
        "manifest.json": _dump(MANIFEST),
        "edge_cases.json": _dump({"contracts_finder": cf_edge, "find_a_tender": fts_edge}),
    }


def write_feeds(out_dir: Path = FEEDS_DIR, real_folder: Path = REAL_CF_DIR) -> list[Path]:
    written = []
    for relative, text in build(real_folder).items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FEEDS_DIR, help=f"output folder (default {FEEDS_DIR})")
    args = parser.parse_args(argv)
    for path in write_feeds(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
