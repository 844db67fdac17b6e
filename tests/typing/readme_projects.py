"""README, "Projects, stores and settings": projects and an explicit context."""

import mloop
from mloop.context import Identity, default_context

mloop.set_project("fraud")
mloop.set_experiment("credit")
with mloop.start_run():
    mloop.log_metric("auc", 0.91)
project: str = mloop.get_project()

ctx = default_context().in_project("fraud").acting_as(Identity("ci-bot", kind="service"))
decision = mloop.models.approve("credit", 3, comment="nightly checks passed", context=ctx)
who: str = decision.actor
