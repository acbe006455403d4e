"""Prometheus metrics of the shared-data API's upstreams (multi-process safe)."""

from __future__ import annotations

from prometheus_client import Gauge, Histogram

BREAKER_OPEN = Gauge(
    "lgsp_upstream_breaker_open",
    "1 while the circuit breaker of an upstream is open, else 0.",
    ["upstream"],
    multiprocess_mode="livemax",
)
UPSTREAM_DURATION = Histogram(
    "lgsp_upstream_duration_seconds",
    "Time spent in the connector per query (upstream call, retries), by dataset and outcome.",
    ["dataset", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
