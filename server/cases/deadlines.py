"""When a case is due, from the campaign's phases and from the town's decisions. Pure.

- identified / persuading: the end of the 劝返复学 phase (the day before 督察整改 starts);
- escalated / notice_issued: the 限期 the town set when escalating; without one (or for a
  notice after it), the end of the 督察整改 phase;
- judicial: in the courts' hands, no campaign deadline; closed cases: none.
A case is overdue the day after its due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Phases:
    persuasion_start: dt.date
    enforcement_start: dt.date
    enforcement_end: dt.date

    @property
    def persuasion_end(self) -> dt.date:
        return self.enforcement_start - dt.timedelta(days=1)


def due_on(status: str, phases: Phases | None, decided_deadline: dt.date | None) -> dt.date | None:
    """The date a case in `status` should have moved on by, or None."""
    if status in ("identified", "persuading"):
        return phases.persuasion_end if phases else None
    if status in ("escalated", "notice_issued"):
        if decided_deadline is not None:
            return decided_deadline
        return phases.enforcement_end if phases else None
    return None


def is_overdue(due: dt.date | None, today: dt.date) -> bool:
    return due is not None and today > due
