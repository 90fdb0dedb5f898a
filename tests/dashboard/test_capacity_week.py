"""services/capacity_week.py: the hours of a week add up to the days getCapacityAnalytics reports,
across a clock change too; another seller's store or technician is not shown."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sp_services.services.capacity_week import store_week, technician_week
from tests.dashboard.helpers import put_schedule
from tests.operations import z
from tests.support import World

NEW_YORK = ZoneInfo("America/New_York")
FALL_BACK_WEEK = date(2026, 10, 26)  # its Sunday, 1 November 2026, has 25 hours in New York


def _schedule(world: World, resource: str, first: date) -> None:
    """00:00 to 23:00 wall time every day of the week (a recurrence keeps the wall times)."""
    record = {
        "startTime": z(datetime.combine(first, time(0), tzinfo=NEW_YORK)),
        "endTime": z(datetime.combine(first, time(23), tzinfo=NEW_YORK)),
        "capacity": 2,
        "recurrence": {"endTime": z(datetime.combine(first + timedelta(days=6), time(23), tzinfo=NEW_YORK))},
    }
    put_schedule(world, resource, record)


def test_the_hours_add_up_to_the_analytics_days_across_a_clock_change(world: World) -> None:
    _schedule(world, world.store_id, FALL_BACK_WEEK)
    _schedule(world, world.technician_ids[0], FALL_BACK_WEEK)
    server = world.server
    with server.db.transaction(write=False) as session:
        week = store_week(
            session,
            seller_id=world.seller_id,
            store_id=world.store_id,
            first=FALL_BACK_WEEK + timedelta(days=3),
            now=server.clock(),
        )
        tech = technician_week(
            session,
            seller_id=world.seller_id,
            technician_id=world.technician_ids[0],
            first=FALL_BACK_WEEK,
            now=server.clock(),
        )
    assert week is not None and tech is not None
    assert week.days[0] == FALL_BACK_WEEK  # any day of the week shows its Monday's week
    sunday = 6
    assert week.hours[1][sunday].scheduled == 2 * 120  # 01:00 happens twice
    assert week.day_totals[sunday].scheduled == 2 * 24 * 60  # 00:00-23:00 wall time is 24 hours that day
    assert week.day_totals[0].scheduled == 2 * 23 * 60
    for mine, theirs in zip(week.day_totals, week.totals, strict=True):
        assert (mine.scheduled, mine.reserved, mine.booked, mine.available) == (
            theirs.scheduled,
            theirs.reserved_total,
            theirs.encumbered,
            theirs.available,
        )
        assert mine.slots is not None
        assert (mine.slots.listed, mine.slots.sold_out, mine.slots.uncovered) == (
            theirs.listed,
            theirs.sold_out,
            theirs.uncovered,
        )
    assert [t.scheduled for t in tech.day_totals] == [t.scheduled for t in tech.totals]
    assert tech.day_totals[sunday].scheduled == 2 * 24 * 60


def test_another_sellers_store_or_technician_is_none(world: World, other_world: World) -> None:
    server = world.server
    with server.db.transaction(write=False) as session:
        assert (
            store_week(
                session,
                seller_id=world.seller_id,
                store_id=other_world.store_id,
                first=FALL_BACK_WEEK,
                now=server.clock(),
            )
            is None
        )
        assert (
            technician_week(
                session,
                seller_id=world.seller_id,
                technician_id=other_world.technician_ids[0],
                first=FALL_BACK_WEEK,
                now=server.clock(),
            )
            is None
        )
