"""SQL of the governance domain: plain parameterised statements; never commits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from hub.db import Connection, execute, fetch_all, fetch_one, json_param, register_constraint
from hub.governance.models import (
    AccessRequest,
    AccessRequestEvent,
    DataAccess,
    DataConsent,
    Grant,
    Subject,
)

register_constraint("grants_live_key", "This app already has a live grant for this dataset.")
register_constraint(
    "data_consents_live_key", "A consent for this app, dataset and purpose is already recorded."
)
register_constraint("grants_client_id_fkey", "There is no such client.")
register_constraint("grants_dataset_id_fkey", "There is no such dataset.")
register_constraint("access_requests_client_id_fkey", "There is no such client.")
register_constraint("access_requests_dataset_id_fkey", "There is no such dataset.")
register_constraint("data_consents_client_id_fkey", "There is no such client.")
register_constraint("client_developers_client_id_fkey", "There is no such client.")
register_constraint("grants_validity_check", "valid_until must be later than valid_from.")
register_constraint("grants_quota_check", "The daily quota must be at least 1.")
register_constraint("access_requests_refusal_check", "A refusal must give its reasons in writing.")
register_constraint(
    "account_agencies_code_check", "An agency code has 1 to 64 letters, digits, . _ or -."
)

_GRANT_COLUMNS = (
    "id, client_id, dataset_id, fields, purposes, any_purpose, legal_basis, valid_from,"
    " valid_until, daily_quota, access_request_id, created_at, created_by, revoked_at,"
    " revoked_by, revoke_reason"
)


def _uuid(value: str) -> str | None:
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


# Grants


def insert_grant(conn: Connection, **values: Any) -> Grant:
    """Insert a grant and return it."""
    row = fetch_one(
        conn,
        "INSERT INTO grants (client_id, dataset_id, fields, purposes, any_purpose, legal_basis,"  # noqa: S608 - fixed column list
        " valid_from, valid_until, daily_quota, access_request_id, created_by)"
        " VALUES (%(client_id)s, %(dataset_id)s, %(fields)s, %(purposes)s, %(any_purpose)s,"
        " %(legal_basis)s, coalesce(%(valid_from)s, now()), %(valid_until)s, %(daily_quota)s,"
        f" %(access_request_id)s, %(created_by)s) RETURNING {_GRANT_COLUMNS}",
        values,
    )
    assert row is not None
    return Grant.from_row(row)


def find_grant(conn: Connection, grant_id: str) -> Grant | None:
    """Return the grant with this id, or None."""
    key = _uuid(grant_id)
    if key is None:
        return None
    row = fetch_one(conn, f"SELECT {_GRANT_COLUMNS} FROM grants WHERE id = %(id)s", {"id": key})  # noqa: S608
    return Grant.from_row(row) if row else None


def find_live_grant(conn: Connection, client_id: str, dataset_id: str) -> Grant | None:
    """Return the unrevoked grant of a client for a dataset (valid or not), or None."""
    row = fetch_one(
        conn,
        f"SELECT {_GRANT_COLUMNS} FROM grants"  # noqa: S608
        " WHERE client_id = %(c)s AND dataset_id = %(d)s AND revoked_at IS NULL",
        {"c": client_id, "d": dataset_id},
    )
    return Grant.from_row(row) if row else None


# The grant and subject mapping a query needs, read in the same round trip as the dataset
# itself (see hub.datasets.store.get_with): one JSON value, parsed by `query_rules`.
QUERY_RULES_SQL = (
    "jsonb_build_object("
    "'grant', (SELECT to_jsonb(g) FROM grants g WHERE g.client_id = %(rules_client)s"
    " AND g.dataset_id = %(rules_dataset)s AND g.revoked_at IS NULL),"
    " 'subject', (SELECT to_jsonb(s) FROM dataset_subjects s"
    " WHERE s.dataset_id = %(rules_dataset)s))"
)


def query_rules_params(client_id: str, dataset_id: str) -> dict[str, Any]:
    """The parameters of QUERY_RULES_SQL."""
    return {"rules_client": client_id, "rules_dataset": dataset_id}


def query_rules(value: dict[str, Any]) -> tuple[Grant | None, Subject | None]:
    """The client's unrevoked grant and the dataset's subject mapping, from QUERY_RULES_SQL."""
    grant = _grant_from_json(value["grant"]) if value.get("grant") else None
    s = value.get("subject")
    subject = Subject(s["dataset_id"], s["kind"], dict(s["params"])) if s else None
    return grant, subject


def _grant_from_json(data: dict[str, Any]) -> Grant:
    def ts(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return Grant.from_row(
        {
            **data,
            "valid_from": ts(data["valid_from"]),
            "valid_until": ts(data["valid_until"]),
            "created_at": ts(data["created_at"]),
            "revoked_at": ts(data["revoked_at"]),
        }
    )


def list_grants(
    conn: Connection,
    *,
    client_id: str | None = None,
    dataset_id: str | None = None,
    client_ids: list[str] | None = None,
    owner_agencies: list[str] | None = None,
    include_revoked: bool = False,
) -> list[Grant]:
    """Return grants matching every given filter, newest first."""
    rows = fetch_all(
        conn,
        f"SELECT {_GRANT_COLUMNS} FROM grants g"  # noqa: S608
        " WHERE (%(c)s::text IS NULL OR g.client_id = %(c)s)"
        " AND (%(d)s::text IS NULL OR g.dataset_id = %(d)s)"
        " AND (%(cs)s::text[] IS NULL OR g.client_id = ANY(%(cs)s))"
        " AND (%(ag)s::text[] IS NULL OR g.dataset_id IN (SELECT id FROM dataset_owners"
        "      WHERE owner_code = ANY(%(ag)s)))"
        " AND (%(all)s OR g.revoked_at IS NULL)"
        " ORDER BY g.created_at DESC, g.id",
        {
            "c": client_id,
            "d": dataset_id,
            "cs": client_ids,
            "ag": owner_agencies,
            "all": include_revoked,
        },
    )
    return [Grant.from_row(r) for r in rows]


def revoke_grant(conn: Connection, grant_id: str, *, by: str, reason: str | None) -> bool:
    """Mark an unrevoked grant revoked now; return False when there was none."""
    return (
        execute(
            conn,
            "UPDATE grants SET revoked_at = now(), revoked_by = %(by)s, revoke_reason = %(r)s"
            " WHERE id = %(id)s AND revoked_at IS NULL",
            {"id": grant_id, "by": by, "r": reason},
        )
        == 1
    )


def count_call(conn: Connection, grant_id: str, day: date, quota: int) -> int | None:
    """Count one call against the day's quota atomically; None when the quota is spent.

    The counter's commit does not wait for the disk (``synchronous_commit = off`` for this
    statement only): a database crash may forget the last few counts, which only lets a
    few more calls through that day, while every call stays in the audit log, whose commits
    do wait. In autocommit the prefix and the upsert are one implicit transaction.
    """
    row = fetch_one(
        conn,
        "SET LOCAL synchronous_commit = off;"
        " INSERT INTO grant_usage (grant_id, day, calls) VALUES (%(g)s, %(day)s, 1)"
        " ON CONFLICT (grant_id, day) DO UPDATE SET calls = grant_usage.calls + 1"
        " WHERE grant_usage.calls < %(quota)s RETURNING calls",
        {"g": grant_id, "day": day, "quota": quota},
    )
    return int(row["calls"]) if row else None


def usage_of(conn: Connection, grant_id: str, day: date) -> int:
    """Calls counted for a grant on a day."""
    row = fetch_one(
        conn,
        "SELECT calls FROM grant_usage WHERE grant_id = %(g)s AND day = %(day)s",
        {"g": grant_id, "day": day},
    )
    return int(row["calls"]) if row else 0


# Datasets as governance sees them


def find_dataset_owner(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    """Return {id, owner_code, field_names, sensitive_fields, title_vi} of a dataset, or None."""
    return fetch_one(conn, "SELECT * FROM dataset_owners WHERE id = %(id)s", {"id": dataset_id})


def find_subject(conn: Connection, dataset_id: str) -> Subject | None:
    """Return how a dataset names its data subject in its params, or None."""
    row = fetch_one(
        conn,
        "SELECT dataset_id, kind, params FROM dataset_subjects WHERE dataset_id = %(d)s",
        {"d": dataset_id},
    )
    return Subject(row["dataset_id"], row["kind"], dict(row["params"])) if row else None


def upsert_subject(conn: Connection, subject: Subject) -> None:
    """Store how a dataset names its data subject."""
    execute(
        conn,
        "INSERT INTO dataset_subjects (dataset_id, kind, params) VALUES (%(d)s, %(k)s, %(p)s)"
        " ON CONFLICT (dataset_id) DO UPDATE SET kind = EXCLUDED.kind, params = EXCLUDED.params",
        {"d": subject.dataset_id, "k": subject.kind, "p": json_param(subject.params)},
    )


def list_subjects(conn: Connection) -> list[Subject]:
    """Every dataset's subject mapping."""
    rows = fetch_all(conn, "SELECT dataset_id, kind, params FROM dataset_subjects ORDER BY 1")
    return [Subject(r["dataset_id"], r["kind"], dict(r["params"])) for r in rows]


# Consents

_CONSENT_COLUMNS = (
    "c.id, c.account_id, c.client_id, c.dataset_id, c.purpose, c.fields, c.text_shown,"
    " c.granted_at, c.withdrawn_at"
)


def insert_consent(conn: Connection, **values: Any) -> DataConsent:
    """Insert a data consent and return it."""
    row = fetch_one(
        conn,
        "INSERT INTO data_consents AS c"  # noqa: S608 - fixed column list
        " (account_id, client_id, dataset_id, purpose, fields, text_shown)"
        " VALUES (%(account_id)s, %(client_id)s, %(dataset_id)s, %(purpose)s, %(fields)s,"
        f" %(text_shown)s) RETURNING {_CONSENT_COLUMNS}",
        values,
    )
    assert row is not None
    return DataConsent.from_row(row)


def find_live_consent(
    conn: Connection, *, account_id: str, client_id: str, dataset_id: str, purpose: str
) -> DataConsent | None:
    """Return the unwithdrawn consent for (account, client, dataset, purpose), or None."""
    row = fetch_one(
        conn,
        f"SELECT {_CONSENT_COLUMNS} FROM data_consents c"  # noqa: S608
        " WHERE c.account_id = %(a)s AND c.client_id = %(c)s AND c.dataset_id = %(d)s"
        " AND c.purpose = %(p)s AND c.withdrawn_at IS NULL",
        {"a": account_id, "c": client_id, "d": dataset_id, "p": purpose},
    )
    return DataConsent.from_row(row) if row else None


def withdraw_consent(conn: Connection, consent_id: str, *, account_id: str) -> bool:
    """Withdraw the account's consent now; False when there is no such live consent."""
    key = _uuid(consent_id)
    if key is None:
        return False
    return (
        execute(
            conn,
            "UPDATE data_consents SET withdrawn_at = now()"
            " WHERE id = %(id)s AND account_id = %(a)s AND withdrawn_at IS NULL",
            {"id": key, "a": account_id},
        )
        == 1
    )


def withdraw_live_consent(
    conn: Connection, *, account_id: str, client_id: str, dataset_id: str, purpose: str
) -> None:
    """Withdraw the live consent of (account, client, dataset, purpose), if any."""
    execute(
        conn,
        "UPDATE data_consents SET withdrawn_at = now() WHERE account_id = %(a)s"
        " AND client_id = %(c)s AND dataset_id = %(d)s AND purpose = %(p)s"
        " AND withdrawn_at IS NULL",
        {"a": account_id, "c": client_id, "d": dataset_id, "p": purpose},
    )


def list_consents(conn: Connection, account_id: str) -> list[DataConsent]:
    """Every consent of an account, live first then newest."""
    rows = fetch_all(
        conn,
        f"SELECT {_CONSENT_COLUMNS}, o.name AS client_name FROM data_consents c"  # noqa: S608
        " LEFT JOIN oauth_clients o ON o.id = c.client_id"
        " WHERE c.account_id = %(a)s ORDER BY c.withdrawn_at IS NOT NULL, c.granted_at DESC",
        {"a": account_id},
    )
    return [DataConsent.from_row(r) for r in rows]


# Access requests

_REQUEST_COLUMNS = (
    "r.id, r.client_id, r.dataset_id, r.fields, r.purposes, r.any_purpose, r.legal_basis,"
    " r.justification, r.contact, r.requested_by, r.requester_account_id, r.status,"
    " r.submitted_at, r.due_at, r.decided_at, r.decided_by, r.decision_reason, r.grant_id"
)


def insert_request(conn: Connection, **values: Any) -> AccessRequest:
    """Insert an access request and return it."""
    row = fetch_one(
        conn,
        "INSERT INTO access_requests AS r (client_id, dataset_id, fields, purposes, any_purpose,"  # noqa: S608 - fixed column list
        " legal_basis, justification, contact, requested_by, requester_account_id, submitted_at,"
        " due_at) VALUES (%(client_id)s, %(dataset_id)s, %(fields)s, %(purposes)s,"
        " %(any_purpose)s, %(legal_basis)s, %(justification)s, %(contact)s, %(requested_by)s,"
        f" %(requester_account_id)s, %(submitted_at)s, %(due_at)s) RETURNING {_REQUEST_COLUMNS}",
        values,
    )
    assert row is not None
    return AccessRequest.from_row(row)


def find_request(conn: Connection, request_id: str, *, lock: bool = False) -> AccessRequest | None:
    """Return an access request (without events), or None; optionally lock it."""
    key = _uuid(request_id)
    if key is None:
        return None
    row = fetch_one(
        conn,
        f"SELECT {_REQUEST_COLUMNS} FROM access_requests r WHERE r.id = %(id)s"  # noqa: S608
        + (" FOR UPDATE" if lock else ""),
        {"id": key},
    )
    return AccessRequest.from_row(row) if row else None


def list_requests(
    conn: Connection,
    *,
    status: str | None = None,
    client_ids: list[str] | None = None,
    owner_agencies: list[str] | None = None,
    requester_account_id: str | None = None,
    limit: int = 200,
) -> list[AccessRequest]:
    """Access requests matching every given filter; pending first, oldest due first."""
    rows = fetch_all(
        conn,
        f"SELECT {_REQUEST_COLUMNS} FROM access_requests r"  # noqa: S608
        " WHERE (%(st)s::text IS NULL OR r.status = %(st)s)"
        " AND (%(cs)s::text[] IS NULL OR r.client_id = ANY(%(cs)s)"
        "      OR r.requester_account_id = %(ra)s::uuid)"
        " AND (%(ag)s::text[] IS NULL OR r.dataset_id IN (SELECT id FROM dataset_owners"
        "      WHERE owner_code = ANY(%(ag)s)))"
        " ORDER BY r.status <> 'pending', r.due_at, r.submitted_at LIMIT %(limit)s",
        {
            "st": status,
            "cs": client_ids,
            "ag": owner_agencies,
            "ra": requester_account_id,
            "limit": limit,
        },
    )
    return [AccessRequest.from_row(r) for r in rows]


def decide_request(
    conn: Connection,
    request_id: str,
    *,
    status: str,
    by: str,
    reason: str | None,
    grant_id: str | None,
) -> None:
    """Record the decision on a pending request."""
    execute(
        conn,
        "UPDATE access_requests SET status = %(st)s, decided_at = now(), decided_by = %(by)s,"
        " decision_reason = %(reason)s, grant_id = %(g)s WHERE id = %(id)s",
        {"id": request_id, "st": status, "by": by, "reason": reason, "g": grant_id},
    )


def insert_event(
    conn: Connection, request_id: str, *, kind: str, actor: str, detail: dict[str, Any]
) -> None:
    """Append a step to an access request's history."""
    execute(
        conn,
        "INSERT INTO access_request_events (access_request_id, kind, actor, detail)"
        " VALUES (%(r)s, %(k)s, %(a)s, %(d)s)",
        {"r": request_id, "k": kind, "a": actor, "d": json_param(detail)},
    )


def list_events(conn: Connection, request_id: str) -> list[AccessRequestEvent]:
    """The history of an access request, in order."""
    rows = fetch_all(
        conn,
        "SELECT at, kind, actor, detail FROM access_request_events"
        " WHERE access_request_id = %(r)s ORDER BY id",
        {"r": request_id},
    )
    return [AccessRequestEvent(r["at"], r["kind"], r["actor"], dict(r["detail"])) for r in rows]


# Outbox


def insert_notice(conn: Connection, *, kind: str, recipient: str, subject: str, body: str) -> int:
    """Queue a notice; return its id."""
    row = fetch_one(
        conn,
        "INSERT INTO outbox (kind, recipient, subject, body) VALUES (%(k)s, %(r)s, %(s)s, %(b)s)"
        " RETURNING id",
        {"k": kind, "r": recipient, "s": subject, "b": body},
    )
    assert row is not None
    return int(row["id"])


def claim_notices(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Lock up to `limit` unsent notices (skipping those another sender holds)."""
    return fetch_all(
        conn,
        "SELECT id, kind, recipient, subject, body, attempts FROM outbox WHERE sent_at IS NULL"
        " ORDER BY id LIMIT %(n)s FOR UPDATE SKIP LOCKED",
        {"n": limit},
    )


def mark_notice(conn: Connection, notice_id: int, *, error: str | None) -> None:
    """Record a delivery attempt: sent when error is None."""
    execute(
        conn,
        "UPDATE outbox SET attempts = attempts + 1,"
        " sent_at = CASE WHEN %(e)s::text IS NULL THEN now() END, last_error = %(e)s"
        " WHERE id = %(id)s",
        {"id": notice_id, "e": error},
    )


def list_notices(conn: Connection, *, recipient: str | None = None) -> list[dict[str, Any]]:
    """Notices, oldest first (optionally for one recipient)."""
    return fetch_all(
        conn,
        "SELECT id, created_at, kind, recipient, subject, body, sent_at, attempts, last_error"
        " FROM outbox WHERE (%(r)s::text IS NULL OR recipient = %(r)s) ORDER BY id",
        {"r": recipient},
    )


# Roles


def list_account_agencies(conn: Connection, account_id: str) -> list[tuple[str, str]]:
    """(role, agency code) pairs of an account."""
    rows = fetch_all(
        conn,
        "SELECT role, agency_code FROM account_agencies WHERE account_id = %(a)s ORDER BY 1, 2",
        {"a": account_id},
    )
    return [(r["role"], r["agency_code"]) for r in rows]


def insert_account_agency(conn: Connection, account_id: str, role: str, agency_code: str) -> None:
    """Attach an account to an agency in a role (idempotent)."""
    execute(
        conn,
        "INSERT INTO account_agencies (account_id, role, agency_code) VALUES (%(a)s, %(r)s, %(g)s)"
        " ON CONFLICT DO NOTHING",
        {"a": account_id, "r": role, "g": agency_code},
    )


def delete_account_agency(conn: Connection, account_id: str, role: str, agency_code: str) -> bool:
    """Detach an account from an agency role."""
    return (
        execute(
            conn,
            "DELETE FROM account_agencies WHERE account_id = %(a)s AND role = %(r)s"
            " AND agency_code = %(g)s",
            {"a": account_id, "r": role, "g": agency_code},
        )
        == 1
    )


def insert_client_developer(conn: Connection, client_id: str, account_id: str) -> None:
    """Make an account a developer of a client (idempotent)."""
    execute(
        conn,
        "INSERT INTO client_developers (client_id, account_id) VALUES (%(c)s, %(a)s)"
        " ON CONFLICT DO NOTHING",
        {"c": client_id, "a": account_id},
    )


def list_developer_clients(conn: Connection, account_id: str) -> list[str]:
    """The client ids an account develops."""
    rows = fetch_all(
        conn,
        "SELECT client_id FROM client_developers WHERE account_id = %(a)s ORDER BY 1",
        {"a": account_id},
    )
    return [r["client_id"] for r in rows]


def find_account_roles(conn: Connection, account_id: str) -> dict[str, Any] | None:
    """Return {roles, pin, full_name} of an account, or None."""
    key = _uuid(account_id)
    if key is None:
        return None
    return fetch_one(
        conn,
        "SELECT roles, pin, full_name FROM accounts WHERE id = %(id)s",
        {"id": key},
    )


def find_client_name(conn: Connection, client_id: str) -> str | None:
    """The display name of a client, or None."""
    row = fetch_one(conn, "SELECT name FROM oauth_clients WHERE id = %(id)s", {"id": client_id})
    return row["name"] if row else None


# Procedures and "who used my data"


def list_procedures(conn: Connection) -> list[dict[str, Any]]:
    """Every known administrative procedure."""
    return fetch_all(conn, "SELECT code, name_vi, name_en FROM procedures ORDER BY code")


def upsert_procedure(conn: Connection, code: str, name_vi: str, name_en: str | None) -> None:
    """Add or rename an administrative procedure."""
    execute(
        conn,
        "INSERT INTO procedures (code, name_vi, name_en) VALUES (%(c)s, %(vi)s, %(en)s)"
        " ON CONFLICT (code) DO UPDATE SET name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en",
        {"c": code, "vi": name_vi, "en": name_en},
    )


def list_data_access(
    conn: Connection,
    subject_hashes: list[str],
    *,
    since: datetime | None = None,
    limit: int = 500,
) -> list[DataAccess]:
    """Data calls that returned records about these subjects, newest first, with names."""
    rows = fetch_all(
        conn,
        "SELECT a.at, a.client_id, o.name AS client_name, a.dataset_id,"
        " v.definition->'title'->>'vi' AS dataset_title, a.purpose, p.name_vi AS purpose_name,"
        " c.doc->'fields' AS fields,"
        " coalesce((c.doc->'detail'->>'on_behalf')::boolean, false) AS on_behalf,"
        " c.doc->>'official_id' AS official_id"
        " FROM audit_log a CROSS JOIN LATERAL (SELECT a.content::jsonb AS doc) c"
        " LEFT JOIN oauth_clients o ON o.id = a.client_id"
        " LEFT JOIN datasets d ON d.id = a.dataset_id"
        " LEFT JOIN dataset_versions v"
        "   ON v.dataset_id = a.dataset_id"
        "   AND v.version = coalesce((c.doc->>'dataset_version')::int, d.current_version)"
        " LEFT JOIN procedures p ON p.code = a.purpose"
        " WHERE a.subject_hash = ANY(%(h)s) AND a.kind = 'data.query' AND a.outcome = 'found'"
        " AND (%(since)s::timestamptz IS NULL OR a.at >= %(since)s)"
        " ORDER BY a.at DESC, a.seq DESC LIMIT %(limit)s",
        {"h": subject_hashes, "since": since, "limit": limit},
    )
    return [DataAccess(**{**r, "fields": tuple(r["fields"])}) for r in rows]


# Public holidays declared by the government year by year (lunar ones among them)


def declared_holidays(conn: Connection, start: date, end: date) -> list[dict[str, Any]]:
    """Declared holidays between two days (inclusive), by day."""
    return fetch_all(
        conn,
        "SELECT day, name_vi, name_en FROM public_holidays"
        " WHERE day BETWEEN %(start)s AND %(end)s ORDER BY day",
        {"start": start, "end": end},
    )


def upsert_holiday(conn: Connection, *, day: date, name_vi: str, name_en: str) -> None:
    """Declare a holiday, or rename the one declared on that day."""
    execute(
        conn,
        "INSERT INTO public_holidays (day, name_vi, name_en) VALUES (%(day)s, %(vi)s, %(en)s)"
        " ON CONFLICT (day) DO UPDATE SET name_vi = excluded.name_vi, name_en = excluded.name_en",
        {"day": day, "vi": name_vi, "en": name_en},
    )


def delete_holiday(conn: Connection, day: date) -> bool:
    """Withdraw a declared holiday; False when none was declared that day."""
    return execute(conn, "DELETE FROM public_holidays WHERE day = %(day)s", {"day": day}) == 1
