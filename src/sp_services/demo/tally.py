"""What a simulation made, counted as it happens, and the summary printed at the end."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime


@dataclass
class Tally:
    """Counts of what happened (one run)."""

    orders: int = 0  # jobs created (one job an order)
    booked_at_checkout: int = 0
    never_booked: int = 0
    unbookable: int = 0  # no slot in three tries: the provider cancelled (S14)
    appointments: int = 0  # booked, reschedules included
    rescheduled: int = 0
    cancelled: int = 0
    completed: int = 0
    provider_breaks: int = 0
    buyer_no_shows: int = 0
    technician_no_shows: int = 0
    served: int = 0
    early: int = 0
    late: int = 0
    documents: int = 0
    unstaffed: int = 0  # dispatch found no free qualified technician (moved by the provider)
    kept: int = 0  # a buyer's reschedule found no other slot: the appointment was kept
    left_as_found: int = 0  # taken up from an earlier run, its record agreed with no draw (other rates)
    steps: int = 0  # service calls made


@dataclass(frozen=True)
class Summary:
    """One run: its period, its world, what it made, and how long it took."""

    start: datetime
    end: datetime
    stores: int
    technicians: int
    tally: Tally
    seconds: float

    @property
    def ms_per_job(self) -> float:
        return 1000 * self.seconds / self.tally.orders if self.tally.orders else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "stores": self.stores,
            "technicians": self.technicians,
            **asdict(self.tally),
            "seconds": round(self.seconds, 3),
            "ms_per_job": round(self.ms_per_job, 3),
        }

    def lines(self) -> list[str]:
        """The summary as a user reads it."""
        t = self.tally
        days = (self.end - self.start).total_seconds() / 86400
        if days <= 0:
            return [f"Nothing to simulate: the history reaches {self.end:%Y-%m-%d %H:%M} UTC already."]
        return [
            f"Simulated {days:.1f} days ({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC) "
            f"in {self.stores} stores with {self.technicians} technicians:",
            f"  jobs created      {t.orders} ({t.booked_at_checkout} booked at checkout, "
            f"{t.never_booked} never booked, {t.unbookable} found no slot)",
            f"  appointments      {t.appointments} ({t.rescheduled} rescheduled"
            + (f", {t.kept} kept for want of another slot)" if t.kept else ")"),
            f"  jobs completed    {t.completed}",
            f"  jobs cancelled    {t.cancelled}",
            f"  visits served     {t.served} ({t.late} late, {t.early} early)",
            f"  no-shows          {t.buyer_no_shows} buyer, {t.technician_no_shows} technician",
            f"  provider breaks   {t.provider_breaks}"
            + (f" ({t.unstaffed} found no free technician)" if t.unstaffed else ""),
            f"  proof documents   {t.documents}",
            f"  time taken        {self.seconds:.1f} s ({self.ms_per_job:.2f} ms per simulated job, "
            f"{t.steps} service calls)",
        ]
