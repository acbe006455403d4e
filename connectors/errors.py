"""Typed errors of the connector layer; every one says where the failure happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ConnectorError(Exception):
    """The connector could not answer."""

    code = "connector_error"
    origin = "hub"

    def __init__(self, message: str | None = None, *, upstream: str | None = None) -> None:
        self.message = message or (type(self).__doc__ or "").strip()
        self.upstream = upstream
        super().__init__(self.message)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able description (code, origin, message) for problem responses."""
        return {"code": self.code, "origin": self.origin, "detail": self.message}


class UpstreamTimeoutError(ConnectorError):
    """The upstream service did not answer within the time allowed."""

    code = "upstream_timeout"
    origin = "upstream"


class UpstreamUnavailableError(ConnectorError):
    """The upstream service is unavailable."""

    code = "upstream_unavailable"
    origin = "upstream"

    def __init__(
        self, message: str | None = None, *, upstream: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, upstream=upstream)
        self.status = status


class UpstreamFaultError(ConnectorError):
    """The upstream service answered with a fault."""

    code = "upstream_fault"
    origin = "upstream"

    def __init__(
        self,
        message: str | None = None,
        *,
        upstream: str | None = None,
        fault_code: str | None = None,
        fault_string: str | None = None,
    ) -> None:
        self.fault_code = fault_code
        self.fault_string = fault_string
        if message is None and (fault_code or fault_string):
            message = f"The upstream service answered with a fault: {fault_code}: {fault_string}"
        super().__init__(message, upstream=upstream)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able description including the upstream fault code and string."""
        return {
            **super().to_dict(),
            "fault_code": self.fault_code,
            "fault_string": self.fault_string,
        }


class UpstreamInvalidResponseError(ConnectorError):
    """The upstream service returned an answer that could not be read."""

    code = "upstream_invalid_response"
    origin = "upstream"


class CircuitOpenError(ConnectorError):
    """The upstream service is failing; calls are suspended for a while."""

    code = "circuit_open"
    origin = "hub"

    def __init__(
        self, message: str | None = None, *, upstream: str | None = None, retry_after: float = 1.0
    ) -> None:
        super().__init__(message, upstream=upstream)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able description including the seconds until the next probe."""
        return {**super().to_dict(), "retry_after": self.retry_after}


class DefinitionError(ConnectorError):
    """The dataset definition is invalid."""

    code = "invalid_definition"
    origin = "hub"

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file = file
        self.path = path
        self.problem = message
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {message}")


class InvalidParamsError(ConnectorError):
    """The request parameters are invalid."""

    code = "invalid_params"
    origin = "client"

    def __init__(
        self,
        errors: Mapping[str, Sequence[str]],
        message: str | None = None,
    ) -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        super().__init__(message)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able description including each invalid field and its messages."""
        return {**super().to_dict(), "errors": self.errors}
