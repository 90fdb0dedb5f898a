"""One error tree for the whole system.

Domain errors carry the wire ``code`` and ``message`` Amazon uses, but no HTTP status:
the API layer maps each class to a status in exactly one place (``api/errors.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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


class NotFound(ServiceError):
    """The addressed resource does not exist (wire 404)."""


class Unprocessable(ServiceError):
    """A well-formed request that breaks a business rule (wire 422)."""


class Conflict(ServiceError):
    """Operator API: the object already exists (wire 409)."""


class QuotaExceeded(ServiceError):
    """Rate limit hit (wire 429)."""


def unprocessable(message: str) -> Unprocessable:
    """The sandbox's business-rule failures all use code ``InvalidInput`` with a specific message."""
    return Unprocessable(ErrorItem("InvalidInput", message, ""))
