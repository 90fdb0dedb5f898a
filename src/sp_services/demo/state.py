"""What the database remembers of earlier simulations: how far history has been made, how many
orders were placed, and the capacity the branches have published. A later ``simulate`` continues
from there instead of making the same days twice."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from sp_services.persistence.repositories.platform import PlatformRepository

KEY = "demo.simulation"


@dataclass
class SimulationState:
    """The simulated history so far (mutable: a run updates it, then saves it)."""

    opened: datetime  # the first run's start: when the branches opened
    until: datetime  # history is made up to here
    orders: int = 0  # orders placed so far (the next one's number)
    runs: int = 0
    # Per branch store: from which instant it had how many crews (its bookable capacity).
    crews: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    joined: dict[str, datetime] = field(default_factory=dict)  # technician: when hired
    published_until: dict[str, datetime] = field(default_factory=dict)  # resource: schedule/breaks end

    def to_json(self) -> str:
        return json.dumps(
            {
                "opened": self.opened.isoformat(),
                "until": self.until.isoformat(),
                "orders": self.orders,
                "runs": self.runs,
                "crews": {s: [[f.isoformat(), n] for f, n in segments] for s, segments in self.crews.items()},
                "joined": {t: at.isoformat() for t, at in self.joined.items()},
                "published_until": {r: at.isoformat() for r, at in self.published_until.items()},
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SimulationState:
        raw = json.loads(text)
        return cls(
            opened=datetime.fromisoformat(raw["opened"]),
            until=datetime.fromisoformat(raw["until"]),
            orders=int(raw["orders"]),
            runs=int(raw["runs"]),
            crews={s: [(datetime.fromisoformat(f), int(n)) for f, n in seg] for s, seg in raw["crews"].items()},
            joined={t: datetime.fromisoformat(at) for t, at in raw["joined"].items()},
            published_until={r: datetime.fromisoformat(at) for r, at in raw["published_until"].items()},
        )


def load_state(session: Session) -> SimulationState | None:
    """The earlier simulations' state, or None when history was never simulated here."""
    stored = PlatformRepository(session).get_value(KEY)
    return None if stored is None else SimulationState.from_json(stored)


def save_state(session: Session, state: SimulationState) -> None:
    PlatformRepository(session).put_value(KEY, state.to_json())
