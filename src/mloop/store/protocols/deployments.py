"""The storage seam of deployments: named endpoints, their traffic split, and every change.

The SQL implementation is :class:`mloop.store.sql.deployments.SqlDeploymentStore`;
the contract suite in ``tests/contracts/deployment_store_contract.py`` proves it
on SQLite and PostgreSQL. Checking model references and governance happens
above this seam (:mod:`mloop.serving.deployments`); the store only records,
and changes a deployment only at the revision the caller read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mloop.entities import Deployment, DeploymentChange


class DeploymentStore(Protocol):
    """Deployments of one project, unique by name, and their history.

    Contract:
    - ``create_deployment`` stores revision 1 (AlreadyExists for a taken name);
    - ``update_deployment`` and ``delete_deployment`` are compare-and-set on
      ``expected_revision``: they change the deployment only if it is still at
      that revision, atomically; otherwise they raise Conflict naming both
      revisions and change nothing. Of two concurrent changes from the same
      revision, exactly one wins; an update raises the revision by one;
    - every change appends one :class:`DeploymentChange` in the same
      transaction, with the routing before and after;
    - reads and changes of an unknown deployment raise NotFound; the history
      of a deleted deployment stays readable (NotFound only for a name that
      never had one).
    """

    def create_deployment(
        self, deployment: Deployment, *, actor: str, reason: str = ""
    ) -> Deployment:
        """Store a new deployment at revision 1; record its creation."""

    def get_deployment(self, name: str) -> Deployment:
        """The deployment called ``name``."""

    def list_deployments(self) -> list[Deployment]:
        """Every deployment of the project, by name."""

    def update_deployment(
        self,
        deployment: Deployment,
        *,
        expected_revision: int,
        actor: str,
        reason: str = "",
        action: str = "set",
        alias_move: Mapping[str, Any] | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> Deployment:
        """Replace the routing of ``deployment.name`` if still at ``expected_revision``."""

    def delete_deployment(
        self, name: str, *, expected_revision: int, actor: str, reason: str = ""
    ) -> DeploymentChange:
        """Remove a deployment if still at ``expected_revision``; record it."""

    def deployment_history(self, name: str) -> list[DeploymentChange]:
        """Every change of the deployments called ``name``, oldest first."""
