"""Fixtures: the demo ministries and a hostile upstream on ephemeral ports, a fake clock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.base import Context
from connectors.definition import DatasetDefinition, parse_definition
from connectors.demo.server import DemoMinistries, ServerThread, serve_app, start_demo_ministries
from connectors.resilience import BreakerRegistry
from tests.connectors.hostile import HostileUpstream

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "datasets"
DATA = ROOT / "tests" / "data"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def ministries() -> Iterator[DemoMinistries]:
    demo = start_demo_ministries()
    yield demo
    demo.stop()


@pytest.fixture(scope="session")
def hostile_app() -> HostileUpstream:
    return HostileUpstream()


@pytest.fixture(scope="session")
def hostile(hostile_app: HostileUpstream) -> Iterator[str]:
    server: ServerThread = serve_app(hostile_app)
    yield server.base_url
    server.stop()


@pytest.fixture
def breakers() -> BreakerRegistry:
    return BreakerRegistry()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ctx() -> Context:
    return Context(
        request_id="req-0001", purpose="1.001234", calling_agency="H26.01", official_id="CB-42"
    )


@pytest.fixture
def refused_url() -> str:
    """Return a URL on a local port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def raw_dataset(name: str) -> dict[str, Any]:
    """Return the parsed YAML of datasets/<name>.yaml."""
    return yaml.safe_load((DATASETS / f"{name}.yaml").read_text(encoding="utf-8"))


def dataset(name: str, **changes: Any) -> DatasetDefinition:
    """Return datasets/<name>.yaml with top-level or dotted-path changes applied."""
    raw = raw_dataset(name)
    for dotted, value in changes.items():
        target = raw
        keys = dotted.split("__")
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    return parse_definition(raw, source=f"datasets/{name}.yaml", base_dir=str(DATASETS))
