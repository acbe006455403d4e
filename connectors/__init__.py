"""Connector layer: wraps ministries' SOAP and REST services as uniform datasets."""

from connectors.base import Connector, Context, Result
from connectors.definition import DatasetDefinition, load_definition, load_definition_text
from connectors.errors import (
    CircuitOpenError,
    ConnectorError,
    DefinitionError,
    InvalidParamsError,
    UpstreamFaultError,
    UpstreamInvalidResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from connectors.registry import DatasetConnector, build_connector
from connectors.resilience import BreakerRegistry, TTLCache, breaker_states

__all__ = [
    "BreakerRegistry",
    "CircuitOpenError",
    "Connector",
    "ConnectorError",
    "Context",
    "DatasetConnector",
    "DatasetDefinition",
    "DefinitionError",
    "InvalidParamsError",
    "Result",
    "TTLCache",
    "UpstreamFaultError",
    "UpstreamInvalidResponseError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
    "breaker_states",
    "build_connector",
    "load_definition",
    "load_definition_text",
]
