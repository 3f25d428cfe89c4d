"""The feed registry (section 3 of the warehouse contract): one CSV row per published spend file."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REQUIRED_COLUMNS = ("publisher_id", "publisher_name", "lad_code", "url")
FORMATS = ("", "csv", "xlsx")
# Spend files that ship with the package; a registry may always point into this folder.
SAMPLE_FEEDS_DIR = Path(__file__).resolve().parent.parent / "sample" / "feeds"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LAD = re.compile(r"^[EWSN]\d{8}$")


class RegistryError(ValueError):
    """The registry cannot be used; the message names the file and every bad row."""


@dataclass(frozen=True)
class Feed:
    """One registry row. `url` is as written; `local_path` is set (resolved) when it is not http(s)."""

    publisher_id: str
    publisher_name: str
    lad_code: str
    url: str
    format: str
    registry_row: int  # line number in the registry file, for messages
    local_path: Path | None
    # Local paths are only read from these folders: the registry's own folder and the sample feeds.
    allowed_dirs: tuple[Path, ...]
    # Where to fetch from instead of `url`, which stays the feed's identity in the ledger:
    # `--sample` serves the registry's sample files from a loopback server on a new port each run.
    fetch_url: str | None = None

    @property
    def is_remote(self) -> bool:
        return self.local_path is None or self.fetch_url is not None


def url_scheme(url: str) -> str:
    """The URL scheme, or '' for a plain path (a Windows drive letter is a path, not a scheme)."""
    scheme = urlsplit(url).scheme.lower()
    return scheme if len(scheme) > 1 else ""


def resolve_local(url: str, registry_dir: Path) -> Path:
    path = Path(url).expanduser()
    return (path if path.is_absolute() else registry_dir / path).resolve()


def is_allowed_path(path: Path, allowed_dirs: tuple[Path, ...]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder.resolve()) for folder in allowed_dirs)


def _check_row(row: dict[str, str], line: int, registry_dir: Path, allowed: tuple[Path, ...]) -> tuple[Feed | None, list[str]]:
    problems = [f"missing {column}" for column in REQUIRED_COLUMNS if not row.get(column)]
    if problems:
        return None, problems
    publisher_id, lad_code, url = row["publisher_id"], row["lad_code"].upper(), row["url"]
    fmt = (row.get("format") or "").lower()
    if not _SLUG.match(publisher_id):
        problems.append(f"publisher_id {publisher_id!r} must be a lower-case slug (letters, digits, - and _)")
    if not _LAD.match(lad_code):
        problems.append(f"lad_code {row['lad_code']!r} is not an ONS area code like E08000025")
    if fmt not in FORMATS:
        problems.append(f"format {row['format']!r} must be csv, xlsx or empty")
    scheme = url_scheme(url)
    local_path = None
    if scheme and scheme not in ("http", "https"):
        problems.append(f"url {url!r} uses {scheme}:, but only http(s) URLs and local paths are accepted")
    elif not scheme:
        local_path = resolve_local(url, registry_dir)
        if not is_allowed_path(local_path, allowed):
            folders = ", ".join(str(folder) for folder in allowed)
            problems.append(f"local path {url!r} is outside the allowed feed folders ({folders})")
    if problems:
        return None, problems
    feed = Feed(
        publisher_id=publisher_id,
        publisher_name=row["publisher_name"],
        lad_code=lad_code,
        url=url,
        format=fmt,
        registry_row=line,
        local_path=local_path,
        allowed_dirs=allowed,
    )
    return feed, []


def read_registry(path: Path | str) -> list[Feed]:
    """Read and validate the feed registry CSV at `path`.

    Required columns: publisher_id, publisher_name, lad_code, url; optional: format (csv, xlsx or empty
    for auto-detect). A url is http(s) or a local path; relative paths are relative to the registry's
    folder, and local paths must lie under the registry's folder or the package's sample feed folder.
    Blank lines and lines starting with '#' are ignored. Raises RegistryError naming every bad row.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RegistryError(f"feed registry {path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RegistryError(f"feed registry {path}: is not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RegistryError(f"feed registry {path}: missing column(s) {', '.join(missing)} in the header")
    registry_dir = path.resolve().parent
    allowed = (registry_dir, SAMPLE_FEEDS_DIR)
    feeds: list[Feed] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    names: dict[str, tuple[str, str, int]] = {}
    for raw in reader:
        line = reader.line_num
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if not isinstance(v, list)}
        if not any(row.values()) or row.get("publisher_id", "").startswith("#"):
            continue
        feed, problems = _check_row(row, line, registry_dir, allowed)
        if feed is not None:
            key = (feed.publisher_id, feed.url)
            if key in seen:
                problems.append(f"same publisher_id and url as row {seen[key]}")
            seen.setdefault(key, line)
            first = names.setdefault(feed.publisher_id, (feed.publisher_name, feed.lad_code, line))
            if first[:2] != (feed.publisher_name, feed.lad_code):
                problems.append(
                    f"publisher {feed.publisher_id!r} has a different name or lad_code from row {first[2]}"
                )
        if problems:
            errors.append(f"row {line}: " + "; ".join(problems))
        elif feed is not None:
            feeds.append(feed)
    if errors:
        raise RegistryError(f"feed registry {path}:\n  " + "\n  ".join(errors))
    return feeds
