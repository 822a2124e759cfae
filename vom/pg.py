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
