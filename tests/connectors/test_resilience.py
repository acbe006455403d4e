"""Circuit breaker, retries and cache, with an injected clock (no sleeps)."""

from __future__ import annotations

import random
import threading

import pytest

from connectors import (
    BreakerRegistry,
    CircuitOpenError,
    Context,
    TTLCache,
    UpstreamFaultError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    build_connector,
)
from connectors.demo.server import DemoMinistries
from connectors.resilience import CircuitBreaker, RetryConfig, cache_key, call_with_retries
from tests.connectors.conftest import FakeClock, dataset


def boom(error: Exception):
    def fn() -> None:
        raise error

    return fn


def test_breaker_opens_after_threshold_and_recovers(clock: FakeClock) -> None:
    breaker = CircuitBreaker("up", failure_threshold=3, reset_seconds=30, clock=clock)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailableError):
            breaker.call(boom(UpstreamUnavailableError()))
    assert breaker.snapshot() == {"state": "closed", "failures": 2}
    with pytest.raises(UpstreamTimeoutError):
        breaker.call(boom(UpstreamTimeoutError()))
    assert breaker.snapshot() == {"state": "open", "failures": 3}

    clock.advance(10)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(lambda: "never called")
    assert info.value.retry_after == pytest.approx(20)
    assert info.value.code == "circuit_open"

    clock.advance(20)
    assert breaker.state == "half_open"
    assert breaker.call(lambda: "probe ok") == "probe ok"
    assert breaker.snapshot() == {"state": "closed", "failures": 0}


def test_failed_probe_reopens(clock: FakeClock) -> None:
    breaker = CircuitBreaker("up", failure_threshold=1, reset_seconds=5, clock=clock)
    with pytest.raises(UpstreamUnavailableError):
        breaker.call(boom(UpstreamUnavailableError()))
    clock.advance(5)
    with pytest.raises(UpstreamUnavailableError):
        breaker.call(boom(UpstreamUnavailableError()))
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: None)


def test_half_open_lets_one_probe_through(clock: FakeClock) -> None:
    breaker = CircuitBreaker("up", failure_threshold=1, reset_seconds=5, clock=clock)
    with pytest.raises(UpstreamUnavailableError):
        breaker.call(boom(UpstreamUnavailableError()))
    clock.advance(5)
    in_probe, release = threading.Event(), threading.Event()

    def slow_probe() -> str:
        in_probe.set()
        release.wait(5)
        return "ok"

    results: list[str] = []
    thread = threading.Thread(target=lambda: results.append(breaker.call(slow_probe)))
    thread.start()
    assert in_probe.wait(5)
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: "second caller")
    release.set()
    thread.join(5)
    assert results == ["ok"] and breaker.state == "closed"


def test_faults_do_not_trip_the_breaker(clock: FakeClock) -> None:
    breaker = CircuitBreaker("up", failure_threshold=1, reset_seconds=5, clock=clock)
    for _ in range(3):
        with pytest.raises(UpstreamFaultError):
            breaker.call(boom(UpstreamFaultError(fault_code="x")))
    assert breaker.state == "closed"


def test_breaker_states_are_listed(clock: FakeClock) -> None:
    registry = BreakerRegistry(clock=clock)
    registry.get("dan-cu", failure_threshold=2, reset_seconds=1)
    registry.get("doanh-nghiep", failure_threshold=2, reset_seconds=1)
    assert registry.states() == {
        "dan-cu": {"state": "closed", "failures": 0},
        "doanh-nghiep": {"state": "closed", "failures": 0},
    }


def test_retry_policy() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise UpstreamUnavailableError()
        return "ok"

    policy = RetryConfig(attempts=1, backoff=0.2)
    result = call_with_retries(
        flaky, policy, deadline=1e12, sleep=sleeps.append, rng=random.Random(1)
    )
    assert result == "ok" and len(calls) == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.2

    calls.clear()
    with pytest.raises(UpstreamUnavailableError):
        call_with_retries(
            boom(UpstreamUnavailableError()),
            RetryConfig(attempts=3, idempotent=False),
            deadline=1e12,
            sleep=sleeps.append,
        )


def test_retry_respects_the_budget() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise UpstreamTimeoutError()

    with pytest.raises(UpstreamTimeoutError):
        call_with_retries(
            failing, RetryConfig(attempts=3, backoff=1), deadline=0, sleep=lambda s: None
        )
    assert len(calls) == 1


def test_breaker_with_real_upstreams(
    ministries: DemoMinistries, refused_url: str, clock: FakeClock, ctx: Context
) -> None:
    registry = BreakerRegistry(clock=clock)
    shared = {"name": "dkkd", "failure_threshold": 2, "reset_seconds": 30}
    broken = build_connector(
        dataset("doanh-nghiep", breaker=shared, retry={"attempts": 0}),
        env={**ministries.env, "LGSP_DEMO_BUSINESS_URL": refused_url},
        breakers=registry,
    )
    healthy = build_connector(
        dataset("doanh-nghiep", breaker=shared), env=ministries.env, breakers=registry
    )
    params = {"ma_so_thue": "0108888888"}
    for _ in range(2):
        with pytest.raises(UpstreamUnavailableError):
            broken.fetch(params, ctx)
    assert registry.states()["dkkd"] == {"state": "open", "failures": 2}
    with pytest.raises(CircuitOpenError) as info:
        healthy.fetch(params, ctx)
    assert info.value.retry_after == pytest.approx(30)
    clock.advance(30)
    assert registry.states()["dkkd"]["state"] == "half_open"
    assert healthy.fetch(params, ctx).found
    assert registry.states()["dkkd"] == {"state": "closed", "failures": 0}


def test_cache_key_includes_field_set() -> None:
    params = {"ma_so_thue": "0108888888"}
    a = cache_key("doanh-nghiep", "1", params, ["name", "status"])
    assert a == cache_key("doanh-nghiep", "1", params, ["status", "name"])
    assert a != cache_key("doanh-nghiep", "1", params, ["name"])
    assert a != cache_key("doanh-nghiep", "1", params, None)
    assert a != cache_key("doanh-nghiep", "2", params, ["name", "status"])
    assert a != cache_key("doanh-nghiep", "1", {"ma_so_thue": "0107777776"}, ["name", "status"])


def test_cache_by_field_set_and_ttl(
    ministries: DemoMinistries, breakers: BreakerRegistry, clock: FakeClock, ctx: Context
) -> None:
    definition = dataset("doanh-nghiep", cache_ttl=60, cache_personal=True)
    cache = TTLCache(clock=clock)
    connector = build_connector(definition, env=ministries.env, breakers=breakers, cache=cache)
    log = ministries.business_app.requests
    params = {"ma_so_thue": "0108888888"}

    first = connector.fetch(params, ctx, field_set=["name", "status"])
    n = len(log)
    second = connector.fetch(params, ctx, field_set=["status", "name"])
    assert (first.cached, second.cached) == (False, True)
    assert second.record == first.record == {
        "name": "Công ty TNHH Phần mềm Sông Hồng", "status": "active"
    }  # fmt: skip
    assert len(log) == n

    wider = connector.fetch(params, ctx, field_set=["name", "status", "representatives"])
    assert not wider.cached and len(log) == n + 1
    assert "representatives" in (wider.record or {})

    clock.advance(61)
    assert not connector.fetch(params, ctx, field_set=["name", "status"]).cached


def test_personal_datasets_are_not_cached_by_default(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = build_connector(dataset("dan-cu"), env=ministries.env, breakers=breakers)
    assert connector.cache is None


def test_cache_is_bounded(clock: FakeClock) -> None:
    cache = TTLCache(max_entries=2, clock=clock)
    for key in "abc":
        cache.set(key, key, 10)
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c") == "c"
