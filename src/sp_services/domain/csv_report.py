"""The Manage Jobs report as CSV (docs/design.md §6): its columns, each job's cells, RFC 4180
quoting, and the neutralisation of cells that a spreadsheet would run as a formula.

Pure: rows in, UTF-8 bytes out. Quoting is the standard library's C writer configured as RFC 4180
(comma separated, CRLF line ends, a field quoted when it holds a comma, a double quote, CR or LF,
and a double quote inside a quoted field doubled); tests/unit/domain/test_csv_report.py holds its
output to a plain reference of those rules.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Context, Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from .reason_codes import cause_of

# How a cell holding several values joins them (technicians, payments in several currencies).
# Technician ids are [A-Z0-9] only, so a list of ids splits back unambiguously; names may not.
LIST_SEPARATOR = "; "

# OWASP "CSV Injection": a cell that begins with one of these is read as a formula by Excel,
# LibreOffice or Google Sheets. Such a cell is written with NEUTRALISER in front, which makes the
# spreadsheet show it as text; nothing else about the cell changes.
FORMULA_TRIGGERS = "=+-@\t\r"
NEUTRALISER = "'"

COLUMNS = (
    "serviceJobId",
    "serviceOrderId",
    "serviceJobStatus",
    "marketplaceId",
    "storeId",
    "asin",
    "title",
    "buyerName",
    "buyerPostalCode",
    "serviceLocationType",
    "appointmentId",
    "appointmentStartTime",
    "appointmentEndTime",
    "technicianIds",
    "technicianNames",
    "fulfillmentStartTime",
    "fulfillmentEndTime",
    "reasonCode",
    "reasonCause",
    "paymentAmount",
    "paymentCurrency",
    "createTime",
    "lastUpdatedTime",
)


class JobReportRow(NamedTuple):
    """One job as the report reads it. A named tuple rather than a dataclass: a report builds a
    million of them, and a tuple is built from a database row for a fraction of the cost.

    Instants are already text in the API's form (``YYYY-MM-DDTHH:MM:SS.mmmZ``, UTC, as
    ``times.format_utc`` writes them): the database formats them as it reads them. The
    appointment parts are the job's latest appointment (the last one booked), or None."""

    service_job_id: str
    service_order_id: str
    status: str
    marketplace_id: str
    store_id: str
    asin: str
    title: str | None
    buyer_name: str | None
    buyer_postal_code: str | None
    service_location_type: str | None
    appointment_id: str | None
    appointment_start: str | None
    appointment_end: str | None
    technician_ids: str | None  # LIST_SEPARATOR-joined, in assignment order
    technician_names: str | None  # the same technicians' names, in the same order
    fulfillment_start: str | None
    fulfillment_end: str | None
    cancellation_reason_code: str | None
    reschedule_reason_code: str | None  # the latest appointment's: why the job was rescheduled into it
    payments: Sequence[Mapping[str, Any]]  # the job's payments as recorded (wire-shaped)
    created_at: str
    updated_at: str


# Wide enough for any sum of float amounts (a float has at most 309 integer digits).
_MONEY = Context(prec=800)
_CENT, _ZERO = Decimal("0.01"), Decimal(0)


def _entry(record: Any) -> tuple[int | float, str] | None:
    """A payment's (value, currency); None when it has no finite numeric value or no currency code."""
    amount = record.get("amount") if isinstance(record, Mapping) else None
    if not isinstance(amount, Mapping):
        return None
    value, currency = amount.get("value"), amount.get("currency")
    if isinstance(value, bool) or not isinstance(value, int | float) or not isinstance(currency, str) or not currency:
        return None
    return None if isinstance(value, float) and not math.isfinite(value) else (value, currency)


def _decimal(value: int | float) -> Decimal:
    # str() of a float is its shortest exact spelling: 99.5 -> Decimal("99.5"), never 99.4999…
    return Decimal(str(value))


def _money(total: Decimal) -> str:
    """Fixed point with at least two decimals, more when the amounts have them (never rounded)."""
    total = _MONEY.add(_ZERO, total)  # as a sum is: -0.0 is written 0.00
    exponent = total.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        total = total.quantize(_CENT, context=_MONEY)
    return format(total, "f")


@lru_cache(maxsize=4096)
def _one_amount(value: int | float) -> str:
    """A single payment's amount cell; remembered, because most jobs share a few prices."""
    return _money(_decimal(value))


def payment_cells(payments: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The payment amount and currency cells: the amounts summed per currency, currencies in the
    order they first appear, several joined by LIST_SEPARATOR in the same order in both cells.
    A payment without a numeric value or a currency code is left out; no payments: two empty cells."""
    if len(payments) == 1:  # the common case, without the sums
        entry = _entry(payments[0])
        return ("", "") if entry is None else (_one_amount(entry[0]), entry[1])
    totals: dict[str, Decimal] = {}
    for record in payments:
        entry = _entry(record)
        if entry is not None:
            totals[entry[1]] = _MONEY.add(totals.get(entry[1], _ZERO), _decimal(entry[0]))
    return LIST_SEPARATOR.join(_money(v) for v in totals.values()), LIST_SEPARATOR.join(totals)


def reason_of(row: JobReportRow) -> str | None:
    """The job's reason code: its cancellation's when it was cancelled, else its latest reschedule's."""
    return row.cancellation_reason_code or row.reschedule_reason_code


def cells(row: JobReportRow) -> list[str | None]:
    """The row's cells in COLUMNS order, before neutralisation (None is an empty cell)."""
    code = reason_of(row)
    cause = cause_of(code)
    amount, currency = payment_cells(row.payments)
    return [
        row.service_job_id,
        row.service_order_id,
        row.status,
        row.marketplace_id,
        row.store_id,
        row.asin,
        row.title,
        row.buyer_name,
        row.buyer_postal_code,
        row.service_location_type,
        row.appointment_id,
        row.appointment_start,
        row.appointment_end,
        row.technician_ids,
        row.technician_names,
        row.fulfillment_start,
        row.fulfillment_end,
        code,
        None if cause is None else cause.value,
        amount,
        currency,
        row.created_at,
        row.updated_at,
    ]


def neutralise(cell: str) -> str:
    """The cell as it is written: with NEUTRALISER in front when it begins with a formula trigger."""
    return NEUTRALISER + cell if cell and cell[0] in FORMULA_TRIGGERS else cell


def encode(records: Iterable[Sequence[str | None]]) -> bytes:
    """CSV lines (RFC 4180, CRLF ends) of these records, every cell neutralised, as UTF-8."""
    out = io.StringIO()
    # The csv module's defaults are RFC 4180's: ',' between fields, '"' around the fields that
    # need it (QUOTE_MINIMAL), '""' for a quote inside one. Only the line end must be said.
    writer = csv.writer(out, lineterminator="\r\n")
    # neutralise() inlined (a third of the cost): None and "" are empty cells, left as they are.
    writer.writerows(
        [c if not c or c[0] not in FORMULA_TRIGGERS else NEUTRALISER + c for c in record] for record in records
    )
    return out.getvalue().encode("utf-8")


HEADER = encode([COLUMNS])


def render(rows: Iterable[JobReportRow]) -> bytes:
    """The CSV lines of these jobs (no header)."""
    return encode(cells(row) for row in rows)
