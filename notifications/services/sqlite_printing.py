"""Blocks of CSV lines printed by SQLite in helper processes, for the export.

Processes, not threads: SQLite's memory allocator takes one process-wide lock, so two threads printing at once mostly
wait for each other. This module imports nothing of Django, so a helper starts in a few milliseconds.
"""
import sqlite3

_opened: dict[str, sqlite3.Connection] = {}


def block_printed(path: str, sql: str, params: tuple) -> tuple[int, str]:
    """(rows, their lines) of one block statement, read on this process's own read-only connection to `path`."""
    database = _opened.get(path)
    if database is None:
        database = _opened[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20)
    return database.execute(sql, params).fetchone()
