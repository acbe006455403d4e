"""Retries, circuit breakers and a small TTL cache; time comes from injected callables."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from connectors.errors import (
    CircuitOpenError,
    ConnectorError,
    UpstreamInvalidResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

Clock = Callable[[], float]
T = TypeVar("T")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
RETRYABLE: tuple[type[ConnectorError], ...] = (UpstreamTimeoutError, UpstreamUnavailableError)
# Failures that say the upstream is unwell; a fault is an answer, so it does not count.
BREAKER_FAILURES: tuple[type[ConnectorError], ...] = (
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    UpstreamInvalidResponseError,
)


class CircuitBreaker:
    """Closed → open after N consecutive failures → half-open probe → closed on success."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_seconds: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> str:
        """Return closed, open or half_open (open turns half_open once the reset time passed)."""
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.reset_seconds:
                return HALF_OPEN
            return self._state

    def snapshot(self) -> dict[str, Any]:
        """Return the state and consecutive failure count, for /readyz and /metrics."""
        state = self.state
        with self._lock:
            return {"state": state, "failures": self._failures}

    def before_call(self) -> None:
        """Raise CircuitOpenError unless a call may go through now."""
        with self._lock:
            now = self._clock()
            if self._state == CLOSED:
                return
            if self._state == OPEN:
                waited = now - self._opened_at
                if waited < self.reset_seconds:
                    raise CircuitOpenError(
                        upstream=self.name, retry_after=max(self.reset_seconds - waited, 0.001)
                    )
                self._state = HALF_OPEN
                self._probing = False
            if self._probing:
                # One probe at a time: the others wait for its verdict.
                raise CircuitOpenError(upstream=self.name, retry_after=1.0)
            self._probing = True

    def record_success(self) -> None:
        """Close the circuit and forget past failures."""
        with self._lock:
            self._state = CLOSED
            self._failures = 0
            self._probing = False

    def record_failure(self) -> None:
        """Count a failure; open the circuit at the threshold or when a probe fails."""
        with self._lock:
            self._failures += 1
            self._probing = False
            if self._state == HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = OPEN
                self._opened_at = self._clock()

    def release(self) -> None:
        """End a probe that neither succeeded nor failed (e.g. a fault answer)."""
        with self._lock:
            if self._state == HALF_OPEN:
                self._state = CLOSED
                self._failures = 0
            self._probing = False

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` under the breaker."""
        self.before_call()
        try:
            result = fn()
        except BREAKER_FAILURES:
            self.record_failure()
            raise
        except BaseException:
            self.release()
            raise
        self.record_success()
        return result


class BreakerRegistry:
    """The circuit breakers of one process, one per upstream name."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str, *, failure_threshold: int, reset_seconds: float) -> CircuitBreaker:
        """Return the breaker called `name`, creating it (or updating its policy)."""
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(
                    name,
                    failure_threshold=failure_threshold,
                    reset_seconds=reset_seconds,
                    clock=self._clock,
                )
                self._breakers[name] = breaker
            else:
                breaker.failure_threshold = failure_threshold
                breaker.reset_seconds = reset_seconds
            return breaker

    def states(self) -> dict[str, dict[str, Any]]:
        """Return {name: {"state": ..., "failures": ...}} for every breaker."""
        with self._lock:
            breakers = list(self._breakers.values())
        return {b.name: b.snapshot() for b in breakers}


DEFAULT_BREAKERS = BreakerRegistry()


def breaker_states(registry: BreakerRegistry | None = None) -> dict[str, dict[str, Any]]:
    """Return the states of the process's circuit breakers (or of `registry`)."""
    return (registry or DEFAULT_BREAKERS).states()


@dataclass(frozen=True)
class RetryConfig:
    """Retries after the first attempt, base backoff seconds, and whether retrying is safe."""

    attempts: int = 1
    backoff: float = 0.2
    idempotent: bool = True


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryConfig,
    *,
    deadline: float,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    monotonic: Clock = time.monotonic,
) -> T:
    """Call `fn`, retrying timeouts, connection errors and 5xx of idempotent lookups."""
    retries = policy.attempts if policy.idempotent else 0
    attempt = 0
    while True:
        try:
            return fn()
        except RETRYABLE:
            if attempt >= retries:
                raise
            # Full jitter keeps many workers from hammering a recovering upstream in step.
            delay = (rng or random).uniform(0, policy.backoff * (2**attempt))
            if monotonic() + delay >= deadline:
                raise
            sleep(delay)
            attempt += 1


class TTLCache:
    """A small thread-safe LRU cache with per-entry expiry."""

    def __init__(self, max_entries: int = 1024, clock: Clock = time.monotonic) -> None:
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str) -> Any:
        """Return the cached value, or None when absent or expired."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if self._clock() >= expires:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: Any, ttl: float) -> None:
        """Store `value` for `ttl` seconds."""
        with self._lock:
            self._data[key] = (self._clock() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


def cache_key(
    dataset_id: str,
    version: str,
    params: Mapping[str, Any],
    field_set: Iterable[str] | None,
) -> str:
    """Return a cache key of dataset, version, params and the caller's permitted field set."""
    fields = None if field_set is None else sorted(set(field_set))
    payload = json.dumps(
        [dataset_id, version, params, fields], sort_keys=True, default=str, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
