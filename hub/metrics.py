"""Prometheus metrics, multi-process safe when gunicorn sets PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "lgsp_http_requests_total",
    "HTTP requests handled, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "lgsp_http_request_duration_seconds",
    "HTTP request latency in seconds, by endpoint and method.",
    ["endpoint", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


# The labelled children of the two metrics above, looked up once per (endpoint, method,
# status) instead of on every request. Bounded: odd methods from clients could grow it.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_MAX_CHILDREN = 2000


def observe(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Count one finished request."""
    key = (endpoint, method, status)
    pair = _children.get(key)
    if pair is None:
        pair = (REQUESTS.labels(endpoint, method, str(status)), LATENCY.labels(endpoint, method))
        if len(_children) < _MAX_CHILDREN:
            _children[key] = pair
    pair[0].inc()
    pair[1].observe(seconds)


def render(multiprocess_mode: bool) -> tuple[bytes, str]:
    """The exposition text, aggregated over every worker in multi-process mode."""
    if multiprocess_mode:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
