"""What the demo's steps share. Only what belongs to the demo as a whole lives here; a step that
needs another area's data reads it from the database."""

import datetime as dt
import random
from dataclasses import dataclass, field

from dangjian.access.models import User
from dangjian.audit.services import Actor


@dataclass
class DemoContext:
    today: dt.date  # the one day the build reads; nothing is dated after it
    seed: int  # the demo's seed; each step draws from its own generator derived from it
    by: Actor  # every write is audited as this actor
    # This step's generator, reseeded by the runner before each step (seed + the step's place in
    # the order), so that one step's draws do not shift when another step changes its own.
    rng: random.Random = field(default_factory=random.Random)
    users: dict[str, User] = field(default_factory=dict)  # the log-ins, by user name
