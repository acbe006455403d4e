"""Prometheus metrics, multi-process safe when gunicorn sets PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

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


def observe(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Count one finished request."""
    REQUESTS.labels(endpoint, method, str(status)).inc()
    LATENCY.labels(endpoint, method).observe(seconds)


def render(multiprocess_mode: bool) -> tuple[bytes, str]:
    """The exposition text, aggregated over every worker in multi-process mode."""
    if multiprocess_mode:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
