"""Reason-code tables against the use-case guide's "... reason codes by marketplace" tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sp_services.domain.enums import ServiceType
from sp_services.domain.marketplaces import MARKETPLACES
from sp_services.domain.reason_codes import (
    CANCELLATION_CODES,
    RESCHEDULE_CODES,
    cancellation_code_valid,
    reschedule_code_valid,
)

GUIDE = Path(__file__).resolve().parents[3] / "spec" / "services-api-use-case-guide.txt"
Rows = dict[str, tuple[Any, ...]]
Table = tuple[Rows, set[str]]
D, H, R = ServiceType.DEFAULT, ServiceType.HEAVY_BULKY, ServiceType.RECURRING

_COUNTRIES = r"(?:-|[A-Z]{2}(?:, [A-Z]{2})*)"
_RANGE = re.compile(
    r"^(?P<prefix>[A-Z]+)(?P<lo>\d+) - (?P=prefix)(?P<hi>\d+) (?P<desc>.+?)((?: " + _COUNTRIES + r")+)$"
)


def _row_pattern(columns: int) -> re.Pattern[str]:
    cols = "".join(rf" (?P<c{i}>{_COUNTRIES})" for i in range(columns))
    return re.compile(rf"^(?P<code>[A-Z]+\d+) (?P<desc>.+?){cols}$")


def _countries(cell: str) -> frozenset[str]:
    return frozenset() if cell == "-" else frozenset(cell.split(", "))


def _parse_table(title: str, columns: int) -> Table:
    """One guide table: code -> (description, *column sets), and the codes of "not in use" ranges."""
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    start = lines.index(title)
    header = lines[start + 2]
    assert header.startswith("Reason code Reason description Default Heavy bulk"), header
    row = _row_pattern(columns)
    rows: Rows = {}
    unused: set[str] = set()
    for line in lines[start + 3 :]:
        if not line.strip():
            break
        if ranged := _RANGE.match(line):
            assert "not in use" in ranged["desc"], line
            prefix, lo, hi = ranged["prefix"], int(ranged["lo"]), int(ranged["hi"])
            assert lo < hi, line
            unused |= {f"{prefix}{n}" for n in range(lo, hi + 1)}
            continue
        match = row.match(line)
        assert match is not None, f"unparsed row in {title!r}: {line!r}"
        assert match["code"] not in rows, line
        rows[match["code"]] = (match["desc"], *(_countries(match[f"c{i}"]) for i in range(columns)))
    assert rows, title
    return rows, unused


@pytest.fixture(scope="module")
def cancellation_guide() -> Table:
    return _parse_table("Cancellation reason codes by marketplace", 2)


@pytest.fixture(scope="module")
def reschedule_guide() -> Table:
    return _parse_table("Reschedule reason codes by marketplace", 3)


def _all_countries(*tables: Rows) -> set[str]:
    seen = {m.country for m in MARKETPLACES.values()} | {"XX", "GB", "us"}
    for table in tables:
        for _desc, *cols in table.values():
            for col in cols:
                seen |= set(col)
    return seen


def test_parser_sees_the_whole_tables(cancellation_guide: Table, reschedule_guide: Table) -> None:
    cancel, unused = cancellation_guide
    assert len(cancel) == 36
    assert unused == {f"S{n}" for n in (*range(7, 13), 18, 19, *range(21, 27), 48, 49, 50, 53, 54)}
    resched, resched_unused = reschedule_guide
    assert len(resched) == 19 and resched_unused == set()


def test_cancellation_table_matches_guide_row_by_row(cancellation_guide: Table) -> None:
    rows, unused = cancellation_guide
    assert set(CANCELLATION_CODES) == set(rows)
    assert not unused & set(CANCELLATION_CODES)
    for code, (desc, default, heavy) in rows.items():
        assert CANCELLATION_CODES[code] == (desc, default, heavy), code


def test_cancellation_validity_for_every_code_country_and_type(
    cancellation_guide: Table, reschedule_guide: Table
) -> None:
    rows, unused = cancellation_guide
    countries = _all_countries(rows, reschedule_guide[0])
    for code, (_desc, default, heavy) in rows.items():
        for country in countries:
            # Recurring has no column in the guide: it cancels with the Default column (documented decision).
            for service_type, column in ((D, default), (H, heavy), (R, default)):
                assert cancellation_code_valid(code, country=country, service_type=service_type) == (
                    country in column
                ), (code, country, service_type)
    for code in unused:
        for country in countries:
            for service_type in ServiceType:
                assert not cancellation_code_valid(code, country=country, service_type=service_type), code


def test_reschedule_table_matches_guide_row_by_row(reschedule_guide: Table) -> None:
    rows, _unused = reschedule_guide
    assert set(RESCHEDULE_CODES) == set(rows)
    for code, guide_row in rows.items():
        assert RESCHEDULE_CODES[code] == guide_row, code


def test_reschedule_validity_for_every_code_country_and_type(
    cancellation_guide: Table, reschedule_guide: Table
) -> None:
    rows, _unused = reschedule_guide
    countries = _all_countries(rows, cancellation_guide[0])
    for code, (_desc, default, heavy, recurring) in rows.items():
        for country in countries:
            for service_type, column in ((D, default), (H, heavy), (R, recurring)):
                assert reschedule_code_valid(code, country=country, service_type=service_type) == (country in column), (
                    code,
                    country,
                    service_type,
                )


@pytest.mark.parametrize(
    ("code", "country", "service_type", "valid"),
    [
        ("S1", "US", D, True),
        ("S2", "DE", D, False),
        ("S2", "DE", H, True),
        ("S13", "DE", H, False),
        ("S14", "US", R, True),
        ("S17", "UK", D, False),
        ("S31", "IN", D, True),
        ("S31", "IN", H, False),
        ("S31", "IN", R, True),
        ("S8", "US", D, False),
        ("S28", "US", D, False),
        ("S55", "IN", D, True),
        ("S1", "GB", D, False),
        ("S56", "IN", D, False),
        ("s1", "US", D, False),
        ("", "US", D, False),
    ],
)
def test_cancellation_spot_checks(code: str, country: str, service_type: ServiceType, valid: bool) -> None:
    assert cancellation_code_valid(code, country=country, service_type=service_type) is valid


@pytest.mark.parametrize(
    ("code", "country", "service_type", "valid"),
    [
        ("RS1", "DE", H, True),
        ("RS1", "DE", D, False),
        ("RS4", "AE", D, True),
        ("RS4", "AE", H, False),
        ("RS4", "JP", R, True),
        ("RS7", "US", D, False),
        ("RS8", "US", D, False),
        ("RS8", "US", H, True),
        ("RS11", "US", R, True),
        ("RS12", "US", D, False),
        ("DRS3", "JP", H, True),
        ("DRS3", "JP", D, False),
        ("SRS1", "US", R, False),
        ("RS13", "US", D, False),
        ("S1", "US", D, False),
    ],
)
def test_reschedule_spot_checks(code: str, country: str, service_type: ServiceType, valid: bool) -> None:
    assert reschedule_code_valid(code, country=country, service_type=service_type) is valid


def test_every_reason_code_has_exactly_one_cause() -> None:
    from sp_services.domain.reason_codes import CAUSES, Cause, cause_of

    assert set(CAUSES) == set(CANCELLATION_CODES) | set(RESCHEDULE_CODES)
    # The design names these outright (docs/design.md §6).
    named = {
        Cause.PROVIDER: "S2 S4 S5 S6 S13 S14 S28 S29 S44 S45 S46 RS4 RS12",
        Cause.BUYER: "S1 S17 S20 S30 S33 S37 RS1 RS8 RS11 SRS1 DRS2 DRS3",
        Cause.PRODUCT: "S15 S16 S31 S35 S38 RS2 RS5 RS9 RS10 DRS1 DRS4 DRS5 DRS6",
        Cause.SCOPE: "S3 RS3 RS6",
    }
    for cause, codes in named.items():
        assert {c: cause_of(c) for c in codes.split()} == {c: cause for c in codes.split()}
    assert cause_of("RS7") is Cause.UNUSED
    assert cause_of(None) is None and cause_of("NOPE") is None
