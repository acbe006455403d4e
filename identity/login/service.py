"""Sign-in steps (password, second factor) with throttling and security events.

Callers run each step in a transaction of its own, so that a failure is counted and recorded
even though the response reports an error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from hub.db import Connection
from identity import events, mfa, throttle
from identity.accounts import service as accounts
from identity.accounts import store as account_store
from identity.accounts.models import Account


@dataclass(frozen=True)
class Outcome:
    """The result of one sign-in step: the account on success, or how long to wait."""

    account: Account | None = None
    retry_after: int = 0
    method: str | None = None

    @property
    def ok(self) -> bool:
        """True when the step succeeded."""
        return self.account is not None


def _pin_key(pin: str) -> str:
    # Keyed on what was typed, so that unknown and known PINs are slowed alike.
    if len(pin) == 12 and pin.isascii() and pin.isdigit():
        return "pin:" + pin
    return "pin:?" + hashlib.sha256(pin.encode("utf-8", "replace")).hexdigest()[:24]


def _wait(conn: Connection, account_key: str, pair_key: str, *others: str, now: datetime) -> int:
    """Seconds this attempt must wait: the delay of the account from this address (the
    pair) and of ``others``; the account-wide delay only for an address that has itself
    failed on the account lately, so that others' failures never keep the owner out."""
    state = throttle.states(conn, [account_key, pair_key, *others], now=now)
    wait = max(state[key].wait for key in (pair_key, *others))
    if state[pair_key].failures:
        wait = max(wait, state[account_key].wait)
    return wait


def check_password(
    conn: Connection, *, pin: str, password: str, ip: str | None, now: datetime
) -> Outcome:
    """Check a PIN and password, unless the account or the address must wait after failures.

    Three counters: the account from this address (``pinip:``, the one that slows a
    guesser down), the address (``ip:``, whatever account it tries) and the account from
    every address (``pin:``, against guessers spread over many addresses). The account
    counter only holds back addresses that have themselves failed on the account lately:
    others' failures never keep the owner out (docs/identity-accounts.md).
    """
    address = f"ip:{ip or 'unknown'}"
    account_key = _pin_key(pin)
    pair_key = "pinip:" + account_key.removeprefix("pin:") + "@" + (ip or "unknown")
    keys = [account_key, pair_key, address]
    wait = _wait(conn, account_key, pair_key, address, now=now)
    if wait:
        events.record(conn, "login.throttled", ip=ip, detail={"step": "password", "wait": wait})
        return Outcome(retry_after=wait)
    account = accounts.verify_password(conn, pin=pin, password=password)
    if account is None:
        throttle.record_failure(conn, keys, now=now)
        known = account_store.find_by_pin(conn, pin)
        events.record(
            conn,
            "login.failure",
            account_id=known.id if known else None,
            ip=ip,
            detail={"step": "password", "known_account": known is not None},
        )
        return Outcome()
    # The address counter is not reset: one good account must not launder many guesses.
    throttle.reset(conn, [account_key, pair_key])
    return Outcome(account=account, method="pwd")


def check_second_factor(
    conn: Connection, *, account_id: str, code: str, ip: str | None, now: datetime
) -> Outcome:
    """Check a TOTP or recovery code for an account that has passed the password step."""
    account_key = f"otp:{account_id}"
    pair_key = f"otpip:{account_id}@{ip or 'unknown'}"
    keys = [account_key, pair_key]
    wait = _wait(conn, account_key, pair_key, now=now)
    if wait:
        events.record(conn, "mfa.throttled", account_id=account_id, ip=ip, detail={"wait": wait})
        return Outcome(retry_after=wait)
    method = mfa.verify_second_factor(conn, account_id=account_id, code=code, now=now)
    if method is None:
        throttle.record_failure(conn, keys, now=now)
        events.record(conn, "mfa.failure", account_id=account_id, ip=ip)
        return Outcome()
    throttle.reset(conn, keys)
    events.record(conn, "mfa.success", account_id=account_id, ip=ip, detail={"method": method})
    return Outcome(account=account_store.get(conn, account_id), method=method)
