"""The Manage Jobs report's CSV (domain/csv_report.py): columns, cells, payments, formula
neutralisation, and RFC 4180 quoting held to a plain reference and to Python's csv reader."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sp_services.domain.csv_report import (
    COLUMNS,
    HEADER,
    JobReportRow,
    cells,
    encode,
    neutralise,
    payment_cells,
    render,
)

# ---- the reference: RFC 4180 §2 and OWASP's CSV-injection rule, written out plainly -------------


def reference_cell(cell: str | None) -> str:
    text = "" if cell is None else cell
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    if "," in text or '"' in text or "\r" in text or "\n" in text:
        text = '"' + text.replace('"', '""') + '"'
    return text


def reference_line(record: Sequence[str | None]) -> str:
    return ",".join(reference_cell(c) for c in record) + "\r\n"


def parsed(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def payment(value: Any, currency: Any = "USD") -> dict[str, Any]:
    return {"amount": {"value": value, "currency": currency}}


ROW = JobReportRow(
    service_job_id="job-1",
    service_order_id="111-2222222-3333333",
    status="CANCELLED",
    marketplace_id="ATVPDKIKX0DER",
    store_id="store-1",
    asin="B000000001",
    title="Install, wall mount",
    buyer_name='=HYPERLINK("x")',
    buyer_postal_code="98101",
    service_location_type="IN_HOME",
    appointment_id="job-1_a2",
    appointment_start="2030-01-02T10:00:00.000Z",
    appointment_end="2030-01-02T11:30:00.000Z",
    technician_ids="T1; T2",
    technician_names="Ann; Bo",
    fulfillment_start=None,
    fulfillment_end=None,
    cancellation_reason_code="S3",
    reschedule_reason_code="RS4",
    payments=(payment(99.5), payment(10, "EUR")),
    created_at="2030-01-01T09:00:00.123Z",
    updated_at="2030-01-03T09:00:00.000Z",
)


# ---- columns and cells --------------------------------------------------------------------------


def test_header_row() -> None:
    assert HEADER == (
        b"serviceJobId,serviceOrderId,serviceJobStatus,marketplaceId,storeId,asin,title,buyerName,"
        b"buyerPostalCode,serviceLocationType,appointmentId,appointmentStartTime,appointmentEndTime,"
        b"technicianIds,technicianNames,fulfillmentStartTime,fulfillmentEndTime,reasonCode,reasonCause,"
        b"paymentAmount,paymentCurrency,createTime,lastUpdatedTime\r\n"
    )
    assert len(COLUMNS) == 23


def test_cells_of_a_row() -> None:
    assert cells(ROW) == [
        "job-1",
        "111-2222222-3333333",
        "CANCELLED",
        "ATVPDKIKX0DER",
        "store-1",
        "B000000001",
        "Install, wall mount",
        '=HYPERLINK("x")',
        "98101",
        "IN_HOME",
        "job-1_a2",
        "2030-01-02T10:00:00.000Z",
        "2030-01-02T11:30:00.000Z",
        "T1; T2",
        "Ann; Bo",
        None,
        None,
        "S3",  # the cancellation's code wins over the latest reschedule's
        "scope",
        "99.50; 10.00",
        "USD; EUR",
        "2030-01-01T09:00:00.123Z",
        "2030-01-03T09:00:00.000Z",
    ]


def test_a_rescheduled_job_shows_the_reschedule_code_and_no_code_no_cause() -> None:
    rescheduled = ROW._replace(cancellation_reason_code=None)
    assert cells(rescheduled)[17:19] == ["RS4", "provider"]
    untouched = ROW._replace(cancellation_reason_code=None, reschedule_reason_code=None)
    assert cells(untouched)[17:19] == [None, None]
    unknown = ROW._replace(cancellation_reason_code="ZZ9")
    assert cells(unknown)[17:19] == ["ZZ9", None]


def test_render_writes_one_quoted_neutralised_line_per_row() -> None:
    assert (
        render([ROW, ROW])
        == (
            b'job-1,111-2222222-3333333,CANCELLED,ATVPDKIKX0DER,store-1,B000000001,"Install, wall mount",'
            b'"\'=HYPERLINK(""x"")",98101,IN_HOME,job-1_a2,2030-01-02T10:00:00.000Z,2030-01-02T11:30:00.000Z,'
            b"T1; T2,Ann; Bo,,,S3,scope,99.50; 10.00,USD; EUR,2030-01-01T09:00:00.123Z,2030-01-03T09:00:00.000Z\r\n"
        )
        * 2
    )
    assert render([]) == b""


# ---- payments -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        ([], ("", "")),
        ([payment(99.5)], ("99.50", "USD")),
        ([payment(100)], ("100.00", "USD")),
        ([payment(1.005)], ("1.005", "USD")),  # more decimals are kept, never rounded
        ([payment(0.1), payment(0.2)], ("0.30", "USD")),  # summed exactly, not as floats
        ([payment(10), payment(5.5, "EUR"), payment(2.25)], ("12.25; 5.50", "USD; EUR")),
        ([payment(-0.0)], ("0.00", "USD")),
        ([payment(-5)], ("-5.00", "USD")),
        ([payment(1e22)], ("10000000000000000000000.00", "USD")),
        ([payment(1e-7)], ("0.0000001", "USD")),
        # Malformed records are left out.
        ([payment(True)], ("", "")),
        ([payment("12")], ("", "")),
        ([payment(5, "")], ("", "")),
        ([payment(5, None)], ("", "")),
        ([payment(float("nan"))], ("", "")),
        ([{"amount": 5}], ("", "")),
        (["x", payment(3)], ("3.00", "USD")),
        ([{}, {"amount": {"value": 1.5, "currency": "JPY"}}], ("1.50", "JPY")),
    ],
)
def test_payment_cells(payments: list[Any], expected: tuple[str, str]) -> None:
    assert payment_cells(payments) == expected


# ---- formula neutralisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        (" =1", " =1"),  # only the first character counts
        ("'=1", "'=1"),
        ("\n=1", "\n=1"),
        ("", ""),
        ("\uff1d1", "\uff1d1"),  # the full-width equals sign is not one of OWASP's
    ],
)
def test_neutralise(cell: str, written: str) -> None:
    assert neutralise(cell) == written


# ---- quoting: exact bytes and the round trip ----------------------------------------------------


@pytest.mark.parametrize(
    ("record", "line"),
    [
        (["a", "b"], b"a,b\r\n"),
        (["x,y", "z"], b'"x,y",z\r\n'),
        (['say "hi"', ""], b'"say ""hi""",\r\n'),
        (["one\r\ntwo", "cr\ronly"], b'"one\r\ntwo","cr\ronly"\r\n'),
        (["lf\nonly", None], b'"lf\nonly",\r\n'),
        (["+1", "-2,3"], b"'+1,\"'-2,3\"\r\n"),
        (["\r=1", "é ü 字"], '"\'\r=1",é ü 字\r\n'.encode()),
        ([" padded ", "x"], b" padded ,x\r\n"),
    ],
)
def test_encode_exact_bytes(record: list[str | None], line: bytes) -> None:
    assert encode([record]) == line


CELL = st.one_of(st.none(), st.text(), st.sampled_from(["=1", "+", "-", "@", "\t", "\r", "\n", '"', ",", "\r\n"]))


@given(st.lists(st.lists(CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=4))
def test_encode_is_the_reference_and_reads_back_neutralised(records: list[list[str | None]]) -> None:
    data = encode(records)
    assert data == "".join(reference_line(r) for r in records).encode("utf-8")
    assert parsed(data) == [[neutralise(c or "") for c in r] for r in records]


@given(st.text(), st.integers(min_value=0, max_value=len(COLUMNS) - 1))
def test_any_cell_value_round_trips_to_its_neutralised_text(value: str, column: int) -> None:
    record: list[str | None] = ["x"] * len(COLUMNS)
    record[column] = value
    expected = "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") and value else value
    (row,) = parsed(encode([record]))
    assert row[column] == expected
    assert row[:column] + row[column + 1 :] == ["x"] * (len(COLUMNS) - 1)
