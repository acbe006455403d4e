"""Errors of the datasets domain; each maps to a problem response with a stable code."""

from __future__ import annotations

from typing import Any

from hub.errors import HubError


class InvalidDefinitionError(HubError):
    """The dataset definition is invalid."""

    status = 400
    code = "invalid_definition"
    title = "Invalid dataset definition"
    origin = "client"


class DatasetDisabledError(HubError):
    """The dataset is disabled by its administrator."""

    status = 503
    code = "dataset_disabled"
    title = "Dataset disabled"
    origin = "hub"


class DatasetUnavailableError(HubError):
    """The hub cannot prepare this dataset's connector (its upstream contract or settings)."""

    status = 503
    code = "dataset_unavailable"
    title = "Dataset unavailable"
    origin = "hub"


class InvalidTokenError(HubError):
    """A valid hub access token is required (Authorization: Bearer …)."""

    status = 401
    code = "invalid_token"
    title = "Invalid token"
    origin = "client"


class InsufficientScopeError(HubError):
    """The access token does not carry the scope this dataset requires."""

    status = 403
    code = "insufficient_scope"
    title = "Insufficient scope"
    origin = "client"


class MissingPurposeError(HubError):
    """The X-Purpose header (the administrative-procedure code) is required."""

    status = 400
    code = "missing_purpose"
    title = "Missing purpose"
    origin = "client"


class InvalidHeaderError(HubError):
    """A request header has the wrong format."""

    status = 400
    code = "invalid_header"
    title = "Invalid header"
    origin = "client"


class InvalidBodyError(HubError):
    """The request body must be a JSON object such as {"params": {...}}."""

    status = 400
    code = "invalid_body"
    title = "Invalid request body"
    origin = "client"


class PayloadTooLargeError(HubError):
    """The request body is too large."""

    status = 413
    code = "payload_too_large"
    title = "Payload too large"
    origin = "client"


class InvalidParamsError(HubError):
    """The query parameters are invalid; see errors for each field."""

    status = 400
    code = "invalid_params"
    title = "Invalid parameters"
    origin = "client"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None, **extra: Any):
        super().__init__(detail, errors=errors, **extra)


class UpstreamTimeoutError(HubError):
    """The ministry's service did not answer in time."""

    status = 504
    code = "upstream_timeout"
    title = "Upstream timeout"
    origin = "upstream"


class UpstreamUnavailableError(HubError):
    """The ministry's service cannot be reached or is unavailable."""

    status = 502
    code = "upstream_unavailable"
    title = "Upstream unavailable"
    origin = "upstream"


class UpstreamFaultError(HubError):
    """The ministry's service answered with a fault."""

    status = 502
    code = "upstream_fault"
    title = "Upstream fault"
    origin = "upstream"


class UpstreamInvalidResponseError(HubError):
    """The ministry's service returned an answer the hub cannot read."""

    status = 502
    code = "upstream_invalid_response"
    title = "Invalid upstream response"
    origin = "upstream"


class CircuitOpenError(HubError):
    """The ministry's service is failing; the hub suspends calls to it for a while."""

    status = 503
    code = "circuit_open"
    title = "Upstream suspended"
    origin = "hub"


class TokenVerificationUnavailableError(HubError):
    """Access tokens cannot be verified right now."""

    status = 503
    code = "token_verification_unavailable"
    title = "Token verification unavailable"
    origin = "hub"
