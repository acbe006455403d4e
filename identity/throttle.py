"""Progressive delays after failed sign-ins, per account, per client address and per both.

After ``free`` failures each further attempt must wait 2^(n - free) seconds, capped at
15 minutes. There is no permanent lockout: once the delay has passed, a correct answer
always works. Keys are strings such as ``pinip:001087012345@203.0.113.7`` (one account
from one address), ``pin:001087012345`` (one account from anywhere), ``ip:203.0.113.7``,
``otp:<account id>`` and ``otpip:<account id>@<address>``; unknown PINs are throttled
exactly like known ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.db import Connection, execute, fetch_all

MAX_DELAY = timedelta(minutes=15)
# Failures older than this are forgotten when the next one arrives.
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Rule:
    """How many failures are free for a kind of key."""

    prefix: str
    free: int


RULES = {
    "pinip": Rule("pinip", 5),
    # The whole account, from every address: only a guesser spread over many addresses
    # gets this far, and the sign-in service lets a correct password from an address that
    # has not failed on the account through anyway (see identity.login.service).
    "pin": Rule("pin", 50),
    # The second factor likewise: per account and address, and account-wide (20 free) only
    # for addresses that failed on it themselves.
    "otpip": Rule("otpip", 5),
    "otp": Rule("otp", 20),
    "ip": Rule("ip", 20),
}


def delay_after(failures: int, free: int) -> timedelta:
    """The wait imposed after ``failures`` consecutive failures."""
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - free, 20)), MAX_DELAY)


def _free(key: str) -> int:
    rule = RULES.get(key.split(":", 1)[0])
    return rule.free if rule else 5


# Keys whose attempts are taken one at a time (guessing one account or one TOTP in parallel
# must not outrun its counter). An address key is only read: locking it would queue every
# sign-in from one office or NAT behind one another for the whole password check.
SERIALISED = ("pin", "pinip", "otp", "otpip")


@dataclass(frozen=True)
class KeyState:
    """What one key says now: seconds to wait (0: none) and recent failures."""

    wait: int
    failures: int


def wait_seconds(conn: Connection, keys: Sequence[str], *, now: datetime) -> int:
    """Seconds until an attempt on all ``keys`` is allowed (0: allowed now).

    Locks the rows of the account keys (``pin:``, ``pinip:``, ``otp:``, ``otpip:``) until the
    transaction ends, so that concurrent attempts on one account are taken one at a time;
    address keys are read without a lock.
    """
    return max((s.wait for s in states(conn, keys, now=now).values()), default=0)


def states(conn: Connection, keys: Sequence[str], *, now: datetime) -> dict[str, KeyState]:
    """The wait and recent failures of each of ``keys``, locked as ``wait_seconds`` says."""
    locked = [k for k in keys if k.split(":", 1)[0] in SERIALISED]
    shared = [k for k in keys if k not in locked]
    for key in locked:
        execute(
            conn,
            "INSERT INTO login_throttle (key, failures, updated_at) VALUES (%(k)s, 0, %(now)s)"
            " ON CONFLICT (key) DO NOTHING",
            {"k": key, "now": now},
        )
    rows = fetch_all(
        conn,
        "WITH locked AS (SELECT key, failures, next_allowed_at, updated_at FROM login_throttle"
        " WHERE key = ANY(%(locked)s) ORDER BY key FOR UPDATE)"
        " SELECT key, failures, next_allowed_at, updated_at FROM locked"
        " UNION ALL SELECT key, failures, next_allowed_at, updated_at FROM login_throttle"
        " WHERE key = ANY(%(shared)s)",
        {"locked": locked, "shared": shared},
    )
    found = {}
    for row in rows:
        wait = 0.0
        if row["next_allowed_at"] is not None and row["next_allowed_at"] > now:
            wait = (row["next_allowed_at"] - now).total_seconds()
        failures = int(row["failures"]) if now - row["updated_at"] < WINDOW else 0
        found[row["key"]] = KeyState(int(wait) + (1 if wait % 1 else 0), failures)
    return {key: found.get(key, KeyState(0, 0)) for key in keys}


def record_failure(conn: Connection, keys: Sequence[str], *, now: datetime) -> None:
    """Count one failure on each key and push its next allowed time out."""
    rows = fetch_all(
        conn,
        "SELECT key, failures, updated_at FROM login_throttle WHERE key = ANY(%(keys)s)",
        {"keys": list(keys)},
    )
    known = {r["key"]: r for r in rows}
    for key in keys:
        row = known.get(key)
        failures = 1
        if row is not None and now - row["updated_at"] < WINDOW:
            failures = int(row["failures"]) + 1
        delay = delay_after(failures, _free(key))
        execute(
            conn,
            "INSERT INTO login_throttle (key, failures, next_allowed_at, updated_at)"
            " VALUES (%(k)s, %(f)s, %(next)s, %(now)s) ON CONFLICT (key) DO UPDATE SET"
            " failures = EXCLUDED.failures, next_allowed_at = EXCLUDED.next_allowed_at,"
            " updated_at = EXCLUDED.updated_at",
            {"k": key, "f": failures, "next": now + delay if delay else None, "now": now},
        )


def reset(conn: Connection, keys: Sequence[str]) -> None:
    """Forget the failures on ``keys`` (after a success)."""
    execute(conn, "DELETE FROM login_throttle WHERE key = ANY(%(keys)s)", {"keys": list(keys)})
