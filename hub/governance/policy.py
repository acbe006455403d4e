"""The governance policy behind every data query: grant, purpose, subject, consent, quota, audit.

Plugged into the datasets runtime as its ``QueryPolicy``. Grants are read from PostgreSQL
on every call (no cache; in the same round trip as the dataset itself), so a revoked or
expired grant refuses the very next call in every worker. Quotas are counted with one
atomic upsert committed on its own, so that concurrent calls of one app do not queue
behind each other. The audit record is appended by a group-committing ``AuditWriter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.definition import DatasetDefinition
from hub.audit import service as audit_service
from hub.audit.models import AuditEntry
from hub.audit.writer import AuditWriter
from hub.config import Settings
from hub.datasets.models import Caller, FieldDecision, QueryOutcome
from hub.db import Connection, Database, translated
from hub.errors import HubError
from hub.governance import service, store
from hub.governance.errors import NotPermittedError, PurposeNotPermittedError, QuotaExceededError
from hub.governance.models import Subject

KIND = "data.query"


class GovernancePolicy:
    """Enforces grants on every query and appends one audit record per query."""

    def __init__(self, db: Database, settings: Settings, *, writer: AuditWriter | None = None):
        self.db = db
        self.settings = settings
        self.writer = writer or AuditWriter(db, audit_service.chain_key(settings))

    def rules_query(self, caller: Caller, dataset_id: str) -> tuple[str, dict[str, Any]]:
        """The grant and subject mapping, read with the dataset in one round trip."""
        return store.QUERY_RULES_SQL, store.query_rules_params(caller.client_id, dataset_id)

    def decide(
        self,
        conn: Connection,
        *,
        caller: Caller,
        definition: DatasetDefinition,
        params: Mapping[str, Any],
        rules: Any,
    ) -> FieldDecision:
        """Refuse without an active grant, for another purpose, subject or without consent;
        count the quota; return the permitted fields."""
        grant, subject = store.query_rules(rules)
        now = service.utcnow()
        if grant is None or grant.state(now) != "active":
            state = grant.state(now) if grant is not None else "missing"
            raise NotPermittedError(
                f"This app has no active grant for dataset {definition.id!r}"
                + ("" if state == "missing" else f" (the grant is {state})")
                + ": the data may exist, but it is not permitted to this app.",
                dataset=definition.id,
            )
        if not grant.permits_purpose(caller.purpose):
            raise PurposeNotPermittedError(
                f"The grant does not cover the purpose {caller.purpose!r}.",
                purpose=caller.purpose,
                dataset=definition.id,
            )
        notes: dict[str, Any] = {"grant_id": grant.id}
        permitted = set(grant.fields)
        sent: Mapping[str, Any] = params
        if caller.account_id is not None:
            assert caller.purpose is not None
            notes["on_behalf"] = True
            behalf = service.check_on_behalf(
                conn,
                subject=subject,
                account_id=caller.account_id,
                organization=caller.organization,
                client_id=caller.client_id,
                dataset_id=definition.id,
                purpose=caller.purpose,
                params=params,
            )
            sent = behalf.params
            permitted &= set(behalf.consent.fields)
            notes["consent_id"] = behalf.consent.id
            notes["subject_value"] = behalf.subject_value
        else:
            notes["subject_value"] = service.subject_value_of(subject, params)
        if grant.daily_quota is not None:
            with self.db.autocommit() as counter:  # one round trip, not a transaction
                counted = service.count_call(counter, grant)
            if counted is None:
                raise QuotaExceededError(
                    f"The daily quota of {grant.daily_quota} calls is spent.",
                    quota=grant.daily_quota,
                    retry_after=service.seconds_until_local_midnight(),
                )
        withheld = tuple(f for f in definition.field_names if f not in permitted)
        return FieldDecision(
            permitted=frozenset(permitted),
            withheld=withheld,
            params=sent if sent is not params else None,
            notes=notes,
        )

    def record(
        self,
        conn: Connection,
        *,
        caller: Caller,
        dataset_id: str,
        version: int,
        definition: DatasetDefinition | None,
        params: Any,
        decision: FieldDecision,
        outcome: QueryOutcome,
    ) -> None:
        """Append the query's audit record and return once it is committed."""
        notes = decision.notes
        value = notes.get("subject_value") if "subject_value" in notes else None
        if "subject_value" not in notes:
            value = self._subject_after_refusal(conn, caller, dataset_id, params)
        detail: dict[str, Any] = {}
        if notes.get("grant_id"):
            detail["grant_id"] = notes["grant_id"]
        if caller.account_id is not None:
            detail["on_behalf"] = True
        if notes.get("consent_id"):
            detail["consent_id"] = notes["consent_id"]
        if decision.withheld and outcome.outcome in ("found", "not_found"):
            detail["fields_withheld"] = list(decision.withheld)
        entry = AuditEntry(
            kind=KIND,
            outcome=outcome.outcome,
            request_id=caller.request_id,
            client_id=caller.client_id,
            actor=caller.subject if caller.account_id is not None else None,
            official_id=caller.official_id,
            organization=caller.organization,
            subject_hash=audit_service.subject_hash(self.settings, value) if value else None,
            dataset_id=dataset_id,
            dataset_version=version,
            purpose=caller.purpose,
            fields=outcome.fields,
            error_code=outcome.error_code,
            upstream_ms=round(outcome.upstream_ms) if outcome.upstream_ms is not None else None,
            cache_hit=outcome.cached,
            detail=detail,
        )
        self.writer.append(entry)

    def _subject_after_refusal(
        self, conn: Connection, caller: Caller, dataset_id: str, params: Any
    ) -> str | None:
        """Who a refused query was about (so that the citizen's log shows attempts too)."""
        try:
            with translated():
                return self._subject_of(conn, caller, dataset_id, params)
        except HubError:
            return None

    def _subject_of(
        self, conn: Connection, caller: Caller, dataset_id: str, params: Any
    ) -> str | None:
        subject: Subject | None = store.find_subject(conn, dataset_id)
        if subject is None:
            return None
        if caller.account_id is not None:
            if subject.kind == "organization":
                return caller.organization
            row = store.find_account_roles(conn, caller.account_id)
            return row["pin"] if row else None
        return service.subject_value_of(subject, params if isinstance(params, dict) else {})
