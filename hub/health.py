"""Liveness, readiness and metrics endpoints for operators and orchestrators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from hub import metrics, migrations
from hub.errors import HubError
from hub.http import database, problem

bp = Blueprint("health", __name__)

# A readiness check returns (ok, details); apps register more under extensions["lgsp.readiness"].
ReadinessCheck = Callable[[], tuple[bool, dict[str, Any]]]


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive; says nothing about its dependencies."""
    return jsonify(status="ok")


def _database_check() -> tuple[bool, dict[str, Any]]:
    try:
        state = migrations.status(database())
    except HubError as exc:
        return False, {"status": "unavailable", "detail": exc.detail}
    detail: dict[str, Any] = {
        "status": "ok" if state.current else "behind",
        "applied": len(state.applied),
        "pending": [m.name for m in state.pending],
    }
    if state.changed:
        detail["status"] = "changed"
        detail["changed"] = [m.name for m in state.changed]
    return state.current, detail


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when the database answers, migrations are current and other checks pass."""
    checks: dict[str, ReadinessCheck] = {"database": _database_check}
    checks.update(current_app.extensions.get("lgsp.readiness", {}))
    results = {}
    ready = True
    for name, check in checks.items():
        ok, detail = check()
        results[name] = detail
        ready = ready and ok
    if not ready:
        return problem(
            503,
            "Not ready",
            "The hub cannot serve requests yet; see checks.",
            code="not_ready",
            origin="hub",
            checks=results,
        )
    return jsonify(status="ready", checks=results)


@bp.get("/metrics")
def metrics_view() -> Response:
    """Prometheus exposition of request counts and latencies (all workers)."""
    body, content_type = metrics.render(bool(current_app.config.get("LGSP_METRICS_MULTIPROC")))
    return Response(body, content_type=content_type)
