"""What the demo's steps share. Only what belongs to the demo as a whole lives here; a step that
needs another area's data reads it from the database. It sits in core, below the areas, so that each
area's demo step can name it; the runner (`dangjian.demo`) builds it."""

import datetime as dt
import random
from dataclasses import dataclass, field


@dataclass
class DemoContext:
    today: dt.date  # the one day the build reads; nothing is dated after it
    seed: int  # the demo's seed; each step draws from its own generator derived from it
    by: object  # the audit.services.Actor every write is audited as
    # This step's generator, reseeded by the runner before each step (seed + the step's place in
    # the order), so that one step's draws do not shift when another step changes its own.
    rng: random.Random = field(default_factory=random.Random)
    users: dict[str, object] = field(default_factory=dict)  # the log-ins (access.models.User), by user name
