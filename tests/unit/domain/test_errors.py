"""The domain error tree (domain/errors.py)."""

from __future__ import annotations

import pytest

from sp_services.domain.errors import (
    Conflict,
    ErrorItem,
    InvalidInput,
    NotAuthorized,
    NotFound,
    QuotaExceeded,
    ServiceError,
    Unauthenticated,
    Unprocessable,
    unprocessable,
)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["pageToken"], "Missing or invalid request parameters: [pageToken]"),
        (
            ["createdAfter", "lastUpdatedAfter"],
            "Missing or invalid request parameters: [createdAfter, lastUpdatedAfter]",
        ),
        ((n for n in ("a", "b", "c")), "Missing or invalid request parameters: [a, b, c]"),
        ([], "Missing or invalid request parameters: []"),
    ],
)
def test_invalid_input_params_formatting(names: object, message: str) -> None:
    error = InvalidInput.params(names)  # type: ignore[arg-type]
    assert type(error) is InvalidInput
    assert error.items == (ErrorItem("InvalidInput", message, ""),)
    assert str(error) == f"InvalidInput: {message}"


def test_invalid_input_params_details() -> None:
    error = InvalidInput.params(["marketplaceIds"], "Required.")
    assert error.items[0].details == "Required."


def test_of_builds_the_subclass() -> None:
    for cls in (InvalidInput, Unauthenticated, NotAuthorized, NotFound, Unprocessable, Conflict, QuotaExceeded):
        error = cls.of("Code", "Message", "Details")
        assert type(error) is cls
        assert isinstance(error, ServiceError)
        assert error.items == (ErrorItem("Code", "Message", "Details"),)


def test_several_items_joined_in_str() -> None:
    error = ServiceError([ErrorItem("A", "first"), ErrorItem("B", "second")])
    assert len(error.items) == 2
    assert str(error) == "A: first; B: second"


def test_unprocessable_uses_invalid_input_code() -> None:
    error = unprocessable("Operation not allowed")
    assert type(error) is Unprocessable
    assert error.items == (ErrorItem("InvalidInput", "Operation not allowed", ""),)
