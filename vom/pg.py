"""Small PostgreSQL helpers."""


def array_literal(values) -> str | list:
    """`values` (ints, strings, None) as one PostgreSQL array literal ('{1,"a b",NULL}'),
    to be cast in the SQL (`%s::bigint[]`). psycopg2 sends a list as ARRAY[v1, v2, …], one
    expression per element for the server to parse and plan; one literal costs the server a
    third less for the 50-element arrays of a cached start page. Any other value type: the
    list unchanged, for psycopg2 to adapt."""
    values = list(values)
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif type(value) is int:
            parts.append(str(value))
        elif type(value) is str:
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            return values
    return "{" + ",".join(parts) + "}"


# Server-side prepared statements (`execute_prepared`), per database connection: at most
# this many per connection.
PREPARED_LIMIT = 32


def _numbered(sql: str) -> str | None:
    """`sql` with psycopg2's %s placeholders as $1, $2, …; None when it has none (EXECUTE
    needs arguments) or holds any other % or a $ (dollar quotes, a $n of its own)."""
    pieces = sql.split("%s")
    if len(pieces) == 1 or "$" in sql or any("%" in piece for piece in pieces):
        return None
    return "".join(
        piece + (f"${number}" if number < len(pieces) else "")
        for number, piece in enumerate(pieces, start=1)
    )


def execute_prepared(cursor, sql: str, params: list) -> None:
    """Execute `sql` as a prepared statement of this connection: parsed (and, once
    PostgreSQL settles on a generic plan, planned) once per connection instead of on
    every call; a quarter of a cached start page's statement, about 0.25 ms. For the few
    statements a process runs on every view; anything else, or with
    `DATABASE_PREPARED_STATEMENTS` off (PgBouncer in transaction mode, where the next
    transaction may get another server connection), runs as usual.

    The statement must give its parameters' types by casts or context; a PREPARE that
    fails is an error, not a fallback (tests/test_page_cache.py prepares every shape)."""
    from django.conf import settings

    if not settings.DATABASE_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    prepared = _prepared(cursor.db)
    name = prepared.get(sql)
    if name is None and len(prepared) < PREPARED_LIMIT:
        numbered = _numbered(sql)
        if numbered is not None:
            name = f"vom_{len(prepared)}"
            cursor.execute(f"PREPARE {name} AS {numbered}")
            prepared[sql] = name
    if name is None:
        cursor.execute(sql, params)
    else:
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)


def _prepared(db) -> dict[str, str]:
    """The prepared statements (sql → name) of this DatabaseWrapper's open connection (not
    of `django.db.connection`, a proxy shared by every thread). Kept with the DB-API
    connection they were made on: when Django opens another (after CONN_MAX_AGE, an
    error), it starts with none."""
    made_on, prepared = db.__dict__.get("_vom_prepared", (None, None))
    if made_on is not db.connection or prepared is None:
        prepared = {}
        db.__dict__["_vom_prepared"] = (db.connection, prepared)
    return prepared
