"""The demo data is worth booking against (issue #4): schedulable jobs with open slots, jobs ready
to be closed, appointments past and future with technicians and fulfillment data, qualified
technicians, and no store or technician booked past its capacity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sp_services.demo import load_demo
from sp_services.domain.appointments import JobNeeds, technician_failures
from sp_services.domain.capacity import to_minute
from sp_services.domain.enums import AppointmentStatus, JobStatus
from sp_services.domain.errors import Unprocessable
from sp_services.domain.jobs import Job
from sp_services.persistence.db import Database
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services.capacity import capacity_views, load_resource
from sp_services.services.jobs import complete_job
from sp_services.services.slots import slots_for_asin
from tests.support import OPERATOR_KEY, database_url, migrated

# A Wednesday afternoon in Seattle; and Saturday 23:45 in Seattle (Sunday 07:45 UTC), hours before
# the US switch to daylight saving time (the weekend-only Brooklyn store and the days around it).
NOWS = [datetime(2026, 3, 4, 21, 17, 5, tzinfo=UTC), datetime(2026, 3, 8, 7, 45, tzinfo=UTC)]


@dataclass
class Demo:
    db: Database
    info: dict[str, Any]
    now: datetime

    def jobs(self, seller: str = "main") -> list[Job]:
        job_ids = (self.info if seller == "main" else self.info["other_seller"])["job_ids"]
        with self.db.transaction(write=False) as s:
            repo = JobRepository(s)
            jobs = [repo.get_job(j) for ids in job_ids.values() for j in ids]
        assert all(j is not None for j in jobs)
        return [j for j in jobs if j is not None]


@pytest.fixture(scope="module", params=NOWS, ids=lambda now: now.strftime("%a-%Y%m%dT%H%M"))
def demo(request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    now: datetime = request.param
    db = migrated(database_url(backend, tmp_path_factory.mktemp("demo")))
    info = load_demo(db, operator_key=OPERATOR_KEY, now=now)
    yield Demo(db, info, now)
    db.dispose()


class _RollBack(Exception):
    pass


def test_demo_has_schedulable_jobs_and_open_slots_for_its_store_and_asin(demo: Demo) -> None:
    info = demo.info
    pending = [
        j
        for j in demo.jobs()
        if j.status is JobStatus.PENDING_SCHEDULE and j.store_id == info["store_id"] and j.asin == info["asin"]
    ]
    assert len(pending) >= 10
    assert {j.service_job_id for j in pending} <= set(info["job_ids"]["PENDING_SCHEDULE"])
    with demo.db.transaction(write=False) as s:
        report = slots_for_asin(
            s,
            seller_id=info["seller_id"],
            asin=info["asin"],
            store_id=info["store_id"],
            marketplace_id=info["marketplace_id"],
            start=None,
            end=None,
            now=demo.now,
        )
    assert report.real_time
    open_slots = [slot for slot in report.slots if slot[2] >= 1]
    assert len(open_slots) >= 10
    # Open on many days of the default horizon, not just one.
    assert len({start // 1440 for start, _, _ in open_slots}) >= 5


def test_demo_has_not_serviced_jobs_ready_to_close(demo: Demo) -> None:
    over = [
        (j, a)
        for j in demo.jobs()
        if j.status is JobStatus.NOT_SERVICED and (a := j.active_appointment()) is not None and a.end_time <= demo.now
    ]
    assert len(over) >= 3
    recorded = [(j, a) for j, a in over if a.fulfillment is not None and a.fulfillment.end is not None]
    unrecorded = [(j, a) for j, a in over if a.fulfillment is None or a.fulfillment.end is None]
    assert recorded and unrecorded
    assert any(a.fulfillment is not None and a.fulfillment.eta_start is not None for _, a in over)
    # The recorded ones close as they are; the others need the fulfillment time first.
    seller = demo.info["seller_id"]
    with pytest.raises(_RollBack), demo.db.transaction() as s:
        complete_job(s, seller_id=seller, job_id=recorded[0][0].service_job_id, now=demo.now)
        with pytest.raises(Unprocessable):
            complete_job(s, seller_id=seller, job_id=unrecorded[0][0].service_job_id, now=demo.now)
        raise _RollBack
    still = {j.service_job_id: j.status for j in demo.jobs()}
    assert still[recorded[0][0].service_job_id] is JobStatus.NOT_SERVICED


def test_demo_appointments_span_past_and_future_with_technicians_and_fulfillment(demo: Demo) -> None:
    appointments = [(j, a) for j in demo.jobs() for a in j.appointments]
    past = [(j, a) for j, a in appointments if a.end_time <= demo.now]
    future = [(j, a) for j, a in appointments if a.start_time > demo.now]
    assert len(past) + len(future) == len(appointments)  # none under way at the demo's "now"
    for group in (past, future):
        assert len({a.start_time.date() for _, a in group}) >= 3
        assert any(a.technicians for _, a in group)
        assert any(not a.technicians for _, a in group)
    active_future = [a for j, a in future if a.status is AppointmentStatus.ACTIVE]
    assert len(active_future) >= 5
    assert any(a.technicians for a in active_future)
    assert any(a.fulfillment is not None for _, a in past)
    # Every closed job has its work time recorded (its appointment's own window, in the past).
    completed = [(j, a) for j, a in appointments if j.status is JobStatus.COMPLETED]
    assert completed
    for _, a in completed:
        assert a.status is AppointmentStatus.COMPLETED
        assert a.fulfillment is not None
        assert (a.fulfillment.start, a.fulfillment.end) == (a.start_time, a.end_time)
        assert a.end_time <= demo.now
    # A technician who did the work is one assigned to it.
    for _, a in appointments:
        if a.fulfillment is not None:
            assert set(a.fulfillment.resources) <= {t.technician_id for t in a.technicians}


def test_demo_technicians_are_qualified_for_the_demo_asin_in_the_demo_store(demo: Demo) -> None:
    info = demo.info
    assert info["technician_ids"]
    with demo.db.transaction(write=False) as s:
        catalog = CatalogRepository(s)
        offering = catalog.get_offering(info["seller_id"], info["marketplace_id"], info["asin"])
        assert offering is not None
        needs = JobNeeds(info["seller_id"], info["store_id"], offering.required_skills, "IN_HOME")
        technicians = catalog.technicians(info["technician_ids"])
        assert sorted(technicians) == sorted(info["technician_ids"])
        for tech_id in info["technician_ids"]:
            assert technician_failures([technicians[tech_id]], needs) == [], tech_id
        # The seller's other technicians are listed with what is wrong with them.
        others = catalog.technicians(list(info["unqualified_technicians"]))
        assert set(others).isdisjoint(info["technician_ids"])
        for tech_id, codes in info["unqualified_technicians"].items():
            assert [f.code for f in technician_failures([others[tech_id]], needs)] == codes
    # Every technician on an appointment (of either seller) is qualified for that job.
    jobs = demo.jobs() + demo.jobs("other")
    assert any(a.technicians for j in jobs if j.seller_id != info["seller_id"] for a in j.appointments)
    with demo.db.transaction(write=False) as s:
        catalog = CatalogRepository(s)
        for job in jobs:
            location = (job.service_location or {}).get("serviceLocationType")
            job_needs = JobNeeds(job.seller_id, job.store_id, job.required_skills, location)
            for a in job.appointments:
                techs = catalog.technicians([t.technician_id for t in a.technicians])
                assert technician_failures(list(techs.values()), job_needs) == []


def test_demo_books_no_store_or_technician_past_its_capacity(demo: Demo) -> None:
    info = demo.info
    # From the start of the published schedules (two weeks back) to the end of the booking horizon.
    window = (to_minute(demo.now - timedelta(days=13)), to_minute(demo.now + timedelta(days=15)))
    technician_ids = [*info["technician_ids"], *info["unqualified_technicians"]]
    with demo.db.transaction(write=False) as s:
        resources = [
            load_resource(s, seller_id=info["seller_id"], resource_id=r, marketplace_id=info["marketplace_id"])
            for r in [*info["store_ids"], *technician_ids]
        ]
        views = capacity_views(s, resources, window)
    for resource_id, view in views.items():
        assert view.has_schedule, resource_id
        assert min(c for _, _, c in view.available) >= 0, resource_id
    # Future bookings took capacity from the demo store (ACTIVE appointments are counted).
    assert any(c > 0 for _, _, c in views[info["store_id"]].encumbered)
    # The other seller publishes no schedule: its stores take one job at a time in working hours
    # (Monday to Friday, 08:00-18:00 store-local).
    by_store: dict[str, list[tuple[datetime, datetime]]] = {}
    for job in demo.jobs("other"):
        a = job.active_appointment()
        if a is None:
            continue
        local = a.start_time.astimezone(ZoneInfo("America/Los_Angeles"))
        begins = local.hour * 60 + local.minute
        assert local.weekday() < 5
        assert 8 * 60 <= begins and begins + a.duration_minutes <= 18 * 60
        by_store.setdefault(job.store_id, []).append((a.start_time, a.end_time))
    assert by_store
    for spans in by_store.values():
        spans.sort()
        assert all(end <= nxt for (_, end), (nxt, _) in pairwise(spans))


def test_demo_json_lists_jobs_by_their_status(demo: Demo) -> None:
    for seller in ("main", "other"):
        job_ids = (demo.info if seller == "main" else demo.info["other_seller"])["job_ids"]
        statuses = {j.service_job_id: j.status.value for j in demo.jobs(seller)}
        assert all(statuses[j] == status for status, ids in job_ids.items() for j in ids)
    # Loading again returns the same ids (idempotent, whatever "now" is then).
    again = load_demo(demo.db, operator_key=OPERATOR_KEY, now=demo.now + timedelta(days=3))
    assert again == demo.info
