"""Taking up a visit under way (``Visits.take_up_started``) keeps the visit's rates: visits are played
from their start by the dice as one run plays them (a reference written out here), stopped at a
random instant of the next hours; those whose record is still unchanged then are handed to
``take_up_started``, which draws their fate again given that record. Over all visits, technician
and buyer no-shows and served visits keep the rates they were made with (within four binomial
standard errors, over 40,000 visits)."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sp_services.blobs import LocalBlobStore
from sp_services.demo import behaviour as dice
from sp_services.demo.behaviour import Behaviour, Fate
from sp_services.demo.branches import Branch
from sp_services.demo.clock import Agenda
from sp_services.demo.fixtures import MAIN
from sp_services.demo.lives import Desk, Lives, SimJob, Visit
from sp_services.demo.tally import Tally
from sp_services.demo.visits import (
    BUYER_NO_SHOW_MINUTES,
    NO_SHOW_ANSWER_HOURS,
    NO_SHOW_ANSWERS,
    RECORD_MINUTES,
    Visits,
)
from sp_services.domain.catalog import Offering, Store
from sp_services.domain.marketplaces import US
from sp_services.services.documents import DocumentStore

B = Behaviour(technician_no_show_rate=0.1, buyer_no_show_rate=0.15, eta_rate=0.7)
N = 40_000
START = datetime(2026, 3, 18, 16, 0, tzinfo=UTC)
OFFERING = Offering(MAIN.seller_id, US, "B0SIMULATED", "Install", 120)


def _unchanged_at(rng: random.Random, fate: Fate, at: datetime, end: datetime) -> bool:
    """Whether a visit of this fate, played from its start, still shows no work and is still ACTIVE
    at ``at`` (the reference: the steps of ``visits.py`` in one run)."""
    if fate is Fate.TECHNICIAN_NO_SHOW:
        answered = end + timedelta(hours=rng.uniform(*NO_SHOW_ANSWER_HOURS))
        return answered > at or rng.random() >= sum(NO_SHOW_ANSWERS)
    if fate is Fate.BUYER_NO_SHOW:
        return START + timedelta(minutes=rng.uniform(*BUYER_NO_SHOW_MINUTES)) > at
    _, offset = dice.arrival_offset(rng, B)
    finished = START + timedelta(minutes=offset + dice.work_minutes(rng, B, OFFERING.duration_minutes))
    return finished + timedelta(minutes=rng.uniform(*RECORD_MINUTES)) > at


def test_taking_up_visits_under_way_keeps_their_rates(tmp_path: Path) -> None:
    store = Store("evergreen-branch-001", MAIN.seller_id, US, "Branch", "America/Denver")
    branch = Branch(store, MAIN.stores[0], "802", ())
    documents = DocumentStore(secret=b"test-secret", blobs=LocalBlobStore(tmp_path))
    desk = Desk(Agenda(), random.Random(2), B, Tally(), documents, "http://sim.test", ())
    visits = Visits(desk, Lives(desk))
    rng = random.Random(1)
    final: Counter[Fate] = Counter()
    taken_up = 0
    for i in range(N):
        visit = Visit(SimJob(f"job{i}", branch, OFFERING), f"a{i}", START, dice.at_visit(rng, B))
        eta_sent = rng.random() < B.eta_rate and visit.fate is not Fate.TECHNICIAN_NO_SHOW
        at = START + timedelta(hours=rng.uniform(0, 8))
        if _unchanged_at(rng, visit.fate, at, visit.end):
            desk.agenda = Agenda()
            visits.take_up_started(visit, eta_sent=eta_sent, at=at)
            taken_up += 1
        final[visit.fate] += 1
    assert desk.tally.left_as_found == 0
    assert taken_up > N / 4
    expected = {
        Fate.TECHNICIAN_NO_SHOW: B.technician_no_show_rate,
        Fate.BUYER_NO_SHOW: B.buyer_no_show_rate,
        Fate.SERVED: 1 - B.technician_no_show_rate - B.buyer_no_show_rate,
    }
    off = {f: final[f] / N for f, p in expected.items() if abs(final[f] / N - p) > 4 * math.sqrt(p * (1 - p) / N)}
    assert not off, (off, final)
