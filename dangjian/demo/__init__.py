"""The demo bureau (临江市交通运输局), built by running each area's demo step in order.

Each area's `demo.py` exposes one step with the same three names (see `runner.DemoStep`):
`step(ctx)` writes its part through the area's services, `counts(today=...)` computes its figures
from the records, and `summary(counts)` turns them into lines of the report. No area's demo imports
another's: a later step reads what it needs from the database (organisations, members, posts), and
the `DemoContext` carries only what belongs to the demo as a whole (the day, the seed, the actor,
the log-ins). `runner.py` holds the order and builds everything in one transaction; `logins.py`
creates and prints the log-ins; the `demo` management command is the stable entry point.
"""
