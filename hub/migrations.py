"""Forward-only, numbered plain-SQL migrations, applied under an advisory lock."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from hub.db import Database, translate
from hub.errors import MigrationError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# An arbitrary constant: every hub process that migrates takes this advisory lock first.
_LOCK_KEY = 7_512_340_001


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str
    checksum: str


@dataclass(frozen=True)
class Status:
    """Which migrations are applied, pending, or changed since they were applied."""

    applied: list[Migration]
    pending: list[Migration]
    changed: list[Migration]

    @property
    def current(self) -> bool:
        """True when nothing is pending and nothing applied was edited."""
        return not self.pending and not self.changed


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read the migration files, refusing bad names and gaps in the numbering."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name {path.name} is not NNNN_snake_name.sql")
        text = path.read_text(encoding="utf-8")
        migrations.append(
            Migration(
                version=int(match.group(1)),
                name=path.name,
                sql=text,
                checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            )
        )
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations are not numbered contiguously: expected {expected:04d}, "
                f"found {migration.name}"
            )
    return migrations


def _applied_checksums(conn: psycopg2.extensions.connection) -> dict[int, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return {}
        cur.execute("SELECT version, checksum FROM schema_migrations")
        return {version: checksum for version, checksum in cur.fetchall()}


def status(db: Database, migrations: list[Migration] | None = None) -> Status:
    """Compare the files with what the database has recorded."""
    migrations = discover() if migrations is None else migrations
    with db.transaction() as conn:
        applied = _applied_checksums(conn)
    return _compare(migrations, applied)


def _compare(migrations: list[Migration], applied: dict[int, str]) -> Status:
    done = [m for m in migrations if m.version in applied]
    return Status(
        applied=done,
        pending=[m for m in migrations if m.version not in applied],
        changed=[m for m in done if applied[m.version] != m.checksum],
    )


def upgrade(
    db: Database,
    migrations: list[Migration] | None = None,
    *,
    progress: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply pending migrations in order, each in its own transaction; return those applied."""
    migrations = discover() if migrations is None else migrations
    conn = db.connect()
    running: Migration | None = None
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.autocommit = False
            with conn.cursor() as cur:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
            conn.commit()
            state = _compare(migrations, _applied_checksums(conn))
            conn.commit()
            if state.changed:
                names = ", ".join(m.name for m in state.changed)
                raise MigrationError(
                    f"already-applied migration {names} was edited after it was applied; "
                    "restore the original file and add a new migration instead"
                )
            for migration in state.pending:
                running = migration
                if progress is not None:
                    progress(migration)
                with conn.cursor() as cur:
                    cur.execute(migration.sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                conn.commit()
            return state.pending
        except psycopg2.Error as exc:
            conn.rollback()
            where = f" in {running.name}" if running is not None else ""
            reason = (exc.pgerror or translate(exc).detail).strip()
            raise MigrationError(f"migration failed{where}: {reason}") from exc
        finally:
            if not conn.closed:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    finally:
        conn.close()


def require_current(db: Database) -> Status:
    """Raise MigrationError saying what to run when the database is behind or edited."""
    state = status(db)
    if state.changed:
        names = ", ".join(m.name for m in state.changed)
        raise MigrationError(
            f"applied migration {names} differs from the file; the schema is not trustworthy"
        )
    if state.pending:
        raise MigrationError(
            f"the database is behind: {len(state.pending)} migration(s) pending "
            f"({state.pending[0].name}…); run `lgsp db upgrade`"
        )
    return state
