"""The storage seam of policies: continuous-training rules and the chain of each of their runs.

The SQL implementation is :class:`mloop.store.sql.policies.SqlPolicyStore`;
the contract suite in ``tests/contracts/policy_store_contract.py`` proves it
on SQLite and PostgreSQL. Deciding when a policy fires and carrying out its
steps happen above this seam; the store checks what it can hold
(:mod:`mloop.store.loop_checks`), records, and keeps a run's status moving
forward only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mloop.entities import Policy, PolicyRun


class PolicyStore(Protocol):
    """Policies of one project, unique by name, and their runs.

    Contract:
    - every value is checked before anything is written: a bad name or
      trigger, non-JSON data, or a secret written out in a spec raises
      InvalidInput and writes nothing;
    - ``create_policy`` stores a policy (AlreadyExists for a taken name);
      ``update_policy`` replaces trigger, spec and paused, ``set_policy_state``
      the state only; deleting a policy deletes its runs;
    - ``start_run`` stores a ``running`` run with an empty chain and a new id;
    - ``append_step`` adds one step to the end of a run's chain atomically:
      of concurrent appends none is lost; a finished run takes none (Conflict);
    - ``set_run_status`` moves a run only forward (``running`` ↔
      ``waiting-approval``, then one of the finished statuses; a succeeded run
      may still be rolled back), atomically, with the step that caused it if
      given; any other move raises Conflict and changes nothing;
    - runs are listed newest first; unknown policies and runs raise NotFound.
    """

    def create_policy(self, policy: Policy) -> Policy:
        """Store a new policy."""

    def get_policy(self, name: str) -> Policy:
        """The policy called ``name``."""

    def list_policies(self) -> list[Policy]:
        """Every policy of the project, by name."""

    def update_policy(self, policy: Policy) -> Policy:
        """Replace the trigger, spec and paused flag of ``policy.name``."""

    def set_policy_state(self, name: str, state: Mapping[str, Any]) -> Policy:
        """Replace the state a policy carries between runs."""

    def delete_policy(self, name: str) -> None:
        """Remove a policy and its runs."""

    def start_run(
        self, name: str, trigger_event: Mapping[str, Any], *, now: int | None = None
    ) -> PolicyRun:
        """Store a new ``running`` run of policy ``name``."""

    def get_run(self, run_id: str) -> PolicyRun:
        """The policy run with this id."""

    def list_runs(self, name: str, *, limit: int = 100) -> list[PolicyRun]:
        """Runs of policy ``name``, newest first."""

    def append_step(self, run_id: str, step: Mapping[str, Any]) -> PolicyRun:
        """Add ``step`` (``{"step": NAME, ...}``) to the end of a run's chain."""

    def set_run_status(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        step: Mapping[str, Any] | None = None,
    ) -> PolicyRun:
        """Move a run to ``status`` if allowed, recording ``error`` and appending ``step``."""
