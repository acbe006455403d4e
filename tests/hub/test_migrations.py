import threading

import psycopg2
import pytest

from hub import migrations
from hub.db import Database
from hub.errors import MigrationError


def _write(directory, name, sql):
    (directory / name).write_text(sql, encoding="utf-8")


def test_shipped_migrations_are_numbered_contiguously():
    found = migrations.discover()
    assert [m.version for m in found] == list(range(1, len(found) + 1))


def test_a_gap_in_numbering_is_refused(tmp_path):
    _write(tmp_path, "0001_a.sql", "SELECT 1;")
    _write(tmp_path, "0003_c.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="expected 0002, found 0003_c.sql"):
        migrations.discover(tmp_path)


def test_a_badly_named_file_is_refused(tmp_path):
    _write(tmp_path, "1_init.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="1_init.sql"):
        migrations.discover(tmp_path)


def test_all_migrations_apply_to_an_empty_database(empty_db_url):
    db = Database(empty_db_url)
    try:
        assert not migrations.status(db).current
        applied = migrations.upgrade(db)
        assert [m.name for m in applied] == [m.name for m in migrations.discover()]
        state = migrations.status(db)
        assert state.current and not state.pending
        assert migrations.upgrade(db) == []
    finally:
        db.close()


def test_an_edited_applied_migration_is_refused_by_name(empty_db_url, tmp_path):
    _write(tmp_path, "0001_first.sql", "CREATE TABLE t1 (id int);")
    db = Database(empty_db_url)
    try:
        migrations.upgrade(db, migrations.discover(tmp_path))
        _write(tmp_path, "0001_first.sql", "CREATE TABLE t1 (id bigint);")
        _write(tmp_path, "0002_second.sql", "CREATE TABLE t2 (id int);")
        edited = migrations.discover(tmp_path)
        assert [m.name for m in migrations.status(db, edited).changed] == ["0001_first.sql"]
        with pytest.raises(MigrationError, match="0001_first.sql was edited"):
            migrations.upgrade(db, edited)
        assert [m.name for m in migrations.status(db, edited).pending] == ["0002_second.sql"]
    finally:
        db.close()


def test_a_failing_migration_is_rolled_back_and_named(empty_db_url, tmp_path):
    _write(tmp_path, "0001_ok.sql", "CREATE TABLE ok (id int);")
    _write(tmp_path, "0002_bad.sql", "CREATE TABLE half (id int); SELECT * FROM missing_table;")
    db = Database(empty_db_url)
    try:
        with pytest.raises(MigrationError, match="in 0002_bad.sql"):
            migrations.upgrade(db, migrations.discover(tmp_path))
        state = migrations.status(db, migrations.discover(tmp_path))
        assert [m.name for m in state.applied] == ["0001_ok.sql"]
        with db.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('half')")
            assert cur.fetchone()[0] is None
    finally:
        db.close()


def test_concurrent_upgrades_do_not_collide(empty_db_url, tmp_path):
    _write(tmp_path, "0001_slow.sql", "SELECT pg_sleep(0.3); CREATE TABLE once (id int);")
    _write(tmp_path, "0002_more.sql", "CREATE TABLE twice (id int);")
    found = migrations.discover(tmp_path)
    results, errors = [], []

    def run():
        db = Database(empty_db_url)
        try:
            results.append([m.name for m in migrations.upgrade(db, found)])
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results, key=len) == [[], [], [], ["0001_slow.sql", "0002_more.sql"]]
    conn = psycopg2.connect(empty_db_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM schema_migrations")
            assert cur.fetchone()[0] == 2
    finally:
        conn.close()
