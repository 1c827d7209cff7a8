"""The user's own filters (``--report``, ``--organisation``, ``--since``, ``--until``):
hard limits on which reports are searched, unlike what a question itself names."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pcc_assistant.types import Report


@dataclass(frozen=True)
class Filters:
    """Which reports to search. Empty means no restriction."""

    docs: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None

    def admits(self, r: Report) -> bool:
        if self.docs and r.doc not in self.docs:
            return False
        if self.organisations and not any(
            o.lower() in r.organisation.lower() for o in self.organisations
        ):
            return False
        if self.since and (r.date is None or r.date < self.since):
            return False
        return not (self.until and (r.date is None or r.date > self.until))

    @property
    def empty(self) -> bool:
        return not (self.docs or self.organisations or self.since or self.until)

    def describe(self) -> str:
        """The filters as options: ``--report X --since 2030-01-01``."""
        parts = [f"--report {d}" for d in self.docs]
        parts += [f"--organisation {o!r}" for o in self.organisations]
        if self.since:
            parts.append(f"--since {self.since.isoformat()}")
        if self.until:
            parts.append(f"--until {self.until.isoformat()}")
        return " ".join(parts)
