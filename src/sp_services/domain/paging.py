"""Opaque, URL-safe, tamper-evident keyset page tokens.

A token records where a page starts (the sort key of the row next to it) and in which direction
to read; the filters come from the request itself. Signed with the server secret so a forged or
truncated token is rejected instead of silently paging from somewhere else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInput


@dataclass(frozen=True)
class Cursor:
    """Position of a keyset page: read ``direction`` ("next"/"prev") from ``key`` (exclusive)."""

    sort: str
    order: str
    direction: str
    key: tuple[Any, ...]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    # The decoder is lenient (ignores stray characters and unused low bits); accept only the
    # canonical spelling so that every altered token is rejected.
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not a canonical token")
    return data


def encode_cursor(cursor: Cursor, *, secret: bytes) -> str:
    """Serialise a cursor into an opaque token."""
    body = json.dumps(
        {"s": cursor.sort, "o": cursor.order, "d": cursor.direction, "k": list(cursor.key)},
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(secret, body, hashlib.sha256).digest()[:12]
    return f"{_b64(body)}.{_b64(mac)}"


def decode_cursor(token: str, *, secret: bytes, param: str = "pageToken") -> Cursor:
    """Parse a token made by :func:`encode_cursor`; 400 naming ``param`` when it is not one."""
    invalid = InvalidInput.params([param], f"{param} is not a token returned by this server.")
    try:
        body_text, mac_text = token.split(".", 1)
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, UnicodeError):
        raise invalid from None
    expected = hmac.new(secret, body, hashlib.sha256).digest()[:12]
    if not hmac.compare_digest(mac, expected):
        raise invalid
    try:
        data = json.loads(body)
        return Cursor(str(data["s"]), str(data["o"]), str(data["d"]), tuple(data["k"]))
    except (ValueError, KeyError, TypeError):
        raise invalid from None
