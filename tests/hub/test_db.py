"""hub.db: prepared statements on pooled connections, autocommit connections."""

from __future__ import annotations

import psycopg2
import pytest

from hub.db import Database, execute, execute_prepared, fetch_one, fetch_one_prepared
from hub.errors import ValidationError

SQL = "SELECT %(a)s::int + %(b)s::int AS sum, %(a)s::int AS a, %(text)s::text AS text"


def test_a_prepared_query_answers_like_a_plain_one_on_every_connection(db: Database) -> None:
    params = {"a": 2, "b": 40, "text": "Nguyễn Văn An; DROP TABLE x --'"}
    with db.transaction() as first, db.transaction() as second:
        for conn in (first, second, first):
            assert fetch_one_prepared(conn, SQL, params) == fetch_one(conn, SQL, params)
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cur.fetchone()[0] == 1  # prepared once per connection, whatever the values


def test_a_prepared_statement_survives_a_rollback(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as conn:
        assert fetch_one_prepared(conn, SQL, {"a": 1, "b": 1, "text": ""}) is not None
        raise RuntimeError("roll back")
    with db.transaction() as conn:  # the pool hands the same connection back
        assert fetch_one_prepared(conn, SQL, {"a": 1, "b": 2, "text": "x"})["sum"] == 3


def test_autocommit_statements_commit_on_their_own_and_errors_translate(db: Database) -> None:
    with db.transaction() as conn:
        execute(conn, "CREATE TABLE t (x text)")
    with db.autocommit() as conn:
        assert execute_prepared(conn, "INSERT INTO t VALUES (%(x)s)", {"x": "a"}) == 1
        assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    with pytest.raises(ValidationError), db.autocommit() as conn:
        execute_prepared(conn, "INSERT INTO t VALUES (%(x)s)", {"x": "nul\x00"})
    with db.transaction() as conn:
        assert not conn.autocommit  # back in the pool in transaction mode
        assert fetch_one(conn, "SELECT count(*) AS n FROM t") == {"n": 1}
