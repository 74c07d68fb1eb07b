"""Set-at-a-time reads and writes for the hot paths (receipt batches, dispatch batches).

Each function costs one statement whatever the number of rows. On PostgreSQL the rows travel as one binary
array per column through a server-bound cursor; elsewhere the ORM or executemany does the same work.
"""
from contextlib import contextmanager
from functools import reduce
from operator import or_

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Q


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def server_bound_cursor(*, binary_results: bool = False):
    """A cursor on Django's connection (same transaction, same query log) that binds parameters on the server.

    Django's psycopg cursors bind client-side: every value is quoted into the SQL text, and quoting an array
    escapes each element with a regular expression. A server-bound cursor sends values apart from the SQL,
    and `%b` placeholders send them in binary, so a batch of arrays costs a copy instead of a parse.
    """
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if binary_results:
        # Rows come back in binary, read by psycopg's C loaders; Django's own loaders (timestamptz, jsonb) are
        # text-only, so the caller gets psycopg's types: datetimes in the session's time zone, jsonb parsed.
        raw.format = psycopg.pq.Format.BINARY
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped as cursor:
        yield cursor


def _array_type(field) -> str:
    # varchar(64)[] and text[] take the same values; the bare type name keeps the statement short.
    return field.db_type(connection).split("(")[0] + "[]"


def _columns(fields, rows: list[dict], names: list[str]) -> list[list]:
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the proxy: it is read once per value
    return [[field.get_db_prep_save(row[name], db) for row in rows] for name, field in zip(names, fields, strict=True)]


def rows_insert(model, rows: list[dict], *, skip_conflicts: bool = False) -> None:
    """Insert many rows (dicts of field name → value, the same names in each) in one statement.

    Fields a row leaves out get their defaults, as `bulk_create` gives them on the other path.
    """
    if not rows:
        return
    if not _postgresql():
        model.objects.bulk_create([model(**row) for row in rows], ignore_conflicts=skip_conflicts)
        return
    given = {model._meta.get_field(name) for name in rows[0]}
    left_out = {field.attname: field.get_default() for field in model._meta.concrete_fields
                if field not in given and not field.primary_key and not field.generated}  # the database computes those
    rows = [{**left_out, **row} for row in rows]
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {table} ({columns}) SELECT * FROM UNNEST({arrays}){conflict}".format(
        table=quote(model._meta.db_table),
        columns=", ".join(quote(field.column) for field in fields),
        arrays=", ".join(f"%b::{_array_type(field)}" for field in fields),
        conflict=" ON CONFLICT DO NOTHING" if skip_conflicts else "",
    )
    with server_bound_cursor() as cursor:
        cursor.execute(sql, _columns(fields, rows, names))


def rows_update(model, rows: list[dict], *, key: str = "id") -> None:
    """Update many rows (dicts of field name → new value, each with its `key`, the same names in each) in one
    statement. The ORM's bulk_update builds a CASE per row and field and splits batches on SQLite."""
    if not rows:
        return
    names = [key, *(name for name in rows[0] if name != key)]
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [quote(field.column) for field in fields]
    if not _postgresql():
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {', '.join(f'{column} = %s' for column in columns[1:])} WHERE {columns[0]} = %s",
                [[*values[1:], values[0]] for values in zip(*_columns(fields, rows, names), strict=True)],
            )
        return
    sql = "UPDATE {table} SET {assignments} FROM UNNEST({arrays}) AS v({columns}) WHERE {table}.{key} = v.{key}".format(
        table=table,
        assignments=", ".join(f"{column} = v.{column}" for column in columns[1:]),
        arrays=", ".join(f"%b::{_array_type(field)}" for field in fields),
        columns=", ".join(columns),
        key=columns[0],
    )
    with server_bound_cursor() as cursor:
        cursor.execute(sql, _columns(fields, rows, names))


def existing_values(model, name: str, values: list[str]) -> set[str]:
    """Which of the text `values` the column `name` already holds (one indexed probe)."""
    if not _postgresql():
        return set(model.objects.filter(**{f"{name}__in": values}).values_list(name, flat=True))
    column = connection.ops.quote_name(model._meta.get_field(name).column)
    with server_bound_cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {connection.ops.quote_name(model._meta.db_table)} "
                       f"WHERE {column} = ANY(%b::text[])", [list(values)])
        return {value for (value,) in cursor.fetchall()}


def locked_matching_any(model, names: list[str], match: dict[str, set[str]]) -> list:
    """Instances of `model`, with only `names` loaded, whose text column equals any value of its set in
    `match`; locked FOR UPDATE in id order, so two transactions sharing rows queue instead of deadlocking."""
    if not _postgresql():
        matching = reduce(or_, (Q(**{f"{name}__in": values}) for name, values in match.items()))
        return list(model.objects.select_for_update().filter(matching).only(*names).order_by("pk"))
    # Read in binary: Django's text loader for timestamptz is pure Python and costs more than the query.
    opts = model._meta
    quote = connection.ops.quote_name
    wanted = {opts.get_field(name) for name in names}
    fields = [field for field in opts.concrete_fields if field in wanted]  # from_db expects the model's order
    sql = "SELECT {columns} FROM {table} WHERE {where} ORDER BY {pk} FOR UPDATE".format(
        columns=", ".join(quote(field.column) for field in fields),
        table=quote(opts.db_table),
        where=" OR ".join(f"{quote(opts.get_field(name).column)} = ANY(%b::text[])" for name in match),
        pk=quote(opts.pk.column),
    )
    attnames = [field.attname for field in fields]
    with server_bound_cursor(binary_results=True) as cursor:
        cursor.execute(sql, [list(values) for values in match.values()])
        return [model.from_db(DEFAULT_DB_ALIAS, attnames, row) for row in cursor.fetchall()]
