"""Build a ready-to-use connector (validation, cache, breaker, retries) from a definition."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from connectors.base import Connector, Context, Result, UpstreamClient
from connectors.definition import DatasetDefinition, SoapUpstream
from connectors.http import MAX_RESPONSE_BYTES, make_session
from connectors.resilience import (
    DEFAULT_BREAKERS,
    BreakerRegistry,
    CircuitBreaker,
    RetryConfig,
    TTLCache,
    cache_key,
    call_with_retries,
)
from connectors.schemas import input_schema, validate_params

SessionFactory = Callable[[], requests.Session]


class DatasetConnector(Connector):
    """A dataset's connector: validates params, then cache → breaker → retries → upstream."""

    def __init__(
        self,
        definition: DatasetDefinition,
        client: UpstreamClient,
        *,
        breaker: CircuitBreaker,
        cache: TTLCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.definition = definition
        self.client = client
        self.breaker = breaker
        self.cache = cache
        self.schema = input_schema(definition)
        self._sleep = sleep
        self._rng = rng
        self._retry = RetryConfig(
            attempts=definition.retry.attempts,
            backoff=definition.retry.backoff,
            idempotent=definition.retry.idempotent,
        )

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Return the params loaded by the input schema, or raise InvalidParamsError."""
        return validate_params(self.schema, params)

    def fetch(
        self,
        params: Mapping[str, Any],
        ctx: Context,
        *,
        field_set: Iterable[str] | None = None,
    ) -> Result:
        """Validate `params`, query the upstream and return the record limited to `field_set`."""
        loaded = self.validate(params)
        fields = None if field_set is None else frozenset(field_set)
        ttl = self.definition.cache_ttl
        key = ""
        if ttl and self.cache is not None:
            key = cache_key(self.definition.id, self.definition.version, loaded, fields)
            hit = self.cache.get(key)
            if hit is not None:
                return Result(
                    found=hit.found,
                    record=hit.record,
                    upstream_ms=0.0,
                    source=hit.source,
                    cached=True,
                    retrieved_at=hit.retrieved_at,
                )
        deadline = time.monotonic() + self.definition.timeout.total
        started = time.perf_counter()
        record = self.breaker.call(
            lambda: call_with_retries(
                lambda: self.client.call(loaded, ctx, deadline=deadline),
                self._retry,
                deadline=deadline,
                sleep=self._sleep,
                rng=self._rng,
            )
        )
        elapsed = (time.perf_counter() - started) * 1000
        if record is not None and fields is not None:
            record = {k: v for k, v in record.items() if k in fields}
        result = Result(
            found=record is not None,
            record=record,
            upstream_ms=elapsed,
            source=self.client.source,
            retrieved_at=datetime.now(UTC),
        )
        if ttl and self.cache is not None:
            self.cache.set(key, result, ttl)
        return result

    def load(self) -> None:
        """Load what the upstream contract needs (the WSDL) now rather than on first use.

        Fetching it from the upstream goes through the breaker: an upstream whose WSDL
        cannot be loaded is failing like one whose calls fail.
        """
        load = getattr(self.client, "load", None)
        if load is None:
            return
        needs_upstream = getattr(self.client, "needs_upstream", None)
        if needs_upstream is not None and needs_upstream():
            self.breaker.call(load)
        else:
            load()

    def close(self) -> None:
        """Release pooled connections."""
        self.client.close()


def build_connector(
    definition: DatasetDefinition,
    *,
    env: Mapping[str, str],
    session_factory: SessionFactory = make_session,
    breakers: BreakerRegistry | None = None,
    cache: TTLCache | None = None,
    eager: bool = True,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> DatasetConnector:
    """Return a connector for `definition`; `env` supplies ${VAR} locations and credentials."""
    resolved = definition.resolve(env)
    client: UpstreamClient
    if isinstance(resolved.upstream, SoapUpstream):
        from connectors.soap import SoapClient

        client = SoapClient(
            resolved, env=env, session=session_factory(), max_bytes=max_response_bytes
        )
    else:
        from connectors.rest import RestClient

        client = RestClient(
            resolved,
            env=env,
            session=session_factory(),
            max_bytes=max_response_bytes,
            clock=clock,
        )
    registry = breakers or DEFAULT_BREAKERS
    breaker = registry.get(
        resolved.breaker_name,
        failure_threshold=resolved.breaker.failure_threshold,
        reset_seconds=resolved.breaker.reset_seconds,
    )
    if cache is None and resolved.cache_ttl:
        cache = TTLCache(clock=clock)
    connector = DatasetConnector(
        resolved, client, breaker=breaker, cache=cache, sleep=sleep, rng=rng
    )
    if eager:
        connector.load()
    return connector
