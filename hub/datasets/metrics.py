"""Prometheus metrics of the shared-data API's upstreams (multi-process safe)."""

from __future__ import annotations

from prometheus_client import Gauge, Histogram

from connectors.resilience import CLOSED, HALF_OPEN, OPEN

BREAKER_OPEN = Gauge(
    "lgsp_upstream_breaker_open",
    "1 while the circuit breaker of an upstream is open, else 0.",
    ["upstream"],
    multiprocess_mode="livemax",
)
BREAKER_STATE = Gauge(
    "lgsp_upstream_breaker_state",
    "1 for the state the circuit breaker of an upstream is in (closed, open, half_open), "
    "0 for the others.",
    ["upstream", "state"],
    multiprocess_mode="livemax",
)
BREAKER_STATES = (CLOSED, OPEN, HALF_OPEN)


def set_breaker(name: str, state: str) -> None:
    """Publish a breaker's state on both gauges."""
    BREAKER_OPEN.labels(name).set(1 if state == OPEN else 0)
    for each in BREAKER_STATES:
        BREAKER_STATE.labels(name, each).set(1 if each == state else 0)


UPSTREAM_DURATION = Histogram(
    "lgsp_upstream_duration_seconds",
    "Time spent in the connector per query (upstream call, retries), by dataset and outcome.",
    ["dataset", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
