"""A server's watch over its deployments' canaries: each one's analysis when it is due.

Every deployment a server serves whose routing has a canary and a policy is
judged every ``policy.interval_seconds``, in a thread (it reads the
prediction log), and the verdict is carried out
(:func:`mloop.serving.canary_decisions.analyze_canary`). A decision another
server made first shows as a changed deployment: it is judged again next time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from mloop.errors import Conflict
from mloop.serving.endpoints import DeploymentEndpoint, Endpoint

if TYPE_CHECKING:
    from mloop.serving.canary_analysis import Verdict
    from mloop.serving.prediction_log import PredictionLog

log = logging.getLogger("mloop.serving")

TICK = 0.25  # seconds between looks at which analyses are due


async def watch_canaries(
    endpoints: Mapping[str, Endpoint], log_: PredictionLog | None, log_uri: str | None
) -> None:
    """Judge each served deployment's canary when due, until cancelled.

    ``log_`` is the server's prediction log (None when it keeps none), written to
    ``log_uri`` (None: the artifact store). What it cannot do, or why it holds, is
    said once for each deployment and reason, not at every interval.
    """
    loop = asyncio.get_running_loop()
    last: dict[str, float] = {}
    said: dict[str, str] = {}

    def once(endpoint: DeploymentEndpoint, level: int, message: str) -> None:
        if said.get(endpoint.name) != message:
            said[endpoint.name] = message
            log.log(level, "deployment %s: %s", endpoint.deployment, message)

    while True:
        await asyncio.sleep(TICK)
        for endpoint in endpoints.values():
            if not isinstance(endpoint, DeploymentEndpoint):
                continue
            split = endpoint.split
            if split is None or not split.judged or split.policy is None:
                continue
            if log_ is None:
                once(
                    endpoint,
                    logging.WARNING,
                    "it has a canary analysis policy, but this server keeps no prediction "
                    "log: the analysis cannot run here",
                )
                continue
            now = time.monotonic()
            if now - last.get(endpoint.name, 0.0) < float(split.policy["interval_seconds"]):
                continue
            last[endpoint.name] = now
            try:
                verdict = await loop.run_in_executor(None, judge_canary, endpoint, log_, log_uri)
            except Conflict as err:  # changed meanwhile (another server decided, say)
                once(endpoint, logging.INFO, f"the canary analysis found: {err}")
                continue
            except Exception as err:
                if said.get(endpoint.name) != str(err):
                    log.exception("deployment %s: the canary analysis failed", endpoint.deployment)
                said[endpoint.name] = str(err)
                continue
            if verdict.decision == "hold":
                once(endpoint, logging.WARNING, f"the canary analysis holds: {verdict.reason}")


def judge_canary(
    endpoint: DeploymentEndpoint, log_: PredictionLog | None, log_uri: str | None
) -> Verdict:
    """One analysis of ``endpoint``'s deployment, on the log with this server's latest answers."""
    from mloop.serving.canary_decisions import analyze_canary

    if log_ is not None:
        log_.flush()  # the latest answers count too
    return analyze_canary(
        endpoint.deployment, apply=True, log_uri=log_uri, context=endpoint.context
    )
