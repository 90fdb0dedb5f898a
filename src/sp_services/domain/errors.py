"""One error tree for the whole system.

Domain errors carry the wire ``code`` and ``message`` Amazon uses, but no HTTP status:
the API layer maps each class to a status in exactly one place (``api/errors.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# How the sandbox refuses another seller's object (the job-closing operations word it differently).
UNAUTHORIZED = "Not authorized to access this resource. Please check your input again."


@dataclass(frozen=True)
class ErrorItem:
    """One entry of the SP-API ``errors`` list."""

    code: str
    message: str
    details: str = ""


class ServiceError(Exception):
    """Base of every error a request can end with; carries one or more wire error items."""

    def __init__(self, items: ErrorItem | Iterable[ErrorItem]) -> None:
        self.items: tuple[ErrorItem, ...] = (items,) if isinstance(items, ErrorItem) else tuple(items)
        super().__init__("; ".join(f"{i.code}: {i.message}" for i in self.items))

    @classmethod
    def of(cls, code: str, message: str, details: str = "") -> ServiceError:
        return cls(ErrorItem(code, message, details))


class InvalidInput(ServiceError):
    """Malformed request: missing or invalid parameters (wire 400)."""

    @classmethod
    def params(cls, names: Iterable[str], details: str = "") -> InvalidInput:
        """Amazon's phrasing: ``Missing or invalid request parameters: [a, b]``."""
        joined = ", ".join(names)
        return cls(ErrorItem("InvalidInput", f"Missing or invalid request parameters: [{joined}]", details))


class Unauthenticated(ServiceError):
    """No usable access token, or the application lacks the role (wire 403 ``Unauthorized``)."""


class NotAuthorized(ServiceError):
    """The object exists but belongs to another seller (wire 403 ``UnauthorizedAction``)."""

    @classmethod
    def action(cls, message: str = UNAUTHORIZED) -> NotAuthorized:
        """The sandbox's refusal of another seller's object (most operations word it ``UNAUTHORIZED``)."""
        return cls(ErrorItem("UnauthorizedAction", message, ""))


class NotFound(ServiceError):
    """The addressed resource does not exist (wire 404)."""


class Unprocessable(ServiceError):
    """A well-formed request that breaks a business rule (wire 422)."""


class Conflict(ServiceError):
    """Operator API: the object already exists (wire 409)."""


class QuotaExceeded(ServiceError):
    """Rate limit hit (wire 429)."""


class Unavailable(ServiceError):
    """A backing service (the database, Redis) did not answer in time: retryable (wire 503)."""

    @classmethod
    def now(cls) -> Unavailable:
        return cls(ErrorItem("ServiceUnavailable", "Temporary overloading or maintenance of the server.", ""))


class UploadRefused(ServiceError):
    """The document upload endpoint refuses a PUT the way S3 refuses a presigned upload (the API
    layer answers S3's XML ``<Error>`` rather than the SP-API body)."""

    @classmethod
    def signature_mismatch(cls) -> UploadForbidden:
        return UploadForbidden(
            ErrorItem(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        )

    @classmethod
    def access_denied(cls, message: str = "Access Denied") -> UploadForbidden:
        return UploadForbidden(ErrorItem("AccessDenied", message))

    @classmethod
    def too_large(cls) -> UploadTooLarge:
        return UploadTooLarge(ErrorItem("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"))


class UploadForbidden(UploadRefused):
    """A missing, bad or expired upload signature, or an unknown destination (S3: 403)."""


class UploadTooLarge(UploadRefused):
    """More bytes than the destination was declared for (S3: 400 EntityTooLarge)."""


def unprocessable(message: str) -> Unprocessable:
    """The sandbox's business-rule failures all use code ``InvalidInput`` with a specific message."""
    return Unprocessable(ErrorItem("InvalidInput", message, ""))
