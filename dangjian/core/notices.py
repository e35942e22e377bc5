"""What a rule says about a record: one type for every area (an organisation's findings, a decision's
flags, a demo's checks), so pages, to-dos, documents and tests read them alike and match them by code,
never by their wording."""

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    code: str  # names the check, e.g. "branch.min_full_members", "decision.quorum", "organization.no_secretary"
    text: str  # the sentence a user reads, in Chinese
    level: str = "danger"  # "danger": a rule is broken now; "warning": act soon
    source: str = ""  # the text the rule rests on (article), when there is one
    due: dt.date | None = None  # when it falls due, for reminders
