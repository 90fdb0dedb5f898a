"""Amazon's static sandbox cases (spec/sandbox-cases.md, generated from services.json), parsed.

Each case is a request with magic ids and the canned answer the sandbox gives. The conformance
tests read each as a *condition* to set up for real, then send the equivalent request and compare
status, error code and message with :func:`expected_errors`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.operations import BY_ID, Area, operation_ids

SPEC = Path(__file__).resolve().parents[2] / "spec"
_SECTION = re.compile(r"^## (\w+) — (GET|POST|PUT|DELETE) (\S+)$")
_CASE = re.compile(r"^- \*\*(\d{3})\*\* request `(.*)`$")
_ANSWER = re.compile(r"^  → `(.*)`$")


@dataclass(frozen=True)
class Case:
    operation: str
    method: str
    path: str  # the template, e.g. /service/v1/serviceJobs/{serviceJobId}
    index: int  # 1-based position among the operation's cases, as listed
    status: int
    request: dict[str, Any]  # {"serviceJobId": {"value": ...}, "body": {"value": {...}}, ...}
    response: Any  # the sandbox's body (a dict, a list, or "" for 204)

    @property
    def id(self) -> str:
        """Stable name used by tests and docs/conformance.md: ``operation#index``."""
        return f"{self.operation}#{self.index}"

    def param(self, name: str) -> Any:
        """The value of a request parameter (path, query or ``body``), or None."""
        entry = self.request.get(name)
        return entry.get("value") if isinstance(entry, dict) else None


@cache
def all_cases() -> tuple[Case, ...]:
    cases: list[Case] = []
    operation = method = path = ""
    index = 0
    lines = (SPEC / "sandbox-cases.md").read_text().splitlines()
    for i, line in enumerate(lines):
        if m := _SECTION.match(line):
            operation, method, path = m.groups()
            index = 0
        elif m := _CASE.match(line):
            answer = _ANSWER.match(lines[i + 1])
            assert answer, f"case without an answer at line {i + 1}"
            index += 1
            cases.append(Case(operation, method, path, index, int(m[1]), json.loads(m[2]), json.loads(answer[1])))
    return tuple(cases)


def cases_of(operation: str) -> list[Case]:
    """The cases of one operation of the registry (tests/operations.py), as listed."""
    assert operation in BY_ID, operation
    return [c for c in all_cases() if c.operation == operation]


def cases_in(area: Area) -> list[Case]:
    """The cases of every operation of one sandbox area (its suite), in the model's order."""
    return [c for operation in operation_ids(area=area) for c in cases_of(operation)]


def expected_errors(case: Case) -> list[dict[str, str]]:
    """The (code, message) pairs of a sandbox error answer, whichever shape it has
    (``{"errors": [...]}`` or a bare list for setAppointmentFulfillmentData)."""
    body = case.response
    items = body if isinstance(body, list) else body.get("errors", []) if isinstance(body, dict) else []
    return [{"code": e["code"], "message": e["message"]} for e in items]
