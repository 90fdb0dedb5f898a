"""docs/conformance.md maps every sandbox case to a test that exists."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conformance.cases import all_cases

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(\w+#\d+)` \| (\d{3}) \| (.+) \|$")


def test_every_case_has_a_row_naming_an_existing_test() -> None:
    rows = {}
    for line in (ROOT / "docs" / "conformance.md").read_text().splitlines():
        if m := ROW.match(line):
            rows[m[1]] = (int(m[2]), m[3])
    cases = all_cases()
    assert len(cases) == 147
    assert set(rows) == {c.id for c in cases}
    for case in cases:
        status, tests = rows[case.id]
        assert status == case.status, case.id
        nodes = re.findall(r"`([^`]+)`", tests)
        assert any(f"-{case.id}]" in node for node in nodes), (case.id, nodes)
        for node in nodes:
            path, _, rest = node.partition("::")
            function = rest.split("::")[-1].split("[")[0]
            assert f"def {function}(" in (ROOT / path).read_text(), (case.id, node)
