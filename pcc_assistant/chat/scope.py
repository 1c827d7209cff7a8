"""Which reports the chat asks, and how to say so in one line.

Kept apart from :class:`pcc_assistant.retrieve.Filters` so that drawing the first frame
does not import the retrieval stack (numpy alone is 0.3 s); ``filters()`` converts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pcc_assistant.retrieve import Filters
    from pcc_assistant.types import Report


@dataclass(frozen=True)
class Scope:
    """The reports a question is asked of. Empty means every indexed report."""

    docs: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def empty(self) -> bool:
        return not (self.docs or self.organisations or self.since or self.until)

    def filters(self) -> Filters:
        from pcc_assistant.retrieve import Filters

        return Filters(self.docs, self.organisations, self.since, self.until)

    def admits(self, report: Report) -> bool:
        return self.filters().admits(report)

    def describe(self, reports: list[Report] | None = None) -> str:
        """``all reports``, ``Durham PCVC performance report``, ``1 of 3 reports, since …``."""
        if self.empty:
            return "all reports" if reports is None else f"all {len(reports)} reports"
        if reports is not None:
            chosen = [r for r in reports if self.admits(r)]
            if not chosen:
                return "no report matches the filter"
            if len(chosen) == 1:
                return chosen[0].title
            if len(chosen) == len(reports):
                return f"all {len(reports)} reports"
            return f"{len(chosen)} of {len(reports)} reports"
        parts = []
        if self.docs:
            parts.append(", ".join(self.docs))
        if self.organisations:
            parts.append("organisation " + " or ".join(self.organisations))
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if self.until:
            parts.append(f"until {self.until.isoformat()}")
        return "; ".join(parts)
