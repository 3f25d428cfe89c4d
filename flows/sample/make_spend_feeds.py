"""Generate the sample council spend feeds under flows/sample/feeds/spend/ (deterministic: seeded).

    python -m flows.sample.make_spend_feeds

Each council's files imitate its real published layout (header names, date and amount styles, title
rows, encodings, trailing commas, merged two-row XLSX headers) so that `procurement run --sample`
exercises the same layout detection real feeds need. Payees reuse the suppliers of the OCDS sample
notices (notes/suppliers.md, `flows/sample/make_ocds_feeds.py`) under a few spelling variants, so that
payee matching is exercised, plus fictional local SMEs, charities and large firms. Figures are fictional.

Coverage: April-September 2025, three files of two months per publisher. Sandwell's last file also
republishes July's payments exactly, for the dbt rule that counts a republished payment once.
"""

from __future__ import annotations

import csv
import io
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "feeds" / "spend"
SEED = 20250401
PERIODS = [((2025, 4), (2025, 5)), ((2025, 6), (2025, 7)), ((2025, 8), (2025, 9))]
ROWS_PER_MONTH = (45, 65)
FIXED_ZIP_TIME = (2025, 10, 1, 0, 0, 0)

# (name as the OCDS sample feeds publish it, company number as written there, home LAD)
SHARED_SUPPLIERS = [
    ("Tyseley Solar & Electrical Ltd", "08412345", "E08000025"),
    ("Digbeth Digital Limited", "7012345", "E08000025"),
    ("Balsall Heath Community Transport", "", "E08000025"),
    ("Brummie Builders & Sons Ltd", "03456789", "E08000025"),
    ("Café Élan Catering Ltd", "09876543", "E08000025"),
    ("Hennessy Flooring Ltd", "", "E08000025"),
    ("Forward Steps Charity", "", "E08000025"),
    ("Coventry Retrofit Co-operative Ltd", "", "E08000026"),
    ("Godiva Facilities Management Ltd", "05551234", "E08000026"),
    ("Phoenix Care Services", "", "E08000026"),
    ("Spon End Software Co Ltd", "10234567", "E08000026"),
    ("Black Country Recycling Ltd", "06123987", "E08000027"),
    ("Stourbridge Glass & Glazing Ltd", "2345678", "E08000027"),
    ("Halesowen Care Partnership", "", "E08000027"),
    ("Brierley Hill Electrical Contractors Ltd", "04567321", "E08000027"),
    ("Oldbury Fabrications Ltd", "01987654", "E08000028"),
    ("The Albion Community Foundation", "", "E08000028"),
    ("Smethwick Cleaning Services Ltd", "11223344", "E08000028"),
    ("West Bromwich Heat Pumps Ltd", "12345670", "E08000028"),
    ("Solihull EV Charging Ltd", "13012345", "E08000029"),
    ("Shirley Software Solutions Ltd", "07788990", "E08000029"),
    ("Chelmsley Wood Community Trust", "", "E08000029"),
    ("Meriden Grounds Maintenance Ltd", "08899001", "E08000029"),
    ("Walsall Waste & Recycling Co Ltd", "03344556", "E08000030"),
    ("Bloxwich Building Services Ltd", "06655443", "E08000030"),
    ("Aldridge Insulation Ltd", "09911223", "E08000030"),
    ("Walsall Community Transport", "", "E08000030"),
    ("Sunrise Home Care Ltd", "10555666", "E08000030"),
    ("Wolverhampton LED Lighting Ltd", "10987654", "E08000031"),
    ("The Wulfrun Cleaning Company Ltd", "05432198", "E08000031"),
    ("Bilston Community Care CIC", "11876543", "E08000031"),
    ("McManus Flooring", "", "E07000196"),
    ("Warwickshire Solar Farms Ltd", "09123456", "E07000222"),
    ("Nuneaton Highways Ltd", "04455667", "E07000219"),
    ("Rugby Consulting Group Ltd", "08765432", "E07000220"),
    ("Staffordshire Fleet Electric Ltd", "10111213", "E07000197"),
    ("Lichfield Flood Defence Ltd", "06987123", "E07000194"),
    ("Tamworth Transport Ltd", "02468135", "E07000199"),
    ("Redditch Care Homes Ltd", "05678123", "E07000236"),
    ("Kidderminster Grounds Ltd", "07123450", "E07000239"),
    ("LGM Limited", "", "E07000239"),
    ("Shropshire Hills Heat Pumps Ltd", "08080808", "E06000051"),
    ("Telford Insulation Ltd", "7654321", "E06000020"),
    ("Hereford Environmental Services CIC", "12121212", "E06000019"),
    ("Potteries Recycling Ltd", "03030303", "E06000021"),
    ("Cannock Chase Construction Ltd", "04040404", "E07000192"),
    ("Worcester Software Ltd", "", "E07000237"),
    ("Britannia Business Services Ltd", "01234567", ""),
    ("Northgate Infrastructure Group plc", "00456789", ""),
    ("Meridian Waste Management Ltd", "02938475", ""),
    ("Pennine Construction Ltd", "01122334", ""),
    ("Thames Valley IT Services Ltd", "03847562", ""),
    ("Anglia Facilities plc", "00987123", ""),
    ("Caledonian Energy Ltd", "SC123456", ""),
    ("Crown Coaches Group plc", "1928374", ""),
    ("Solent Consulting LLP", "OC398765", ""),
    ("Greenline Electric Vehicles Ltd", "09182736", ""),
    ("Pinnacle Software & Data Ltd", "10293847", ""),
    ("Zuhlke Engineering LTD", "4103211", ""),
    ("Aker Systems Limited", "10161344", ""),
    ("Elm Site Services Ltd", "05109035", ""),
    ("The Careers & Skills Trust", "", ""),
    ("Green Spaces Trust", "", ""),
    ("Albion Security Services Ltd", "06060606", ""),
]

# Fictional payees that appear only in spend files (no notices), incl. VCSE and a real-looking
# "Redactive" name that must not be mistaken for a redaction marker.
SPEND_ONLY_SUPPLIERS = [
    "Moseley Minibus Hire", "Acocks Green Plumbing Ltd", "Handsworth Youth Trust", "Kings Heath Print Co",
    "Sparkhill Tutoring CIC", "Jewellery Quarter Design Studio Ltd", "Erdington Locksmiths",
    "Canalside Catering Ltd", "Midlands Fleet Fuels Ltd", "Heartlands Boiler Services Ltd",
    "Brindley Office Supplies Ltd", "Castle Vale Youth Club", "Sutton Park Tree Surgeons",
    "Lickey Hills Landscapes Ltd", "Cotteridge Accountancy LLP", "Black Country Foodbank",
    "Tipton Taxis", "Willenhall Locks Ltd", "Darlaston Skip Hire Ltd", "Penn Fields Nursery",
    "Tettenhall Translation Services", "National Office Furniture plc", "Apex Agency Staffing Ltd",
    "Redactive Events Ltd",
]

KEYWORD_EXPENSES = [
    ("solar", ["Solar PV installation", "Solar panel maintenance"]),
    ("heat pump", ["Heat pump retrofit", "Air source heat pump installation"]),
    ("led", ["LED street lighting", "LED lighting upgrade"]),
    ("ev charging", ["Electric vehicle charge points"]),
    ("electric vehicles", ["Electric vehicle lease", "Electric vehicle charge points"]),
    ("fleet electric", ["Electric refuse vehicle hire"]),
    ("recycling", ["Recycling collection", "Recycling centre operation"]),
    ("waste", ["Waste disposal", "Recycling collection"]),
    ("insulation", ["Loft and cavity wall insulation", "Retrofit insulation works"]),
    ("retrofit", ["Home energy retrofit", "Heat pump retrofit"]),
    ("flood", ["Flood defence works"]),
    ("fuels", ["Diesel fuel for fleet vehicles"]),
    ("boiler", ["Gas boiler replacement", "Gas boiler servicing"]),
    ("energy", ["Gas supply", "Electricity supply"]),
    ("care", ["Domiciliary care", "Residential care placements", "Supported living"]),
    ("transport", ["Home to school transport", "Community transport grant"]),
    ("coaches", ["Home to school transport", "Coach hire"]),
    ("taxis", ["Home to school transport"]),
    ("minibus", ["Minibus hire"]),
    ("software", ["Software licences", "IT support services"]),
    ("digital", ["Website development", "IT support services"]),
    ("it services", ["IT managed service"]),
    ("data", ["Data services"]),
    ("cleaning", ["Cleaning services"]),
    ("builders", ["Building repairs", "Building works"]),
    ("building", ["Building repairs", "Building works"]),
    ("construction", ["Building works", "Highways construction"]),
    ("highways", ["Highways maintenance", "Resurfacing works"]),
    ("infrastructure", ["Highways maintenance"]),
    ("fabrications", ["Metalwork and fabrication"]),
    ("catering", ["Catering supplies", "School meals"]),
    ("flooring", ["Flooring repairs"]),
    ("grounds", ["Grounds maintenance"]),
    ("landscapes", ["Grounds maintenance", "Tree planting"]),
    ("tree", ["Tree works"]),
    ("glass", ["Glazing repairs"]),
    ("electrical", ["Electrical repairs", "LED lighting upgrade"]),
    ("consult", ["Consultancy fees"]),
    ("security", ["Security services"]),
    ("facilities", ["Facilities management"]),
    ("staffing", ["Agency staff"]),
    ("careers", ["Careers advice service"]),
    ("skills", ["Adult skills training"]),
    ("youth", ["Youth services grant"]),
    ("community", ["Voluntary sector grant"]),
    ("charity", ["Voluntary sector grant"]),
    ("foodbank", ["Hardship fund grant"]),
    ("spaces", ["Parks and green spaces management"]),
    ("environmental", ["Environmental services", "Biodiversity survey"]),
    ("print", ["Printing"]),
    ("office", ["Office supplies", "Office furniture"]),
    ("furniture", ["Office furniture"]),
    ("events", ["Conference and events"]),
    ("plumbing", ["Plumbing repairs", "Gas boiler servicing"]),
    ("locks", ["Locksmith services"]),
    ("locksmith", ["Locksmith services"]),
    ("skip", ["Skip hire", "Waste disposal"]),
    ("nursery", ["Early years funding"]),
    ("tutoring", ["Tuition services"]),
    ("translation", ["Translation services"]),
    ("accountancy", ["Audit and accountancy fees"]),
    ("design", ["Design services"]),
]
GENERIC_EXPENSES = ["Professional services", "Equipment purchase", "Training", "Repairs and maintenance"]


@dataclass(frozen=True)
class Line:
    day: date
    supplier: str | None  # None = redacted
    company_number: str
    amount: Decimal
    description: str
    area: str
    supplier_ref: str
    transaction: str


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def spelling_variant(name: str, rng: random.Random) -> str:
    """Another way a council ledger writes the same payee (exercises name normalisation)."""
    choice = rng.randrange(5)
    if choice == 0:
        return name.upper()
    if choice == 1:
        return re.sub(r"\bLtd\b", "Limited", name)
    if choice == 2:
        return re.sub(r"^The ", "", name)
    if choice == 3:
        return _strip_accents(name)
    return name


def expense_for(name: str, rng: random.Random) -> str:
    lower = name.lower()
    for keyword, options in KEYWORD_EXPENSES:
        if re.search(rf"\b{re.escape(keyword)}", lower):
            return rng.choice(options)
    return rng.choice(GENERIC_EXPENSES)


def _amount(rng: random.Random) -> Decimal:
    value = Decimal(str(round(rng.lognormvariate(7.8, 1.1), 2)))
    return max(value, Decimal("500.00"))


def month_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    days = []
    day = first
    while day.month == month:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def make_lines(rng: random.Random, lad: str, areas: list[str], redaction: str, months: list[tuple[int, int]],
               prefix: str) -> list[Line]:
    # Councils mostly pay suppliers in their own area: weight the shared list towards home.
    home = [s for s in SHARED_SUPPLIERS if s[2] == lad]
    others = [s for s in SHARED_SUPPLIERS if s[2] != lad]
    lines = []
    refs: dict[str, str] = {}
    for year, month in months:
        days = month_days(year, month)
        for _ in range(rng.randint(*ROWS_PER_MONTH)):
            roll = rng.random()
            if roll < 0.04:
                name, number, published = None, "", redaction
            elif roll < 0.35 and home:
                name, number, _ = rng.choice(home)
                published = spelling_variant(name, rng)
            elif roll < 0.75:
                name, number, _ = rng.choice(others)
                published = spelling_variant(name, rng)
            else:
                name, number = rng.choice(SPEND_ONLY_SUPPLIERS), ""
                published = name
            amount = _amount(rng)
            if rng.random() < 0.03:
                amount = -amount.quantize(Decimal("1"))  # credit note
            description = expense_for(name or "", rng) if name else rng.choice(["Direct payments", "Foster care allowance"])
            key = published if name else f"redacted-{len(lines)}"
            refs.setdefault(key, f"{rng.randint(100000, 999999)}")
            lines.append(Line(
                day=rng.choice(days), supplier=published if name else None, company_number=number,
                amount=amount, description=description, area=rng.choice(areas),
                supplier_ref=refs[key], transaction=f"{prefix}{len(lines) + 1:06d}",
            ))
    lines.sort(key=lambda line: (line.day, line.transaction))
    return lines


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def money_thousands(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", newline: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue().encode(encoding)


# ------------------------------------------------------------------------------------------ layouts


def birmingham(lines: list[Line], redaction: str) -> bytes:
    rows = [["date", "department", "beneficiary", "summary", "amount", "merchant_category", "supplier_number"]]
    for i, line in enumerate(lines):
        if i == len(lines) // 2:
            rows.append(rows[0])  # export made of two reports pasted together: the header repeats
        rows.append([line.day.strftime("%d/%m/%Y"), line.area, line.supplier or redaction, line.description,
                     money(line.amount), line.description.split()[0].upper(), line.supplier_ref])
    return csv_bytes(rows)


def coventry(lines: list[Line], redaction: str) -> bytes:
    rows = [["Trans Ref(T)", "Date(T)", "Expense Area(T)", "Expense Type(T)", "Supplier(T)", "Amount"]]
    for line in lines:
        rows.append([line.transaction, line.day.strftime("%d/%m/%Y"), line.area, line.description,
                     line.supplier or redaction, money_thousands(line.amount)])
    return b"\xef\xbb\xbf" + csv_bytes(rows)


def dudley(lines: list[Line], redaction: str) -> bytes:
    header = ["Organisation Name", "Effective Date", "Service Area", "Expense Type", "Payment Date",
              "Transaction Number", "Net Amount", "VAT", "Gross Amount", "Supplier Name", "Company Number"]
    rows = [header]
    for line in lines:
        vat = (line.amount * Decimal("0.2")).quantize(Decimal("0.01"))
        rows.append(["Dudley Metropolitan Borough Council", line.day.replace(day=1).strftime("%d/%m/%Y"),
                     line.area, line.description, line.day.strftime("%d-%b-%Y").upper(), line.transaction,
                     money(line.amount), money(vat), money(line.amount + vat), line.supplier or redaction,
                     line.company_number])
    return csv_bytes(rows)


def sandwell(lines: list[Line], redaction: str) -> bytes:
    rows = [["Body Name", "Body", "Date", "Department", "Beneficiary", "Summary of Purpose (SeRCOP)", "Amount SUM",
             "Merchant Code", "Transaction Number", "Supplier ID"]]
    for line in lines:
        rows.append(["Sandwell Metropolitan Borough Council", "E08000028", line.day.strftime("%d-%b-%Y"), line.area,
                     line.supplier or redaction, line.description, money(line.amount), "", line.transaction,
                     line.supplier_ref])
    return csv_bytes(rows)


def _pound(amount: Decimal) -> str:
    return f"-£{-amount:,.2f}" if amount < 0 else f"£{amount:,.2f}"


def solihull(lines: list[Line], redaction: str) -> bytes:
    # Field names from Solihull's own description of its file (Body, Body name, Service Area Categorisation,
    # Date, Transaction number, Amount, ...), with £ amounts and ISO dates.
    rows = [["Body", "Body name", "Service Area Categorisation", "Expenses Type", "Date", "Transaction number",
             "Amount", "Supplier name", "Supplier ID"]]
    for line in lines:
        rows.append(["http://opendatacommunities.org/id/metropolitan-district-council/solihull", "Solihull MBC",
                     line.area, line.description, line.day.isoformat(), line.transaction, _pound(line.amount),
                     line.supplier or redaction, line.supplier_ref])
    return csv_bytes(rows)


def walsall(lines: list[Line], redaction: str) -> bytes:
    # Header cells with line breaks, two trailing empty columns, then blank rows and a totals row.
    rows = [["Payment\nDate", "Supplier\nName", "Amount\n(£)", "Expense\nType", "Directorate", "Transaction\nNo", "", ""]]
    for line in lines:
        rows.append([line.day.strftime("%Y%m%d"), line.supplier or redaction, money(line.amount), line.description,
                     line.area, line.transaction, "", ""])
    rows += [["", "", "", "", "", "", "", ""], ["", "Total", money(sum(line.amount for line in lines)), "", "", "", "", ""]]
    return csv_bytes(rows, encoding="cp1252")


def wolverhampton(lines: list[Line], redaction: str) -> bytes:
    first, last = lines[0].day, lines[-1].day
    rows = [
        ["City of Wolverhampton Council"],
        [f"Expenditure over £500: {first:%B %Y} to {last:%B %Y}"],
        ["Published under the Local Government Transparency Code 2015"],
        ["Date Paid", "Supplier Name", "Company Number", "Amount excl vat", "Expense Type", "Service Area",
         "Unique Ref No"],
    ]
    for line in lines:
        amount = f"({-line.amount:,.2f})" if line.amount < 0 else money_thousands(line.amount)
        rows.append([line.day.strftime("%d.%m.%y"), line.supplier or redaction, line.company_number, amount,
                     line.description, line.area, line.transaction])
    return csv_bytes(rows, encoding="cp1252")


def wmca(lines: list[Line], redaction: str) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Spend over 500"
    sheet.append(["West Midlands Combined Authority - expenditure over £500"])
    sheet.append([])
    top = ["Payment", None, "Supplier", None, "Amount", None, None, "Expense", None]
    sheet.append(top)
    sheet.append(["Date", "Reference", "Name", "ID", "Net", "VAT", "Gross", "Area", "Type"])
    for first, last in ((1, 2), (3, 4), (5, 7), (8, 9)):
        sheet.merge_cells(start_row=3, start_column=first, end_row=3, end_column=last)
    for i, line in enumerate(lines):
        vat = float((line.amount * Decimal("0.2")).quantize(Decimal("0.01")))
        # Some ledgers export dates as serial numbers and amounts with float noise.
        when = (line.day - date(1899, 12, 30)).days if i % 7 == 3 else line.day
        sheet.append([when, line.transaction, line.supplier or redaction, line.supplier_ref, float(line.amount),
                      vat, float(line.amount) + vat, line.area, line.description])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return deterministic_zip(buffer.getvalue())


def deterministic_zip(body: bytes) -> bytes:
    """The same workbook bytes on every run: fixed entry times and document timestamps."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", b"2025-10-01T00:00:00Z", data)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


@dataclass(frozen=True)
class Council:
    publisher_id: str
    publisher_name: str
    lad_code: str
    writer: object
    redaction: str
    areas: list[str]
    suffix: str = "csv"


COUNCILS = [
    Council("birmingham", "Birmingham City Council", "E08000025", birmingham, "REDACTED PERSONAL DATA",
            ["Adults Social Care", "Children and Families", "City Operations", "Place, Prosperity and Sustainability"]),
    Council("coventry", "Coventry City Council", "E08000026", coventry, "Redacted",
            ["Streetscene", "Adult Services", "Education", "Property Services"]),
    Council("dudley", "Dudley Metropolitan Borough Council", "E08000027", dudley, "REDACTED UNDER DP ACT",
            ["Environment", "Health and Adult Social Care", "Children's Services", "Housing"]),
    Council("sandwell", "Sandwell Metropolitan Borough Council", "E08000028", sandwell, "REDACTED - PERSONAL DATA",
            ["Regeneration and Growth", "Adult Social Care", "Housing", "Borough Economy"]),
    Council("solihull", "Solihull Metropolitan Borough Council", "E08000029", solihull, "Personal Data",
            ["Economy and Infrastructure", "Adult Care and Support", "Children's Services and Skills", "Resources"]),
    Council("walsall", "Walsall Council", "E08000030", walsall, "*Redact - Personal Information",
            ["Economy, Environment and Communities", "Adult Social Care", "Children's Services", "Resources"]),
    Council("wolverhampton", "City of Wolverhampton Council", "E08000031", wolverhampton, "Personal Data",
            ["City Environment", "Adult Services", "Children's Services", "City Housing"]),
    Council("wmca", "West Midlands Combined Authority", "E08000025", wmca, "REDACTED PERSONAL DATA",
            ["Transport for West Midlands", "Housing, Property and Regeneration", "Environment and Energy",
             "Economy, Skills and Communities"], suffix="xlsx"),
]


def generate(out_dir: Path = OUT_DIR) -> list[tuple[Council, Path]]:
    """Write every sample file; returns (council, path) in registry order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, council in enumerate(COUNCILS):
        rng = random.Random(SEED + index)
        previous: list[Line] = []
        for number, (first, last) in enumerate(PERIODS):
            lines = make_lines(rng, council.lad_code, council.areas, council.redaction, [first, last],
                               f"{council.publisher_id[:3].upper()}{number + 1}")
            if council.publisher_id == "sandwell" and number == 2:
                # Republished month: July's payments appear again, unchanged, in the next file.
                july = [line for line in previous if line.day.month == 7]
                lines = sorted(july + lines, key=lambda line: (line.day, line.transaction))
            previous = lines
            suffix = council.suffix
            if council.publisher_id == "wmca" and number == 2:
                suffix = "csv"  # a ".csv" that is really XLSX, as some councils publish
            path = out_dir / f"{council.publisher_id}_{first[0]}-{first[1]:02d}_to_{last[0]}-{last[1]:02d}.{suffix}"
            path.write_bytes(council.writer(lines, council.redaction))
            written.append((council, path))
    return written


def write_registry(written: list[tuple[Council, Path]], registry: Path) -> None:
    """The default registry (seeds/spend_feeds.csv): one row per sample file, paths relative to it."""
    rows = [["publisher_id", "publisher_name", "lad_code", "url", "format"]]
    for council, path in written:
        relative = Path("..") / path.relative_to(registry.resolve().parent.parent)
        # A ".csv" that is really XLSX gets an empty format: auto-detect, as a user would register it.
        declared = path.suffix.lstrip(".") if path.suffix.lstrip(".") == council.suffix else ""
        rows.append([council.publisher_id, council.publisher_name, council.lad_code, relative.as_posix(), declared])
    registry.write_bytes(csv_bytes(rows, newline="\n"))


if __name__ == "__main__":
    files = generate()
    write_registry(files, Path(__file__).resolve().parents[2] / "seeds" / "spend_feeds.csv")
    for _, path in files:
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
