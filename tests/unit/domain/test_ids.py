"""Identifier formats and generators (domain/ids.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest

from sp_services.domain import ids

N = 200
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_service_order_id_is_3_7_7() -> None:
    made = {ids.new_service_order_id() for _ in range(N)}
    assert len(made) == N
    for order_id in made:
        assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", order_id), order_id
        assert ids.SERVICE_ORDER_ID.match(order_id)
        assert ids.ORDER_ID_FILTER.match(order_id)


def test_service_job_id_is_a_uuid() -> None:
    made = {ids.new_service_job_id() for _ in range(N)}
    assert len(made) == N
    for job_id in made:
        assert UUID4.match(job_id) and ids.SERVICE_JOB_ID.match(job_id), job_id


def test_appointment_id_is_job_id_underscore_uuid() -> None:
    job_id = ids.new_service_job_id()
    made = {ids.new_appointment_id(job_id) for _ in range(N)}
    assert len(made) == N
    for appointment_id in made:
        prefix, _, suffix = appointment_id.rpartition("_")
        assert prefix == job_id
        assert str(uuid.UUID(suffix)) == suffix and UUID4.match(suffix)
        assert ids.APPOINTMENT_ID.match(appointment_id), appointment_id
        assert len(appointment_id) == 36 + 1 + 36


@pytest.mark.parametrize(
    ("make", "pattern", "length", "first"),
    [
        (ids.new_seller_id, ids.SELLER_ID, 14, "A"),
        (ids.new_technician_id, ids.TECHNICIAN_ID, 12, "T"),
    ],
)
def test_seller_and_technician_ids(make: Callable[[], str], pattern: re.Pattern[str], length: int, first: str) -> None:
    made = {make() for _ in range(N)}
    assert len(made) == N
    for value in made:
        assert pattern.match(value) and len(value) == length and value[0] == first, value


def test_store_id_is_a_uuid() -> None:
    assert UUID4.match(ids.new_store_id())


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (ids.new_client_id, r"amzn1\.application-oa2-client\.[0-9a-f]{32}"),
        (ids.new_client_secret, r"amzn1\.oa2-cs\.v1\.[0-9a-f]{64}"),
        (ids.new_refresh_token, r"Atzr\|[A-Za-z0-9_\-]{64}"),
        (ids.new_access_token, r"Atza\|[A-Za-z0-9_\-]{64}"),
    ],
)
def test_credentials_shapes(make: Callable[[], str], shape: str) -> None:
    first, second = make(), make()
    assert re.fullmatch(shape, first), first
    assert first != second


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (
            ids.SERVICE_ORDER_ID,
            "903-3260627-5237451",
            ["903-3260627-523745", "9033260627-5237451", "a03-3260627-5237451"],
        ),
        (ids.SERVICE_JOB_ID, "x" * 100, ["", "x" * 101, "a/b", "a b"]),
        (ids.APPOINTMENT_ID, "abcde", ["abcd", "x" * 101, "a_b c"]),
        (ids.SELLER_ID, "A1B2", ["a1", "", "A" * 33]),
        (ids.TECHNICIAN_ID, "T" * 50, ["T" * 51, "t1", ""]),
        (ids.ASIN, "B000000001", ["B00000001", "b000000001"]),
        (ids.REASON_CODE, "RS4", ["rs4", "", "RS-4"]),
        (ids.MARKETPLACE_ID, "ATVPDKIKX0DER", ["atvp", "A" * 21]),
        (ids.TRACKING_ID, "1Z-99", ["1Z 99", ""]),
    ],
)
def test_patterns(pattern: re.Pattern[str], good: str, bad: list[str]) -> None:
    assert pattern.match(good)
    for value in bad:
        assert not pattern.match(value), value
