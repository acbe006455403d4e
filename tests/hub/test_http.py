import json
import logging

import pytest

from hub.app import create_app
from hub.db import Database
from hub.errors import ConflictError


@pytest.fixture
def boom_app(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/conflict")
    def conflict():
        raise ConflictError("That name is taken.")

    return app


def test_healthz_is_alive(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "ok"}


def test_readyz_reports_database_and_migrations(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json["status"] == "ready"
    assert r.json["checks"]["database"]["status"] == "ok"


def test_readyz_is_503_when_the_database_is_down(settings):
    down = Database("postgresql://postgres@127.0.0.1:1/nothing", connect_timeout=1)
    app = create_app(settings.replace(database_url="postgresql://postgres@127.0.0.1:1/x"), db=down)
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    assert r.mimetype == "application/problem+json"
    assert r.json["checks"]["database"]["status"] == "unavailable"
    assert r.json["request_id"] == r.headers["X-Request-Id"]


def test_readyz_is_503_when_migrations_are_pending(settings, empty_db_url):
    db = Database(empty_db_url)
    try:
        app = create_app(settings.replace(database_url=empty_db_url), db=db)
        r = app.test_client().get("/readyz")
        assert r.status_code == 503
        assert r.json["checks"]["database"]["status"] == "behind"
        assert "0001_foundation.sql" in r.json["checks"]["database"]["pending"]
    finally:
        db.close()


def test_a_well_formed_request_id_is_echoed(client):
    r = client.get("/healthz", headers={"X-Request-Id": "abc-123-DEF.456"})
    assert r.headers["X-Request-Id"] == "abc-123-DEF.456"


@pytest.mark.parametrize(
    "bad", ["short", "has space in it", "x" * 200, "<script>alert(1)</script>"]
)
def test_a_malformed_request_id_is_replaced(client, bad):
    r = client.get("/healthz", headers={"X-Request-Id": bad})
    assert r.headers["X-Request-Id"] != bad
    assert len(r.headers["X-Request-Id"]) == 32


def _assert_problem(r, status):
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"
    body = r.json
    assert {"type", "title", "status", "detail", "request_id"} <= set(body)
    assert body["status"] == status
    assert body["request_id"] == r.headers["X-Request-Id"]
    return body


def test_404_is_a_problem(client):
    _assert_problem(client.get("/no/such/page"), 404)


def test_405_is_a_problem_with_allow(client):
    r = client.delete("/healthz")
    _assert_problem(r, 405)
    assert "GET" in r.headers["Allow"]


def test_413_is_a_problem(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 100

    @app.post("/echo")
    def echo():
        from flask import request

        return {"n": len(request.get_data())}

    _assert_problem(client.post("/echo", data=b"x" * 1000), 413)


def test_500_never_echoes_the_exception(boom_app, caplog):
    with caplog.at_level(logging.ERROR):
        r = boom_app.test_client().get("/boom")
    body = _assert_problem(r, 500)
    assert "hunter2" not in r.get_data(as_text=True)
    assert body["code"] == "internal_error"
    assert any("unhandled error" in rec.getMessage() for rec in caplog.records)


def test_domain_errors_become_problems(boom_app):
    body = _assert_problem(boom_app.test_client().get("/conflict"), 409)
    assert body["detail"] == "That name is taken."
    assert body["code"] == "conflict"


def test_security_headers_on_every_response(client):
    for r in (client.get("/healthz"), client.get("/missing")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Referrer-Policy"] == "no-referrer"


def test_a_view_keeps_its_own_security_headers(app, settings, db):
    @app.get("/framed")
    def framed():
        return "", 200, {"content-security-policy": "frame-ancestors 'self'"}

    r = app.test_client().get("/framed")
    assert r.headers.getlist("Content-Security-Policy") == ["frame-ancestors 'self'"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in r.headers

    https = create_app(settings.replace(base_url="https://hub.example"), db=db)
    r = https.test_client().get("/healthz")
    assert r.headers.getlist("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]


def test_metrics_count_requests_by_endpoint_and_status(client):
    client.get("/healthz")
    client.get("/nowhere")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'lgsp_http_requests_total{endpoint="/healthz",method="GET",status="200"}' in text
    assert 'endpoint="unmatched",method="GET",status="404"' in text
    assert "lgsp_http_request_duration_seconds_bucket" in text


def test_log_lines_are_json_with_the_request_id(boom_app, capsys):
    boom_app.test_client().get("/boom", headers={"X-Request-Id": "trace-me-0001"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert any(e["request_id"] == "trace-me-0001" and e["level"] == "ERROR" for e in lines)


def test_request_transaction_commits_on_success_and_rolls_back_on_error(app, db):
    from hub.http import get_conn

    @app.post("/write/<word>")
    def write(word):
        with get_conn().cursor() as cur:
            cur.execute(
                "INSERT INTO hub_meta (key, value) VALUES (%s, '1'::jsonb)", (f"test:{word}",)
            )
        if word == "fail":
            raise ConflictError("nope")
        return {"ok": True}

    client = app.test_client()
    assert client.post("/write/ok").status_code == 200
    assert client.post("/write/fail").status_code == 409
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT key FROM hub_meta WHERE key LIKE 'test:%%' ORDER BY key")
        assert [row[0] for row in cur.fetchall()] == ["test:ok"]


def test_autocommit_requests_hand_back_transactional_connections(app, db):
    from hub.http import autocommit, get_conn

    @app.post("/quick/<word>")
    def quick(word):
        autocommit()
        with get_conn().cursor() as cur:
            cur.execute(
                "INSERT INTO hub_meta (key, value) VALUES (%s, '1'::jsonb)", (f"test:{word}",)
            )
        if word == "fail":
            raise ConflictError("nope")  # the row is written already: nothing to roll back
        return {"in_transaction": get_conn().info.transaction_status != 0}

    @app.post("/write/<word>")
    def write(word):
        with get_conn().cursor() as cur:
            cur.execute(
                "INSERT INTO hub_meta (key, value) VALUES (%s, '1'::jsonb)", (f"test:{word}",)
            )
        raise ConflictError("nope")

    client = app.test_client()
    assert client.post("/quick/a").get_json() == {"in_transaction": False}
    assert client.post("/quick/fail").status_code == 409
    # The same pooled connection next serves a request that must roll back as a whole.
    assert client.post("/write/rolled-back").status_code == 409
    with db.transaction() as conn, conn.cursor() as cur:
        assert conn.autocommit is False
        cur.execute("SELECT key FROM hub_meta WHERE key LIKE 'test:%%' ORDER BY key")
        assert [row[0] for row in cur.fetchall()] == ["test:a", "test:fail"]


def test_unique_violations_become_conflicts_by_constraint(db):
    from hub.db import execute, register_constraint

    register_constraint("hub_meta_pkey", "This setting already exists.")
    with pytest.raises(ConflictError) as info:
        with db.transaction() as conn:
            execute(conn, "INSERT INTO hub_meta (key, value) VALUES ('installed_at', '1')")
    assert info.value.constraint == "hub_meta_pkey"
    assert info.value.detail == "This setting already exists."


def test_driver_errors_in_views_become_problems_not_500(app):
    from hub.http import get_conn

    @app.post("/dup")
    def dup():
        with get_conn().cursor() as cur:
            cur.execute("INSERT INTO hub_meta (key, value) VALUES ('installed_at', '1')")
        return {}

    @app.post("/nul")
    def nul():
        with get_conn().cursor() as cur:
            cur.execute("SELECT %s", ("a\x00b",))
        return {}

    client = app.test_client()
    assert _assert_problem(client.post("/dup"), 409)["code"] == "conflict"
    assert _assert_problem(client.post("/nul"), 400)["code"] == "invalid_request"


def test_pooled_connections_are_reused(db):
    with db.transaction() as conn:
        first = conn.get_backend_pid()
    with db.transaction() as conn:
        assert conn.get_backend_pid() == first


def test_a_broken_pooled_connection_is_replaced(db, db_url):
    with db.transaction() as conn:
        victim = conn.get_backend_pid()
    import psycopg2

    admin = psycopg2.connect(db_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (victim,))
    admin.close()
    from hub.errors import DatabaseUnavailableError

    with pytest.raises(DatabaseUnavailableError), db.transaction() as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert conn.get_backend_pid() != victim
