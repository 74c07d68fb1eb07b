"""Blocks of CSV lines printed by SQLite in helper processes, for the export.

Processes, not threads: measured on two cores, two threads printing blocks were slower than one (they contend on
locks SQLite holds per process, its memory allocator's among them), two processes nearly twice as fast. This module
imports nothing of Django, so a helper starts in a few milliseconds.
"""
import sqlite3
from pathlib import Path

_opened: dict[str, sqlite3.Connection] = {}


def block_printed(path: str, sql: str, params: tuple) -> tuple[int, str]:
    """(rows, their lines) of one block statement, read on this process's own read-only connection to `path`."""
    database = _opened.get(path)
    if database is None:
        uri = Path(path).resolve().as_uri() + "?mode=ro"  # percent-encoded, so any file name is a valid URI
        database = _opened[path] = sqlite3.connect(uri, uri=True, timeout=20)
    return database.execute(sql, params).fetchone()
