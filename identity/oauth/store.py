"""SQL of the provider: clients, codes, refresh-token families, consents, subjects, denylist."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from hub.db import Connection, execute, fetch_all, fetch_one, json_param, register_constraint

register_constraint("oauth_clients_pkey", "A client with this client_id already exists.")
register_constraint(
    "oauth_clients_id_check", "A client_id is 3–100 characters of A–Z a–z 0–9 . _ ~ -."
)
register_constraint(
    "oauth_clients_secret_check",
    "Clients using client_secret_basic/post have a secret; other methods have none.",
)
register_constraint(
    "oauth_clients_jwks_check", "A private_key_jwt client needs a JWKS (and only such a client)."
)

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{3,100}$")
_CLIENT_COLUMNS = (
    "id, name, secret_hash, auth_method, grant_types, scopes, redirect_uris,"
    " post_logout_redirect_uris, jwks, sector, id_token_signed_response_alg, created_at"
)


def find_client(conn: Connection, client_id: object) -> dict[str, Any] | None:
    """An enabled client's row, or None (also for ids that cannot exist)."""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        return None
    return fetch_one(
        conn,
        f"SELECT {_CLIENT_COLUMNS} FROM oauth_clients"  # noqa: S608 - constant column list
        " WHERE id = %(id)s AND disabled_at IS NULL",
        {"id": client_id},
    )


def list_clients(conn: Connection) -> list[dict[str, Any]]:
    """Every client, oldest first."""
    return fetch_all(
        conn,
        f"SELECT {_CLIENT_COLUMNS} FROM oauth_clients ORDER BY created_at, id",  # noqa: S608
    )


def insert_client(conn: Connection, **values: Any) -> dict[str, Any]:
    """Store a new client and return its row."""
    values = dict(values)
    values["jwks"] = json_param(values["jwks"]) if values.get("jwks") is not None else None
    row = fetch_one(
        conn,
        "INSERT INTO oauth_clients (id, name, secret_hash, auth_method, grant_types, scopes,"  # noqa: S608
        " redirect_uris, post_logout_redirect_uris, jwks, sector, id_token_signed_response_alg)"
        " VALUES (%(id)s, %(name)s, %(secret_hash)s, %(auth_method)s, %(grant_types)s,"
        " %(scopes)s, %(redirect_uris)s, %(post_logout_redirect_uris)s, %(jwks)s, %(sector)s,"
        f" %(alg)s) RETURNING {_CLIENT_COLUMNS}",
        values,
    )
    assert row is not None
    return row


def insert_code(conn: Connection, **values: Any) -> None:
    """Store an authorization code (its hash) with the sign-in it carries."""
    values = dict(values)
    values["org"] = json_param(values["org"]) if values.get("org") is not None else None
    execute(
        conn,
        "INSERT INTO oauth_authorization_codes (code_hash, client_id, account_id, session_id,"
        " redirect_uri, scope, nonce, code_challenge, code_challenge_method, auth_time, acr,"
        " amr, org, expires_at) VALUES (%(code_hash)s, %(client_id)s, %(account_id)s,"
        " %(session_id)s, %(redirect_uri)s, %(scope)s, %(nonce)s, %(code_challenge)s,"
        " %(code_challenge_method)s, %(auth_time)s, %(acr)s, %(amr)s, %(org)s, %(expires_at)s)",
        values,
    )


def find_code(conn: Connection, code_hash: str) -> dict[str, Any] | None:
    """An authorization code's row by hash, used or not."""
    return fetch_one(
        conn,
        "SELECT *, expires_at <= now() AS expired FROM oauth_authorization_codes"
        " WHERE code_hash = %(h)s",
        {"h": code_hash},
    )


def claim_code(conn: Connection, code_id: int) -> bool:
    """Mark a code used; False when another request used it first (row-level race winner)."""
    row = fetch_one(
        conn,
        "UPDATE oauth_authorization_codes SET used_at = now()"
        " WHERE id = %(id)s AND used_at IS NULL RETURNING id",
        {"id": code_id},
    )
    return row is not None


def record_code_tokens(
    conn: Connection, code_id: int, *, family_id: str, access_jti: str, access_exp: datetime
) -> None:
    """Remember which tokens a code produced, so that replaying it can revoke them."""
    execute(
        conn,
        "UPDATE oauth_authorization_codes SET family_id = %(f)s, access_jti = %(j)s,"
        " access_exp = %(e)s WHERE id = %(id)s",
        {"f": family_id, "j": access_jti, "e": access_exp, "id": code_id},
    )


def insert_refresh_token(conn: Connection, **values: Any) -> None:
    """Store a refresh token (its hash) in its family."""
    values = dict(values)
    values["org"] = json_param(values["org"]) if values.get("org") is not None else None
    execute(
        conn,
        "INSERT INTO oauth_refresh_tokens (token_hash, family_id, parent_id, client_id,"
        " account_id, session_id, scope, auth_time, acr, amr, org, access_jti, access_exp,"
        " expires_at) VALUES (%(token_hash)s, %(family_id)s, %(parent_id)s, %(client_id)s,"
        " %(account_id)s, %(session_id)s, %(scope)s, %(auth_time)s, %(acr)s, %(amr)s, %(org)s,"
        " %(access_jti)s, %(access_exp)s, %(expires_at)s)",
        values,
    )


def find_refresh_token(conn: Connection, token_hash: str) -> dict[str, Any] | None:
    """A refresh token's row by hash."""
    return fetch_one(
        conn,
        "SELECT *, expires_at <= now() AS expired FROM oauth_refresh_tokens"
        " WHERE token_hash = %(h)s",
        {"h": token_hash},
    )


def claim_refresh_token(conn: Connection, token_id: str) -> bool:
    """Mark a refresh token used; False when a concurrent request is rotating it or did.

    SKIP LOCKED makes the loser of a race return at once without locking the row, so the
    winner's transaction never waits for it (and it never waits for the winner).
    """
    row = fetch_one(
        conn,
        "UPDATE oauth_refresh_tokens SET used_at = now() WHERE id = ("
        " SELECT id FROM oauth_refresh_tokens WHERE id = %(id)s AND used_at IS NULL"
        " AND revoked_at IS NULL FOR UPDATE SKIP LOCKED) RETURNING id",
        {"id": token_id},
    )
    return row is not None


def revoke_families(conn: Connection, where: str, params: dict[str, Any]) -> int:
    """Revoke refresh-token families matching ``where`` and deny their access tokens."""
    _forget_not_denied()
    # ``where`` is one of the constant predicates below, never built from input.
    execute(
        conn,
        "INSERT INTO oauth_revoked_jtis (jti, expires_at)"  # noqa: S608
        " SELECT access_jti, access_exp FROM oauth_refresh_tokens"
        f" WHERE ({where}) AND access_jti IS NOT NULL AND access_exp > now()"
        " ON CONFLICT (jti) DO NOTHING",
        params,
    )
    return execute(
        conn,
        f"UPDATE oauth_refresh_tokens SET revoked_at = now() WHERE ({where})"  # noqa: S608
        " AND revoked_at IS NULL",
        params,
    )


FAMILY = "family_id = %(family_id)s"
ACCOUNT_CLIENT = "account_id = %(account_id)s AND client_id = %(client_id)s"
SESSIONS_ONLINE = (
    "session_id = ANY(%(session_ids)s)"
    " AND NOT ('offline_access' = ANY(string_to_array(scope, ' ')))"
)


def revoke_online(conn: Connection, session_ids: list[str]) -> None:
    """When sign-ins end, their apps' tokens end too, but those granted ``offline_access``."""
    revoke_families(conn, SESSIONS_ONLINE, {"session_ids": session_ids})


# Resource servers introspect the same tokens again and again: a "not on the denylist"
# answer is remembered for NOT_DENIED_TTL seconds. A revocation made in this process
# forgets every such answer at once; one made in another hub process is seen within that
# time. Denials themselves are always read from the database.
NOT_DENIED_TTL = 1.0
_NOT_DENIED_MAX = 20_000
_not_denied: OrderedDict[str, float] = OrderedDict()
_not_denied_lock = threading.Lock()
_not_denied_generation = [0]  # moves on every forget: a lookup begun before it is not kept


def _forget_not_denied() -> None:
    with _not_denied_lock:
        _not_denied.clear()
        _not_denied_generation[0] += 1


def deny_jti(conn: Connection, jti: str, expires_at: datetime) -> None:
    """Put an access token's jti on the denylist until it expires."""
    _forget_not_denied()
    execute(
        conn,
        "INSERT INTO oauth_revoked_jtis (jti, expires_at) VALUES (%(j)s, %(e)s)"
        " ON CONFLICT (jti) DO NOTHING",
        {"j": jti, "e": expires_at},
    )


def is_denied(conn: Connection, jti: str) -> bool:
    """True when the jti is on the denylist (a "no" may be up to NOT_DENIED_TTL s old)."""
    now = time.monotonic()
    checked = _not_denied.get(jti)
    if checked is not None and now - checked < NOT_DENIED_TTL:
        return False
    generation = _not_denied_generation[0]
    row = fetch_one(conn, "SELECT 1 AS x FROM oauth_revoked_jtis WHERE jti = %(j)s", {"j": jti})
    if row is not None:
        return True
    with _not_denied_lock:
        if generation != _not_denied_generation[0]:
            return False
        _not_denied[jti] = now
        _not_denied.move_to_end(jti)
        if len(_not_denied) > _NOT_DENIED_MAX:
            _not_denied.popitem(last=False)
    return False


def token_context(conn: Connection, *, jti: str, sub: str) -> dict[str, Any]:
    """In one round trip: whether the jti is denied, and the account behind a subject."""
    row = fetch_one(
        conn,
        "SELECT EXISTS (SELECT 1 FROM oauth_revoked_jtis WHERE jti = %(j)s) AS revoked,"
        " (SELECT account_id FROM oauth_subjects WHERE sub = %(s)s) AS account_id",
        {"j": jti, "s": sub},
    )
    assert row is not None
    return row


def remember_subject(conn: Connection, *, sub: str, sector: str, account_id: str) -> None:
    """Record which account a pairwise subject stands for."""
    execute(
        conn,
        "INSERT INTO oauth_subjects (sub, sector, account_id) VALUES (%(s)s, %(sec)s, %(a)s)"
        " ON CONFLICT (sub) DO NOTHING",
        {"s": sub, "sec": sector, "a": account_id},
    )


def find_consent(conn: Connection, account_id: str, client_id: str) -> list[str] | None:
    """The scopes the account allowed the client, or None."""
    row = fetch_one(
        conn,
        "SELECT scopes FROM oauth_consents WHERE account_id = %(a)s AND client_id = %(c)s",
        {"a": account_id, "c": client_id},
    )
    return list(row["scopes"]) if row else None


def save_consent(conn: Connection, account_id: str, client_id: str, scopes: list[str]) -> None:
    """Remember (widening, never narrowing) what the account allowed the client."""
    execute(
        conn,
        "INSERT INTO oauth_consents (account_id, client_id, scopes) VALUES (%(a)s, %(c)s, %(s)s)"
        " ON CONFLICT (account_id, client_id) DO UPDATE SET granted_at = now(),"
        " scopes = ARRAY(SELECT DISTINCT unnest(oauth_consents.scopes || EXCLUDED.scopes))",
        {"a": account_id, "c": client_id, "s": scopes},
    )


def list_consents(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    """The clients the account allowed, with their names, newest first."""
    return fetch_all(
        conn,
        "SELECT c.client_id, c.scopes, c.granted_at, k.name FROM oauth_consents c"
        " JOIN oauth_clients k ON k.id = c.client_id WHERE c.account_id = %(a)s"
        " ORDER BY c.granted_at DESC",
        {"a": account_id},
    )


def delete_consent(conn: Connection, account_id: str, client_id: str) -> bool:
    """Forget a consent; True when there was one."""
    return (
        execute(
            conn,
            "DELETE FROM oauth_consents WHERE account_id = %(a)s AND client_id = %(c)s",
            {"a": account_id, "c": client_id},
        )
        == 1
    )


def remember_assertion(conn: Connection, *, client_id: str, jti: str, expires_at: datetime) -> bool:
    """Record a client assertion's jti; False when it was seen before (a replay)."""
    execute(
        conn, "DELETE FROM oauth_assertion_jtis WHERE expires_at < now() - interval '10 minutes'"
    )
    row = fetch_one(
        conn,
        "INSERT INTO oauth_assertion_jtis (client_id, jti, expires_at)"
        " VALUES (%(c)s, %(j)s, %(e)s) ON CONFLICT DO NOTHING RETURNING jti",
        {"c": client_id, "j": jti, "e": expires_at},
    )
    return row is not None


def set_secret_hash(conn: Connection, client_id: str, secret_hash: str) -> None:
    """Replace a client's stored secret hash."""
    execute(
        conn,
        "UPDATE oauth_clients SET secret_hash = %(h)s WHERE id = %(id)s",
        {"h": secret_hash, "id": client_id},
    )


def delete_client(conn: Connection, client_id: str) -> bool:
    """Delete a client (codes, refresh tokens and consents go with it by cascade)."""
    return execute(conn, "DELETE FROM oauth_clients WHERE id = %(id)s", {"id": client_id}) == 1
