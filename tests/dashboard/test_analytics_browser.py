"""Technicians, Demand vs capacity and Payments, in a real browser: each page shows exactly what
/analytics/v1 answers for the same range (fetched through HTTP with the world's token), its charts
draw the series they were given, axe-core finds nothing serious, and every page is photographed."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from sp_services.domain.catalog import Technician
from sp_services.services import operator as op
from tests.dashboard.helpers import US, User, check_accessibility, http_login, log_in, put_schedule, shot
from tests.dashboard.history import make_history
from tests.operations import z
from tests.scenes import monday
from tests.support import Server, World

HOSTILE = "<script>alert(1)</script>"
PERIOD = ("technicianId", "name", "period", "startDate", "endDate")


def _api(world: World, path: str, **params: Any) -> dict[str, Any]:
    with world.client() as api:
        response = api.get(f"/analytics/v1/{path}", params={"marketplaceIds": US, **params})
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["payload"]
    return payload


def _chart(page: Page, chart_id: str) -> dict[str, Any]:
    """The data a chart was given (its JSON script element), once dashboard.js has drawn it."""
    expect(page.locator(f"#{chart_id} canvas")).to_have_count(1)
    data: dict[str, Any] = json.loads(page.locator(f"#{chart_id}-data").text_content() or "")
    expect(page.locator(f"#{chart_id}")).to_have_attribute("data-drawn", str(len(data["series"])))
    return data


def _hostile_technician(world: World) -> str:
    tech_id = world.technician_ids[0][:-1] + "9"
    with world.server.db.transaction() as s:
        op.create_technician(
            s,
            now=world.server.clock(),
            technician=Technician(
                technician_id=tech_id,
                seller_id=world.seller_id,
                name=HOSTILE,
                skills=("INSTALL",),
                store_ids=(world.store_id,),
            ),
        )
    return tech_id


def test_a_scorecard_is_what_get_technician_performance_says(
    page: Page,
    server: Server,
    world: World,
    other_world: World,
    dispatcher: User,
    screenshots: Path,
    dialogs: list[str],
) -> None:
    history = make_history(world)
    make_history(other_world)
    hostile = _hostile_technician(world)
    start, end = history.first.isoformat(), history.last.isoformat()
    log_in(page, server, dispatcher)
    page.goto(f"{server.url}/dashboard/technicians")
    page.fill("#r-start", start)
    page.fill("#r-end", end)
    page.select_option("#r-group", "day")
    page.click("form.filters button[type=submit]")
    expect(page.locator("h2").first).to_contain_text(f"{history.first:%d %b %Y} to {history.last:%d %b %Y}")

    expected = _api(world, "technicians", startDate=start, endDate=end)["technicians"]
    assert {row["technicianId"] for row in expected} == {*world.technician_ids, hostile}
    for row in expected:
        card = page.locator(f".scorecard[data-technician='{row['technicianId']}']")
        fields = card.locator("dd").evaluate_all("dds => dds.map(d => [d.dataset.field, JSON.parse(d.dataset.value)])")
        assert dict(fields) == {k: v for k, v in row.items() if k not in PERIOD}, row["technicianId"]
    t0 = next(r for r in expected if r["technicianId"] == world.technician_ids[0])
    assert (t0["appointmentsServed"], t0["lateStarts"], t0["onTimeStartRate"], t0["jobsCompleted"]) == (2, 1, 0.5, 2)
    assert t0["revenue"] == [{"value": 199.0, "currency": "USD"}]
    card0 = page.locator(f".scorecard[data-technician='{world.technician_ids[0]}']")
    expect(card0.locator("dd[data-field='onTimeStartRate']")).to_have_text("50.0%")
    expect(card0.locator("dd[data-field='revenue']")).to_have_text("199.00 USD")

    # The trends: one line per technician, a point per day of the range (the API grouped by day).
    grouped = _api(world, "technicians", startDate=start, endDate=end, groupBy="day")["technicians"]
    served = _chart(page, "served-chart")
    assert served["labels"] == [(history.first + timedelta(days=i)).isoformat() for i in range(3)]
    by_name = {s["label"]: s["values"] for s in served["series"]}
    assert by_name["Tech 0"] == [r["appointmentsServed"] for r in grouped if r["technicianId"] == t0["technicianId"]]
    assert by_name["Tech 0"] == [1, 1, 0]
    on_time = _chart(page, "on-time-chart")
    assert {s["label"]: s["values"] for s in on_time["series"]}["Tech 0"] == [100.0, 0.0, None]

    # A name is text (the card and the chart's legend), and another seller's technicians are absent.
    expect(page.locator(f".scorecard[data-technician='{hostile}'] h3")).to_contain_text(HOSTILE)
    expect(page.locator("#served-chart .u-legend")).to_contain_text(HOSTILE)
    html = page.content()
    assert HOSTILE not in html and not any(t in html for t in other_world.technician_ids)
    assert dialogs == []
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "technicians")


def test_demand_vs_capacity_is_what_get_capacity_analytics_says(
    page: Page, server: Server, world: World, dispatcher: User, screenshots: Path
) -> None:
    day = monday(server)
    new_york = ZoneInfo("America/New_York")
    opens, closes = (datetime.combine(day, time(h), tzinfo=new_york) for h in (9, 17))
    weekdays = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    recurrence = {"endTime": z(closes + timedelta(days=6)), "daysOfWeek": weekdays}
    put_schedule(
        world, world.store_id, {"startTime": z(opens), "endTime": z(closes), "capacity": 1, "recurrence": recurrence}
    )
    (job_id,) = world.job()
    with world.client() as api:
        start = datetime.combine(day, time(10), tzinfo=new_york)
        booked = api.post(
            f"/service/v1/serviceJobs/{job_id}/appointments", json={"appointmentTime": {"startTime": z(start)}}
        )
        assert booked.status_code == 200, booked.text
    first, last = day.isoformat(), (day + timedelta(days=6)).isoformat()
    log_in(page, server, dispatcher)
    page.goto(f"{server.url}/dashboard/demand?startDate={first}&endDate={last}&groupBy=day")
    section = page.locator(f"section.store[data-store='{world.store_id}']")
    expect(section.locator("h2")).to_contain_text(world.store_id)

    expected = _api(world, "capacity", startDate=first, endDate=last, groupBy="day", storeIds=world.store_id)["days"]
    rows = section.locator("table.demand tbody tr").evaluate_all(
        "rows => rows.map(r => ({date: r.dataset.start, end: r.dataset.end, scheduled: +r.dataset.scheduled,"
        " reserved: +r.dataset.reserved, encumbered: +r.dataset.encumbered, available: +r.dataset.available,"
        " utilisation: JSON.parse(r.dataset.utilisation), committed: JSON.parse(r.dataset.committed),"
        " unserved: +r.dataset.unserved, listed: +r.dataset.listed, soldOut: +r.dataset.soldOut,"
        " uncovered: +r.dataset.uncovered}))"
    )
    assert rows == [
        {
            "date": d["date"],
            "end": d["endDate"],
            "scheduled": d["scheduledMinutes"],
            "reserved": d["reservedMinutes"]["total"],
            "encumbered": d["encumberedMinutes"],
            "available": d["availableMinutes"],
            "utilisation": d["utilisation"],
            "committed": d["committed"],
            "unserved": d["unservedDemandMinutes"],
            "listed": d["listedSlots"],
            "soldOut": d["soldOutSlots"],
            "uncovered": d["uncoveredSlots"],
        }
        for d in expected
    ]
    # Open 09:00-17:00 for one on weekdays; the booking takes an hour on Monday.
    assert [r["scheduled"] for r in rows] == [480] * 5 + [0, 0]
    assert [r["encumbered"] for r in rows] == [60] + [0] * 6
    assert rows[0]["utilisation"] == 0.125 and rows[1]["utilisation"] == 0.0 and rows[5]["utilisation"] is None

    minutes = _chart(page, "minutes-chart-1")
    assert [s["label"] for s in minutes["series"]] == ["Scheduled", "Available", "Booked", "Unserved demand"]
    assert minutes["series"][0]["values"] == [8.0] * 5 + [0.0, 0.0]
    assert minutes["series"][2]["values"] == [1.0] + [0.0] * 6
    ratios = _chart(page, "ratios-chart-1")
    assert ratios["series"][0]["values"] == [
        None if d["utilisation"] is None else d["utilisation"] * 100 for d in expected
    ]
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "demand")


def test_payments_are_what_get_payment_analytics_says(
    page: Page, server: Server, world: World, viewer: User, screenshots: Path
) -> None:
    history = make_history(world)
    start, end = history.first.isoformat(), history.last.isoformat()
    log_in(page, server, viewer)  # a viewer sees the analytics too
    page.goto(f"{server.url}/dashboard/payments?startDate={start}&endDate={end}&groupBy=day")
    expected = _api(world, "payments", startDate=start, endDate=end, groupBy="day")["periods"]
    rows = page.locator("#payments tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.period, r.dataset.currency, +r.dataset.gross, +r.dataset.cancelled,"
        " +r.dataset.jobsPaid])"
    )
    assert rows == [[p["period"], p["currency"], p["gross"], p["cancelledValue"], p["jobsPaid"]] for p in expected]
    assert rows == [
        [start, "USD", 99.5, 0.0, 1],
        [(history.first + timedelta(days=1)).isoformat(), "USD", 99.5, 0.0, 1],
        [end, "USD", 0.0, 99.5, 0],
    ]
    chart = _chart(page, "payments-chart-1")
    assert chart["unit"] == "USD"
    assert chart["series"] == [
        {"label": "Gross (completed)", "values": [99.5, 99.5, 0.0]},
        {"label": "Cancelled value", "values": [0.0, 0.0, 99.5]},
    ]
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "payments")


def test_the_analytics_pages_refuse_bad_ranges_and_page_past_the_end(
    server: Server, world: World, viewer: User
) -> None:
    client, _ = http_login(server, viewer)
    try:
        for path in ("technicians", "demand", "payments"):
            ok = client.get(f"/dashboard/{path}")
            assert ok.status_code == 200, path
            bad = client.get(f"/dashboard/{path}", params={"startDate": "2026-02-30", "groupBy": "fortnight"})
            assert bad.status_code == 400, path
            assert "The range is not valid." in bad.text and "startDate: not a calendar date" in bad.text
            reversed_ = client.get(f"/dashboard/{path}", params={"startDate": "2026-12-02", "endDate": "2026-12-01"})
            assert reversed_.status_code == 400 and "endDate must not be before startDate." in reversed_.text
            hostile = client.get(f"/dashboard/{path}", params={"startDate": HOSTILE, "page": "-1"})
            assert hostile.status_code == 400 and HOSTILE not in hostile.text
            for page in ("999999999999", "²", "0", "x"):  # out of range or no number: the nearest page
                assert client.get(f"/dashboard/{path}", params={"page": page}).status_code == 200, (path, page)
        too_long = client.get("/dashboard/payments", params={"startDate": "2025-01-01", "endDate": "2026-12-01"})
        assert too_long.status_code == 400 and "A request covers at most 366 days." in too_long.text
    finally:
        client.close()


def test_the_analytics_pages_need_a_session(server: Server) -> None:
    for path in ("technicians", "demand", "payments"):
        response = httpx.get(f"{server.url}/dashboard/{path}")
        assert response.status_code == 303
        assert response.headers["location"] == f"/dashboard/login?next=%2Fdashboard%2F{path}"


def test_technicians_and_stores_are_paged(server: Server, world: World, viewer: User) -> None:
    """20 technicians a page, by name; the range is kept from page to page."""
    with world.server.db.transaction() as s:
        for i in range(21):
            op.create_technician(
                s,
                now=world.server.clock(),
                technician=Technician(
                    technician_id=f"{world.technician_ids[0][:-1]}X{i:02d}",
                    seller_id=world.seller_id,
                    name=f"Tech X{i:02d}",
                    skills=("INSTALL",),
                    store_ids=(world.store_id,),
                ),
            )
    client, _ = http_login(server, viewer)
    try:
        range_ = {"startDate": "2026-11-01", "endDate": "2026-11-30", "groupBy": "none"}
        first = client.get("/dashboard/technicians", params=range_)
        second = client.get("/dashboard/technicians", params={**range_, "page": "2"})
        cards = re.compile(r'class="scorecard" data-technician="([^"]+)"')
        names = ["Tech 0", "Tech 1", *(f"Tech X{i:02d}" for i in range(21))]
        ids = {f"Tech {i}": t for i, t in enumerate(world.technician_ids)}
        ids |= {f"Tech X{i:02d}": f"{world.technician_ids[0][:-1]}X{i:02d}" for i in range(21)}
        assert cards.findall(first.text) == [ids[n] for n in names[:20]]
        assert cards.findall(second.text) == [ids[n] for n in names[20:]]
        assert "Page 1 of 2 (23 technicians)" in first.text and "Page 2 of 2 (23 technicians)" in second.text
        following = "page=2&amp;startDate=2026-11-01&amp;endDate=2026-11-30&amp;groupBy=none"
        assert f'href="/dashboard/technicians?{following}"' in first.text
        demand = client.get("/dashboard/demand", params={"page": "2"})
        assert demand.status_code == 200 and demand.text.count('class="store"') == 1  # one store: page 1 shown
    finally:
        client.close()
