"""``sp-services simulate``: days of realistic history for the demo seller, made by the real services.

The history goes into the demo seller's *branches* (``branches.py``: stores, technicians and
capacity of their own), so the fixed demo jobs and the demo store's open slots stay as the tests
and the README know them. Day by day, ending now by default: orders arrive (``behaviour.py``),
buyers book and change their plans (``lives.py``), dispatchers and technicians do the visits
(``visits.py``). Every step runs with the clock at its own instant (``clock.py``), and each
simulated day is one unit of work, committed once.

Seeded, so a given seed, period and starting database give the same history. A database that
already holds simulated history is continued from where it stopped: its open jobs are taken up
again and no day is made twice.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sp_services.domain.marketplaces import US
from sp_services.persistence.db import Database
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.services.documents import DocumentStore

from . import behaviour as dice
from .behaviour import Behaviour
from .branches import Branch, open_branches, publish, technician_counts
from .clock import Agenda
from .continuation import take_up
from .fixtures import MAIN
from .lives import Desk, Lives
from .state import SimulationState, load_state, save_state
from .tally import Summary, Tally
from .uploads import ParallelBlobs
from .visits import Visits

# Schedules and breaks are published this far past the end, so the last days' bookings (up to the
# booking horizon ahead) and a later run have capacity to use.
PUBLISHED_AHEAD = timedelta(days=60)
TECHNICIANS_PER_STORE = 4
ANALYZE_FROM = 200  # jobs made before the first refresh of the planner's statistics
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Plan:
    """What to simulate: the period, the world's size, the seed and the behaviour."""

    days: int = 60
    until: date | None = None  # the last day (UTC); None: today, up to now
    stores: int = 3
    technicians: int | None = None  # None: TECHNICIANS_PER_STORE per store
    seed: int = 1
    behaviour: Behaviour = field(default_factory=Behaviour)

    def sized_for(self, jobs: int, *, keep_stores: bool = False) -> Plan:
        """This plan for about ``jobs`` orders: as many stores as keep each as busy as the order
        rate says (a real store's load), or, with ``keep_stores``, these stores at a higher rate."""
        stores = self.stores if keep_stores else max(1, math.ceil(jobs / (self.days * self.behaviour.orders_per_day)))
        behaviour = replace(self.behaviour, orders_per_day=jobs / (self.days * stores))
        return replace(self, stores=stores, behaviour=behaviour)

    def problems(self) -> list[str]:
        out = self.behaviour.problems()
        if self.days < 1:
            out.append("days must be at least 1")
        try:
            technician_counts(self.stores, self.technicians or TECHNICIANS_PER_STORE * self.stores)
        except ValueError as exc:
            out.append(str(exc))
        return out


def period(plan: Plan, now: datetime) -> tuple[datetime, datetime]:
    """[start, end): ``plan.days`` UTC days ending with ``plan.until`` (today: ending now)."""
    last = plan.until or now.date()
    end = min(now, datetime(last.year, last.month, last.day, tzinfo=UTC) + DAY)
    return datetime(last.year, last.month, last.day, tzinfo=UTC) - (plan.days - 1) * DAY, end


Progress = Callable[[int, int, Tally], None]


class Simulation:
    """One run: the world opened or taken up, then the days one transaction each."""

    def __init__(self, db: Database, plan: Plan, *, document_store: DocumentStore, public_url: str) -> None:
        self.db, self.plan = db, plan
        self.rng = random.Random(plan.seed)
        self.blobs = ParallelBlobs(document_store.blobs)
        documents = replace(document_store, blobs=self.blobs)
        self.desk = Desk(Agenda(), self.rng, plan.behaviour, Tally(), documents, public_url, ())
        self.lives = Lives(self.desk)
        self.visits = Visits(self.desk, self.lives)
        self.branches: list[Branch] = []

    def run(self, *, now: datetime, progress: Progress | None = None) -> Summary:
        """Make the history of the plan's period (what is left of it) up to ``now`` at the latest."""
        try:
            return self._run(now, progress)
        finally:
            self.blobs.close()

    def _run(self, now: datetime, progress: Progress | None) -> Summary:
        started = time.perf_counter()
        start, end = period(self.plan, now)
        state, start = self._open(start, end)
        days = max(0, math.ceil((end - start) / DAY))
        day_start, analyzed = start, 0
        for n in range(days):
            day_end = min(end, day_start + DAY)
            with self.db.transaction() as session:
                self.desk.session = session
                self._arrivals(day_start, day_end)
                self.desk.agenda.run_until(day_end)
                self.blobs.flush()  # the day's documents are on disk before it commits
                state.until, state.orders = day_end, self.desk.orders
                save_state(session, state)
            self.desk.session = None
            day_start = day_end
            analyzed = self._analyze_if_grown(analyzed)
            if progress is not None:
                progress(n + 1, days, self.desk.tally)
        self.db.analyze()
        technicians = sum(len(b.technicians) for b in self.branches)
        elapsed = time.perf_counter() - started
        return Summary(start, max(start, end), len(self.branches), technicians, self.desk.tally, elapsed)

    def _analyze_if_grown(self, analyzed: int) -> int:
        """Refresh the planner's statistics each time the jobs made have doubled: the tables grow
        from the demo's few rows, and plans chosen for tiny tables turn slow as they fill (on a
        server without autovacuum, as in tests, they never refresh). Doubling keeps the total cost
        proportional to one final ANALYZE. The number of jobs at the last refresh."""
        made = self.desk.tally.orders
        if made >= max(2 * analyzed, ANALYZE_FROM):
            self.db.analyze()
            return made
        return analyzed

    def _open(self, start: datetime, end: datetime) -> tuple[SimulationState, datetime]:
        """Open (or take up) the branches and publish their capacity at the run's start: ``start``,
        or where the last run stopped if that is later. The state and that instant."""
        plan = self.plan
        counts = technician_counts(plan.stores, plan.technicians or TECHNICIANS_PER_STORE * plan.stores)
        with self.db.transaction() as session:
            state = load_state(session)
            fresh = state is None
            state = state or SimulationState(opened=start, until=start)
            at = max(start, state.until)
            if at >= end:
                return state, at  # history reaches the period's end already: nothing to make
            self.branches = open_branches(session, counts=counts, rng=self.rng, now=at)
            publish(session, self.branches, state, until=max(end, at) + PUBLISHED_AHEAD, now=at)
            catalog = CatalogRepository(session)
            offerings = []
            for spec in MAIN.offerings:
                offering = catalog.get_offering(MAIN.seller_id, US, spec.asin)
                assert offering is not None, "the demo seller's offerings are loaded first"
                offerings.append((spec, offering))
            self.desk.offerings = tuple(offerings)
            self.desk.orders = state.orders
            self.desk.agenda.now = at  # nothing is planned before the history made so far
            if not fresh:
                self.desk.session = session
                take_up(self.desk, self.lives, self.visits, self.branches, at=at)
                self.desk.session = None
            state.runs += 1
            save_state(session, state)
        return state, at

    def _arrivals(self, start: datetime, end: datetime) -> None:
        """Plan the orders of [start, end), hour by hour and branch by branch: Poisson counts with
        the weekday's and the local hour's share of the branch's daily rate."""
        b = self.plan.behaviour
        week_mean, hour_sum = sum(b.weekly) / 7, sum(b.hourly)
        hour = start
        while hour < end:
            share = min(HOUR, end - hour) / HOUR
            for branch in self.branches:
                local = hour.astimezone(ZoneInfo(branch.store.timezone))
                mean = b.orders_per_day * b.weekly[local.weekday()] / week_mean * b.hourly[local.hour] / hour_sum
                for _ in range(dice.poisson(self.rng, mean * share)):
                    at = hour + min(HOUR, end - hour) * self.rng.random()
                    self.desk.agenda.at(at, partial(self.lives.arrive, branch))
            hour += HOUR


def simulated(db: Database) -> bool:
    """True when the database holds simulated history."""
    with db.transaction(write=False) as session:
        return load_state(session) is not None
