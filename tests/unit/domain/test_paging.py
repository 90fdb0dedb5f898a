"""Opaque, URL-safe, tamper-evident page tokens (domain/paging.py)."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sp_services.domain.errors import InvalidInput
from sp_services.domain.paging import Cursor, decode_cursor, encode_cursor

SECRET = b"server-secret"
URL_SAFE = re.compile(r"^[A-Za-z0-9_.\-]+$")
ALPHABET = string.ascii_letters + string.digits + "-_."
MESSAGE = "Missing or invalid request parameters: [pageToken]"

_keys = st.tuples() | st.lists(st.one_of(st.text(), st.integers(-(2**62), 2**62)), max_size=4).map(tuple)
_cursors = st.builds(
    Cursor,
    sort=st.sampled_from(["JOB_DATE", "JOB_STATUS"]) | st.text(max_size=10),
    order=st.sampled_from(["ASC", "DESC"]),
    direction=st.sampled_from(["next", "prev"]),
    key=_keys,
)


def _assert_rejected(token: str, *, secret: bytes = SECRET, param: str = "pageToken") -> None:
    with pytest.raises(InvalidInput) as info:
        decode_cursor(token, secret=secret, param=param)
    (item,) = info.value.items
    assert item.code == "InvalidInput"
    assert item.message == f"Missing or invalid request parameters: [{param}]"


@given(_cursors)
def test_round_trip(cursor: Cursor) -> None:
    assert decode_cursor(encode_cursor(cursor, secret=SECRET), secret=SECRET) == cursor


@given(st.lists(st.text(), max_size=5).map(tuple))
def test_round_trip_string_keys(key: tuple[str, ...]) -> None:
    cursor = Cursor("JOB_DATE", "ASC", "next", key)
    token = encode_cursor(cursor, secret=SECRET)
    assert URL_SAFE.match(token), token
    assert decode_cursor(token, secret=SECRET) == cursor


@given(_cursors)
def test_tokens_are_url_safe(cursor: Cursor) -> None:
    token = encode_cursor(cursor, secret=SECRET)
    assert URL_SAFE.match(token), token
    assert "=" not in token


@given(_cursors, st.binary(min_size=1, max_size=32).filter(lambda s: s != SECRET))
def test_other_secret_is_rejected(cursor: Cursor, other: bytes) -> None:
    _assert_rejected(encode_cursor(cursor, secret=other))


@given(_cursors, st.data())
def test_any_single_character_alteration_is_rejected(cursor: Cursor, data: st.DataObject) -> None:
    token = encode_cursor(cursor, secret=SECRET)
    index = data.draw(st.integers(0, len(token) - 1), label="index")
    replacement = data.draw(st.sampled_from(ALPHABET + "+/=!~ ").filter(lambda c: c != token[index]))
    _assert_rejected(token[:index] + replacement + token[index + 1 :])


def test_every_single_character_alteration_of_one_token_is_rejected() -> None:
    token = encode_cursor(Cursor("JOB_DATE", "ASC", "next", ("a",)), secret=SECRET)
    accepted = []
    for index, original in enumerate(token):
        for replacement in ALPHABET:
            if replacement == original:
                continue
            altered = token[:index] + replacement + token[index + 1 :]
            try:
                decode_cursor(altered, secret=SECRET)
            except InvalidInput as exc:
                assert exc.items[0].message == MESSAGE
            else:
                accepted.append(altered)
    assert accepted == []


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.", ".abc", "!!!.???", "é.é", "a.b.c", "eyJ9.AAAA"])
def test_garbage_is_rejected(token: str) -> None:
    _assert_rejected(token)


def test_truncated_and_extended_tokens_are_rejected() -> None:
    token = encode_cursor(Cursor("JOB_DATE", "DESC", "prev", ("2021-01-01T00:00:00Z", "job-1")), secret=SECRET)
    for cut in range(len(token)):
        _assert_rejected(token[:cut])
    _assert_rejected(token + "A")


def test_error_names_the_parameter_and_explains() -> None:
    token = encode_cursor(Cursor("JOB_DATE", "ASC", "next", ()), secret=b"other")
    _assert_rejected(token, param="nextPageToken")
    with pytest.raises(InvalidInput) as info:
        decode_cursor(token, secret=SECRET)
    assert info.value.items[0].details == "pageToken is not a token returned by this server."


def test_standard_base64_spelling_of_a_token_is_rejected() -> None:
    """``-``/``_`` respelled as ``+``/``/`` decodes to the same bytes; it is still not our token."""
    token = next(
        t
        for n in range(1000)
        if "-" in (t := encode_cursor(Cursor("JOB_DATE", "ASC", "next", (f"k{n}",)), secret=SECRET))
    )
    _assert_rejected(token.replace("-", "+", 1))
