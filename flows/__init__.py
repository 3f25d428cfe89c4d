"""Procurement data warehouse: Prefect flows, the loaders under them, and the `procurement` command."""
