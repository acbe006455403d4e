"""Domain errors shared by every layer; one handler turns them into problem responses."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Something went wrong in the hub."""

    status = 500
    code = "internal_error"
    title = "Internal error"
    origin = "hub"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or (self.__doc__ or self.title).strip()
        self.extra = extra
        super().__init__(self.detail)


class ConfigError(HubError):
    """The configuration is missing or malformed."""

    code = "config_error"
    title = "Configuration error"


class NotFoundError(HubError):
    """The requested resource does not exist."""

    status = 404
    code = "not_found"
    title = "Not found"
    origin = "client"


class ConflictError(HubError):
    """The request conflicts with data already stored."""

    status = 409
    code = "conflict"
    title = "Conflict"
    origin = "client"

    def __init__(self, detail: str | None = None, *, constraint: str | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.constraint = constraint


class ValidationError(HubError):
    """The request is invalid."""

    status = 400
    code = "invalid_request"
    title = "Invalid request"
    origin = "client"


class PermissionDeniedError(HubError):
    """You are not allowed to do this."""

    status = 403
    code = "forbidden"
    title = "Forbidden"
    origin = "client"


class DatabaseUnavailableError(HubError):
    """The database cannot be reached."""

    status = 503
    code = "database_unavailable"
    title = "Database unavailable"


class MigrationError(HubError):
    """The database schema does not match the migrations shipped with this version."""

    status = 503
    code = "migrations_pending"
    title = "Database schema not current"
