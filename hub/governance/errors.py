"""Errors of the governance domain; each maps to a problem response with a stable code."""

from __future__ import annotations

from hub.errors import HubError, NotFoundError, PermissionDeniedError


class NotPermittedError(HubError):
    """The data may exist, but this app has no active grant to see it."""

    status = 403
    code = "not_permitted"
    title = "Not permitted"
    origin = "client"


class PurposeNotPermittedError(NotPermittedError):
    """The grant does not cover this purpose (administrative-procedure code)."""

    code = "purpose_not_permitted"
    title = "Purpose not permitted"


class ConsentRequiredError(NotPermittedError):
    """The citizen has not consented (or withdrew consent) to this app, dataset and purpose."""

    code = "consent_required"
    title = "Consent required"


class SubjectMismatchError(NotPermittedError):
    """On behalf of a person, an app may only ask about that person (or his organization)."""

    code = "subject_mismatch"
    title = "Subject mismatch"


class QuotaExceededError(HubError):
    """The grant's daily quota is spent; try again after midnight (Asia/Ho_Chi_Minh)."""

    status = 429
    code = "quota_exceeded"
    title = "Daily quota exceeded"
    origin = "client"


class RoleRequiredError(PermissionDeniedError):
    """Your account does not have the role this action needs."""

    code = "role_required"
    title = "Role required"


class LevelRequiredError(PermissionDeniedError):
    """Administrators must sign in at level 2 (urn:lgsp:loa:2)."""

    code = "level_required"
    title = "Level 2 sign-in required"


class UnknownGrantError(NotFoundError):
    """There is no such grant."""

    code = "unknown_grant"
    title = "Unknown grant"


class UnknownAccessRequestError(NotFoundError):
    """There is no such access request."""

    code = "unknown_access_request"
    title = "Unknown access request"


class UnknownConsentError(NotFoundError):
    """There is no such data consent."""

    code = "unknown_consent"
    title = "Unknown consent"


class RequestDecidedError(HubError):
    """This access request has already been decided."""

    status = 409
    code = "request_decided"
    title = "Already decided"
    origin = "client"
