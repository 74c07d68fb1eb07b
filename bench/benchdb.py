"""The PostgreSQL databases the benchmarks load, created on the server their URL names when it lacks them."""
import psycopg


def pg_database_create(database_url: str, *, fresh: bool = False) -> None:
    """Create the database `database_url` names if it is missing; `fresh` drops it first (never a real database)."""
    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
