"""The storage seams of the model registry: four small protocols.

Each has a SQL implementation (:mod:`mloop.store.sql`) and is proven by the
contract suite in ``tests/contracts/model_store_contract.py``, which runs on
SQLite and PostgreSQL. Governance rules (who may move a protected alias) live
above these seams, in :mod:`mloop.models.governance`; the stores only record,
and move an alias only from the version the rules were checked against.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Protocol

from mloop.entities import (
    AliasChange,
    AliasProtection,
    Decision,
    EvaluationRecord,
    GateRecord,
    ModelFile,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    SigningKey,
)


@dataclasses.dataclass(frozen=True)
class NewVersion:
    """A version to register: the package, where it came from, and who registers it."""

    digest: str
    manifest_digest: str
    flavor: str
    source: str
    files: Sequence[ModelFile]
    created_by: str
    run_id: str | None = None
    description: str = ""
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    signature: str | None = None
    signing_key_id: str | None = None


class ModelStore(Protocol):
    """Registered models and their numbered versions.

    Contract:
    - ``create_version`` creates the model on first use and numbers versions
      1, 2, … per model, never reusing a number, even after a delete;
    - reads raise NotFound for an unknown model or version; ``create_model``
      raises AlreadyExists for a taken name;
    - ``delete_version`` and ``delete_model`` take aliases, decisions, gate
      results and evaluations with them.
    """

    def create_model(self, name: str, *, description: str = "", owner: str = "") -> RegisteredModel:
        """Create an empty registered model."""

    def get_model(self, name: str) -> RegisteredModel:
        """A model with its tags, aliases and latest version number."""

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
    ) -> RegisteredModel:
        """Change the description; set tags (a None value deletes the tag)."""

    def delete_model(self, name: str) -> None:
        """Remove a model and all its versions."""

    def create_version(self, name: str, new: NewVersion) -> ModelVersion:
        """Register a new version (creating the model if needed)."""

    def get_version(self, name: str, version: int, *, with_files: bool = False) -> ModelVersion:
        """One version, optionally with its file list."""

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of a model, oldest first (without files)."""

    def find_versions(self, digest: str, *, with_files: bool = False) -> list[ModelVersion]:
        """Versions of any model, in any project, whose package digest is ``digest``."""

    def set_status(self, name: str, version: int, status: ModelVersionStatus) -> ModelVersion:
        """Archive or restore a version."""

    def set_signature(self, name: str, version: int, key_id: str, signature: str) -> ModelVersion:
        """Record the signature of a version's package digest (signing an older version)."""

    def delete_version(self, name: str, version: int) -> ModelVersion:
        """Remove one version; its number is never given out again."""


class AliasStore(Protocol):
    """Aliases of registered models and every move they made.

    Contract:
    - ``set_alias`` and ``delete_alias`` are compare-and-set: they change the
      alias only if it still points at ``expected`` (None: the alias is not
      set), atomically; otherwise they raise Conflict naming the alias, the
      version the caller expected and the one it points at now, and change
      nothing. Of two concurrent moves from the same ``expected``, exactly one
      wins;
    - every move appends one :class:`AliasChange` in the same transaction;
    - an unknown model or version raises NotFound, before any comparison.
    """

    def get_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at; NotFound if the alias is not set."""

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        expected: int | None,
        actor: str,
        reason: str = "",
        action: str = "set",
    ) -> AliasChange:
        """Point an alias at a version if it still points at ``expected``; record the move."""

    def delete_alias(
        self, name: str, alias: str, *, expected: int, actor: str, reason: str = ""
    ) -> AliasChange:
        """Remove an alias if it still points at ``expected``; record it."""

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasChange]:
        """Moves of one alias (or all of a model's), oldest first."""


class GovernanceStore(Protocol):
    """Protected aliases, approvals, gate results and evaluations of versions."""

    def set_protection(self, protection: AliasProtection) -> None:
        """Create or replace the protection of an alias."""

    def remove_protection(self, name: str, alias: str) -> None:
        """Lift an alias's protection; NotFound if it has none."""

    def list_protections(self, name: str) -> list[AliasProtection]:
        """A model's protected aliases."""

    def record_decision(self, decision: Decision) -> None:
        """Store an approval or rejection of a version."""

    def list_decisions(self, name: str, version: int) -> list[Decision]:
        """A version's decisions, oldest first."""

    def record_gate(self, record: GateRecord) -> None:
        """Store a gate result with the version it judged."""

    def list_gates(self, name: str, version: int) -> list[GateRecord]:
        """A version's gate results, newest first."""

    def record_evaluation(self, record: EvaluationRecord) -> None:
        """Store an evaluation with the version it measured."""

    def list_evaluations(self, name: str, version: int) -> list[EvaluationRecord]:
        """A version's evaluations, newest first."""


class KeyStore(Protocol):
    """Public keys the project trusts to sign model packages."""

    def add_key(self, key: SigningKey) -> None:
        """Trust a public key; AlreadyExists if it is there."""

    def list_keys(self, *, include_revoked: bool = False) -> list[SigningKey]:
        """Trusted keys, oldest first."""

    def revoke_key(self, key_id: str) -> SigningKey:
        """Stop trusting a key; signatures by it no longer verify."""
