"""Council "spending over £500" feeds into raw DuckDB tables (section 3 of the warehouse contract).

Plain functions for the pipeline to wrap in Prefect tasks:
- `read_registry(path) -> list[Feed]`: read and validate the feed registry CSV.
- `record_publishers(con, feeds)`: upsert the registry rows into raw.spend_publishers.
- `ingest_feed(con, settings, feed, *, session=None) -> FileResult`: fetch, land, parse and load one file.
- `ingest_feeds(con, settings, feeds, ...) -> list[FileResult]`: the same for many on one connection (batched commits).
"""

from flows.spend.ingest import FileResult, ingest_feed, ingest_feeds
from flows.spend.load import record_publishers
from flows.spend.registry import Feed, RegistryError, read_registry

__all__ = ["Feed", "FileResult", "RegistryError", "ingest_feed", "ingest_feeds", "read_registry", "record_publishers"]
