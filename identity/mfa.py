"""Second factor: TOTP (RFC 6238, via pyotp) and one-time recovery codes."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

from hub.db import Connection, execute
from hub.errors import ConflictError, ValidationError
from identity.accounts import store
from identity.accounts.models import Account

ISSUER = "LGSP Hub"
RECOVERY_CODES = 10
STEP = 30


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: Account) -> str:
    """The ``otpauth://`` URI an authenticator app reads (the PIN is masked in the label)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account.masked_pin, issuer_name=ISSUER)


def qr_svg(data: str) -> str:
    """A QR code as inline SVG markup, drawn locally (nothing leaves the hub)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    text = buffer.getvalue().decode("utf-8")
    # Drop the XML declaration so the markup can sit inside HTML.
    return text[text.index("<svg") :]


def hash_recovery_code(code: str) -> str:
    """The stored digest of a recovery code (dashes, spaces and case ignored)."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def begin_enrolment(conn: Connection, *, account_id: str) -> str:
    """Store a new, not yet enabled, TOTP secret for the account and return it."""
    secrets_row = store.get_secrets(conn, account_id)
    if secrets_row["totp_enabled_at"] is not None:
        raise ConflictError("Two-step verification is already on.")
    secret = new_secret()
    store.update_totp(conn, account_id, secret=secret, enabled=False)
    return secret


def pending_secret(conn: Connection, *, account_id: str) -> str | None:
    """The secret being enrolled (not yet confirmed), or None."""
    row = store.get_secrets(conn, account_id)
    if row["totp_enabled_at"] is None and row["totp_secret"]:
        secret: str = row["totp_secret"]
        return secret
    return None


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _consume_step(conn: Connection, account_id: str, step: int) -> bool:
    return (
        execute(
            conn,
            "UPDATE accounts SET totp_last_step = %(s)s WHERE id = %(id)s"
            " AND (totp_last_step IS NULL OR totp_last_step < %(s)s)",
            {"s": step, "id": account_id},
        )
        == 1
    )


def confirm_enrolment(conn: Connection, *, account_id: str, code: str, now: datetime) -> list[str]:
    """Turn TOTP on after a correct code; return new recovery codes (shown once, stored hashed)."""
    secret = pending_secret(conn, account_id=account_id)
    if secret is None:
        raise ValidationError("Start the set-up again: no pending authenticator secret.")
    step = _matching_step(secret, code, now)
    if step is None or not _consume_step(conn, account_id, step):
        raise ValidationError("The code is not correct. Check your device's clock.", field="code")
    store.update_totp(conn, account_id, secret=secret, enabled=True)
    codes = _new_recovery_codes()
    store.replace_recovery_codes(conn, account_id, [hash_recovery_code(c) for c in codes])
    return codes


def enable_totp(conn: Connection, *, account_id: str, secret: str | None = None) -> str:
    """Turn TOTP on directly with a given or new secret (operators and demo seeding only)."""
    secret = secret or new_secret()
    try:
        pyotp.TOTP(secret).now()
    except Exception as exc:  # noqa: BLE001 - pyotp raises several kinds for a bad secret
        raise ValidationError("The TOTP secret must be base32.") from exc
    store.update_totp(conn, account_id, secret=secret, enabled=True)
    return secret


def disable(conn: Connection, *, account_id: str) -> None:
    """Turn TOTP off and drop the recovery codes."""
    store.update_totp(conn, account_id, secret=None, enabled=False)
    store.replace_recovery_codes(conn, account_id, [])


def verify_second_factor(
    conn: Connection, *, account_id: str, code: str, now: datetime
) -> str | None:
    """``"totp"`` or ``"recovery"`` when the code is right (each usable once), else None."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    row = store.get_secrets(conn, account_id)
    if row["totp_enabled_at"] is None or not row["totp_secret"]:
        return None
    step = _matching_step(row["totp_secret"], code, now)
    if step is not None:
        return "totp" if _consume_step(conn, account_id, step) else None
    if store.use_recovery_code(conn, account_id, hash_recovery_code(code)):
        return "recovery"
    return None
