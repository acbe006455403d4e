"""Rules of the datasets domain: storing definitions, the catalogue, and answering queries.

This module is the one edge where connector errors become hub errors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from marshmallow import Schema

from connectors import errors as cerr
from connectors.base import Context, Result
from connectors.definition import (
    DatasetDefinition,
    RestUpstream,
    load_definition_text,
    parse_definition,
)
from connectors.registry import DatasetConnector, build_connector
from connectors.resilience import BreakerRegistry
from connectors.schemas import describe, input_schema, validate_params
from hub.datasets import errors, metrics, store
from hub.datasets.models import (
    Caller,
    Dataset,
    FieldDecision,
    LoadResult,
    QueryAnswer,
    QueryOutcome,
)
from hub.db import Connection
from hub.errors import HubError

log = logging.getLogger(__name__)

DATASETS_DIR = Path(__file__).resolve().parent.parent.parent / "datasets"
SCOPE_PREFIX = "dataset:"


def scope_for(dataset_id: str) -> str:
    """Return the access-token scope that grants queries of a dataset."""
    return SCOPE_PREFIX + dataset_id


class QueryPolicy(Protocol):
    """The governance seam: decides what a query may see and records how every query ended.

    ``rules_query`` names what the policy reads, fetched with the dataset in one round
    trip; ``decide`` runs after the scope and purpose checks and before the upstream is
    asked; ``record`` runs exactly once per query that reached a dataset (found, not found,
    refused or failed) before anything is returned: if it raises, the caller gets that
    error and no data.
    """

    def rules_query(self, caller: Caller, dataset_id: str) -> tuple[str, dict[str, Any]] | None:
        """A scalar SQL expression and its named parameters whose value ``decide`` gets as
        ``rules`` (None: nothing to read)."""

    def decide(
        self,
        conn: Connection,
        *,
        caller: Caller,
        definition: DatasetDefinition,
        params: Mapping[str, Any],
        rules: Any,
    ) -> FieldDecision:
        """Return the fields (and params) the query may use; raise a HubError to refuse it."""

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
        """Record a finished query; raise (e.g. AuditUnavailableError) to withhold the answer."""


class PermitAllPolicy:
    """Every field to every caller holding the dataset scope; nothing recorded."""

    def rules_query(self, caller: Caller, dataset_id: str) -> None:
        """Nothing to read."""

    def decide(
        self,
        conn: Connection,
        *,
        caller: Caller,
        definition: DatasetDefinition,
        params: Mapping[str, Any],
        rules: Any,
    ) -> FieldDecision:
        """Permit every field."""
        return FieldDecision()

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
        """Record nothing."""


class DatasetRuntime:
    """Per-process state: parsed definitions and connectors per (dataset, version), breakers.

    Connectors are built once per process and version (so a WSDL is read once); the
    environment they read credentials and ${VAR} locations from is handed in explicitly.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        breakers: BreakerRegistry | None = None,
        policy: QueryPolicy | None = None,
        builder: Callable[..., DatasetConnector] = build_connector,
    ) -> None:
        self.env = dict(env)
        self.breakers = breakers or BreakerRegistry()
        self.policy: QueryPolicy = policy or PermitAllPolicy()
        self._builder = builder
        self._lock = threading.Lock()
        self._definitions: dict[tuple[str, int, str], tuple[DatasetDefinition, Schema]] = {}
        self._connectors: dict[tuple[str, int, str], DatasetConnector] = {}
        self._building: dict[tuple[str, int, str], threading.Lock] = {}
        self.openapi_cache: tuple[Any, dict[str, Any]] | None = None

    @staticmethod
    def _key(ds: Dataset) -> tuple[str, int, str]:
        return (ds.id, ds.current_version, ds.checksum)

    def definition_of(self, ds: Dataset) -> DatasetDefinition:
        """Return the parsed definition of a dataset's current version."""
        return self._parsed(ds)[0]

    def params_schema(self, ds: Dataset) -> Schema:
        """Return the marshmallow schema of the dataset's query params."""
        return self._parsed(ds)[1]

    def _parsed(self, ds: Dataset) -> tuple[DatasetDefinition, Schema]:
        key = self._key(ds)
        hit = self._definitions.get(key)
        if hit is None:
            definition = _parse_stored(ds.definition, ds.id, ds.current_version)
            hit = (definition, input_schema(definition))
            with self._lock:
                self._definitions[key] = hit
        return hit

    def connector_for(self, ds: Dataset) -> DatasetConnector:
        """Return the dataset version's connector, building it on first use."""
        key = self._key(ds)
        connector = self._connectors.get(key)
        if connector is not None:
            return connector
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        # One build per key at a time; other keys are not held up by a slow WSDL.
        with building:
            connector = self._connectors.get(key)
            if connector is not None:
                return connector
            try:
                connector = self._builder(
                    self.definition_of(ds), env=self.env, breakers=self.breakers
                )
            except cerr.DefinitionError as exc:
                log.warning("dataset %s cannot be prepared: %s", ds.id, exc.message)
                raise errors.DatasetUnavailableError(
                    f"The hub cannot prepare dataset {ds.id!r}: {exc.problem}",
                    dataset=ds.id,
                ) from exc
            except cerr.ConnectorError as exc:
                raise translate_connector_error(exc, ds.id) from exc
            stale = [k for k in self._connectors if k[0] == ds.id]
            with self._lock:
                for k in stale:
                    self._connectors.pop(k).close()
                self._connectors[key] = connector
            return connector

    def breaker_states(self) -> dict[str, dict[str, Any]]:
        """Return every upstream breaker's state, and refresh the breaker gauge."""
        states = self.breakers.states()
        for name, state in states.items():
            metrics.set_breaker(name, state["state"])
        return states

    def close(self) -> None:
        """Release every connector's pooled connections."""
        with self._lock:
            for connector in self._connectors.values():
                connector.close()
            self._connectors.clear()


def _parse_stored(data: Mapping[str, Any], dataset_id: str, version: int) -> DatasetDefinition:
    try:
        return parse_definition(dict(data), source=f"dataset {dataset_id} version {version}")
    except cerr.DefinitionError as exc:
        # Stored definitions were valid when loaded; a newer connector layer may disagree.
        raise errors.DatasetUnavailableError(
            f"The stored definition of {dataset_id!r} is no longer valid: {exc.message}",
            dataset=dataset_id,
        ) from exc


def checksum_of(definition: Mapping[str, Any]) -> str:
    """Return the SHA-256 of a definition's canonical JSON."""
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_definition_text(
    text: str, *, source: str, base_dir: str | None = None
) -> DatasetDefinition:
    """Parse and validate definition YAML, raising InvalidDefinitionError (file, field, problem)."""
    try:
        return load_definition_text(text, source=source, base_dir=base_dir)
    except cerr.DefinitionError as exc:
        raise errors.InvalidDefinitionError(
            exc.message, file=exc.file, field=exc.path or None, problem=exc.problem
        ) from exc


def check_definition(definition: DatasetDefinition, *, env: Mapping[str, str]) -> None:
    """Build a throw-away connector (reading the WSDL) to prove the upstream contract."""
    try:
        connector = build_connector(definition, env=env, breakers=BreakerRegistry())
    except cerr.DefinitionError as exc:
        raise errors.InvalidDefinitionError(
            exc.message, file=exc.file, field=exc.path or None, problem=exc.problem
        ) from exc
    except cerr.ConnectorError as exc:
        raise errors.InvalidDefinitionError(
            f"{definition.source}: upstream: {exc.message}", file=definition.source
        ) from exc
    connector.close()


def store_definition(
    conn: Connection, *, definition: DatasetDefinition, source_yaml: str, loaded_by: str
) -> LoadResult:
    """Store a validated definition as the dataset's new version, unless it is unchanged."""
    data = definition.to_dict()
    try:
        # A definition built in code (not parsed from YAML) is held to the same rules.
        parse_definition(data, source=definition.source)
    except cerr.DefinitionError as exc:
        raise errors.InvalidDefinitionError(
            exc.message, file=exc.file, field=exc.path or None, problem=exc.problem
        ) from exc
    checksum = checksum_of(data)
    store.lock(conn, definition.id)
    current = store.find_by_id(conn, definition.id)
    if current is not None and current.checksum == checksum:
        return LoadResult(definition.id, current.current_version, False, checksum)
    version = store.latest_version(conn, definition.id) + 1
    store.insert_version(
        conn,
        dataset_id=definition.id,
        version=version,
        definition=data,
        source_yaml=source_yaml,
        checksum=checksum,
        loaded_by=loaded_by,
    )
    return LoadResult(definition.id, version, True, checksum)


def load_definition_file(
    conn: Connection,
    path: Path,
    *,
    loaded_by: str,
    check_env: Mapping[str, str] | None = None,
) -> LoadResult:
    """Validate a definition file (and its upstream contract when given an env) and store it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise errors.InvalidDefinitionError(
            f"{path}: cannot read file: {exc.strerror}", file=str(path)
        ) from exc
    except UnicodeDecodeError as exc:
        raise errors.InvalidDefinitionError(f"{path}: file is not UTF-8", file=str(path)) from exc
    definition = parse_definition_text(text, source=str(path), base_dir=str(path.resolve().parent))
    if check_env is not None:
        check_definition(definition, env=check_env)
    return store_definition(conn, definition=definition, source_yaml=text, loaded_by=loaded_by)


def load_demo_datasets(conn: Connection, *, overrides: Mapping[str, str]) -> list[str]:
    """Load datasets/*.yaml with the demo ministries' locations substituted; return their ids.

    Locations written as ${VAR} are resolved from `overrides` before storing; credentials
    stay environment-variable names, read by the serving process.
    """
    ids = []
    for path in sorted(DATASETS_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        definition = parse_definition_text(
            text, source=str(path), base_dir=str(path.resolve().parent)
        )
        try:
            resolved = definition.resolve(overrides)
        except cerr.DefinitionError as exc:
            raise errors.InvalidDefinitionError(exc.message, file=exc.file, field=exc.path) from exc
        store_definition(conn, definition=resolved, source_yaml=text, loaded_by="lgsp demo")
        ids.append(definition.id)
    return ids


def set_enabled(conn: Connection, dataset_id: str, *, enabled: bool) -> None:
    """Enable or disable a dataset (disabled datasets leave the catalogue and refuse queries)."""
    if not store.update_enabled(conn, dataset_id, enabled):
        raise store.UnknownDatasetError(f"There is no dataset {dataset_id!r}.", dataset=dataset_id)


def list_datasets(conn: Connection) -> list[Dataset]:
    """Return every dataset, enabled or not (for administrators)."""
    return store.list_datasets(conn)


def _summary(runtime: DatasetRuntime, ds: Dataset) -> dict[str, Any]:
    d = runtime.definition_of(ds)
    return {
        "id": d.id,
        "title": d.title.to_dict(),
        "description": d.description.to_dict(),
        "owner": d.owner.to_dict(),
        "version": ds.current_version,
        "enabled": ds.enabled,
        "scope": scope_for(d.id),
        "personal_data": bool(d.personal_fields),
    }


def catalogue(conn: Connection, *, runtime: DatasetRuntime) -> list[dict[str, Any]]:
    """Return the public catalogue: one summary per enabled dataset."""
    out = []
    for ds in store.list_datasets(conn, enabled_only=True):
        try:
            out.append(_summary(runtime, ds))
        except errors.DatasetUnavailableError:
            # One unreadable definition must not take the whole catalogue down.
            log.warning("dataset %s left out of the catalogue", ds.id)
    return out


def describe_dataset(
    conn: Connection, *, runtime: DatasetRuntime, dataset_id: str
) -> dict[str, Any]:
    """Return a dataset's description: texts, owner, schemas, fields and examples."""
    ds = store.get(conn, dataset_id)
    if not ds.enabled:
        raise errors.DatasetDisabledError(dataset=dataset_id)
    d = runtime.definition_of(ds)
    described = describe(d)
    fields = []
    for f in d.response.fields:
        fields.append(
            {
                "name": f.name,
                "type": f.type,
                "description": f.description.to_dict() if f.description else None,
                "personal": f.is_personal,
                "sensitive": f.name in d.sensitive_fields,
            }
        )
    return {
        **_summary(runtime, ds),
        "definition_version": d.version,
        "kind": d.upstream.kind,
        "fields": fields,
        "input_schema": described["input_schema"],
        "output_schema": described["output_schema"],
        "example": described["example"],
        "timeout_seconds": d.timeout.total,
        "query_url": f"/api/v1/datasets/{d.id}/query",
    }


def caller_of(
    *,
    client_id: str,
    scopes: frozenset[str],
    purpose: str | None,
    official_id: str | None,
    request_id: str,
    account_id: str | None = None,
    subject: str | None = None,
    organization: str | None = None,
) -> Caller:
    """Return the caller of a query (from a verified token and the request headers)."""
    return Caller(
        client_id=client_id,
        scopes=scopes,
        purpose=purpose,
        request_id=request_id,
        official_id=official_id,
        account_id=account_id,
        subject=subject,
        organization=organization,
    )


def _require_scope(dataset_id: str, scopes: frozenset[str]) -> None:
    if scope_for(dataset_id) not in scopes:
        raise errors.InsufficientScopeError(
            f"The access token lacks the scope {scope_for(dataset_id)}.",
            scope=scope_for(dataset_id),
        )


def _outcome_of(exc: HubError) -> QueryOutcome:
    refused = exc.status < 500 and exc.origin == "client"
    return QueryOutcome("refused" if refused else "failed", exc.code)


def query_dataset(
    conn: Connection,
    *,
    runtime: DatasetRuntime,
    dataset_id: str,
    params: Any,
    caller: Caller,
) -> QueryAnswer:
    """Look a record up in the dataset's upstream for `caller`; return the uniform answer.

    Checks, in order: the token's scope, the dataset being enabled, the purpose, the
    policy (grant, purpose, subject and consent, quota), then the (filled-in) params. Every
    query of an existing dataset is handed to the policy's ``record`` exactly once, before
    anything is returned.
    """
    policy = runtime.policy
    ds, rules = store.get_with(conn, dataset_id, policy.rules_query(caller, dataset_id))
    definition: DatasetDefinition | None = None
    decision = FieldDecision()
    outcome = QueryOutcome("failed", "internal_error")
    try:
        _require_scope(ds.id, caller.scopes)
        if not ds.enabled:
            raise errors.DatasetDisabledError(dataset=ds.id)
        if not caller.purpose:
            raise errors.MissingPurposeError(
                "Send the administrative-procedure code of this lookup in the X-Purpose header."
            )
        definition = runtime.definition_of(ds)
        if not isinstance(params, Mapping):
            raise errors.InvalidParamsError({"params": ["Must be an object."]})
        # The policy first: on behalf of a person it fills in the subject's own params.
        decision = policy.decide(
            conn, caller=caller, definition=definition, params=params, rules=rules
        )
        try:
            validate_params(
                runtime.params_schema(ds),
                decision.params if decision.params is not None else params,
            )
        except cerr.InvalidParamsError as exc:
            raise translate_connector_error(exc, ds.id) from exc
        result = _fetch(runtime, ds, definition, caller, decision, params)
        record = result.record
        outcome = QueryOutcome(
            "found" if result.found else "not_found",
            fields=tuple(record) if record else (),
            upstream_ms=None if result.cached else result.upstream_ms,
            cached=result.cached,
        )
    except HubError as exc:
        outcome = _outcome_of(exc)
        raise
    finally:
        policy.record(
            conn,
            caller=caller,
            dataset_id=ds.id,
            version=ds.current_version,
            definition=definition,
            params=params,
            decision=decision,
            outcome=outcome,
        )
    assert definition is not None
    return QueryAnswer(
        status=outcome.outcome,
        data=result.record,
        meta={
            "dataset": ds.id,
            "version": ds.current_version,
            "request_id": caller.request_id,
            "source": source_label(definition),
            "retrieved_at": (result.retrieved_at or datetime.now(UTC))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "cached": result.cached,
            "fields_withheld": list(decision.withheld),
        },
        upstream_ms=outcome.upstream_ms,
    )


def _fetch(
    runtime: DatasetRuntime,
    ds: Dataset,
    definition: DatasetDefinition,
    caller: Caller,
    decision: FieldDecision,
    params: Any,
) -> Result:
    ctx = Context(
        request_id=caller.request_id,
        purpose=caller.purpose,
        calling_agency=caller.client_id,
        official_id=caller.official_id,
    )
    connector = runtime.connector_for(ds)
    started = time.perf_counter()
    outcome = "error"
    try:
        sent = decision.params if decision.params is not None else params
        result: Result = connector.fetch(sent, ctx, field_set=decision.permitted)
        outcome = "found" if result.found else "not_found"
        return result
    except cerr.ConnectorError as exc:
        outcome = exc.code
        raise translate_connector_error(exc, ds.id) from exc
    finally:
        seconds = time.perf_counter() - started
        if outcome != "circuit_open":
            metrics.UPSTREAM_DURATION.labels(ds.id, outcome).observe(seconds)
        metrics.set_breaker(connector.breaker.name, connector.breaker.state)


def source_label(definition: DatasetDefinition) -> str:
    """Name the upstream for callers (owner and operation) without exposing its address."""
    up = definition.upstream
    if isinstance(up, RestUpstream):
        return f"{definition.owner.code}: {up.method} {up.path}"
    return f"{definition.owner.code}: {up.operation}"


def translate_connector_error(exc: cerr.ConnectorError, dataset_id: str) -> HubError:
    """Turn a connector error into the hub error with the same stable code and origin."""
    upstream = {"dataset": dataset_id}
    if isinstance(exc, cerr.InvalidParamsError):
        return errors.InvalidParamsError(
            exc.errors, "The query parameters are invalid; see errors for each field."
        )
    if isinstance(exc, cerr.UpstreamTimeoutError):
        return errors.UpstreamTimeoutError(exc.message, **upstream)
    if isinstance(exc, cerr.UpstreamUnavailableError):
        unavailable = errors.UpstreamUnavailableError(exc.message, **upstream)
        if exc.status == 503:
            unavailable.status = 503
        return unavailable
    if isinstance(exc, cerr.UpstreamFaultError):
        return errors.UpstreamFaultError(
            exc.message, fault_code=exc.fault_code, fault_string=exc.fault_string, **upstream
        )
    if isinstance(exc, cerr.UpstreamInvalidResponseError):
        return errors.UpstreamInvalidResponseError(exc.message, **upstream)
    if isinstance(exc, cerr.CircuitOpenError):
        return errors.CircuitOpenError(
            exc.message, retry_after=max(1, math.ceil(exc.retry_after)), **upstream
        )
    if isinstance(exc, cerr.DefinitionError):
        return errors.DatasetUnavailableError(exc.message, **upstream)
    err = HubError(exc.message, **upstream)
    err.status = 502 if exc.origin == "upstream" else 500
    err.code = exc.code
    err.origin = exc.origin
    return err
