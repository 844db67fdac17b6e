"""The storage seam of datasets: one small protocol, a SQL implementation, a contract suite."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mloop.entities import DatasetFile, DatasetRef, DatasetVersion


class DatasetStore(Protocol):
    """Named datasets and their immutable versions.

    Contract:
    - ``commit_version`` writes a version and its manifest in one transaction,
      numbering versions 1, 2, … per name, and returns the existing version
      instead when one with the same digest exists for that name;
    - ``get_version`` raises NotFound for an unknown name, version or tag;
    - a tag points at one version of its dataset and can be moved.
    """

    def commit_version(
        self,
        name: str,
        digest: str,
        files: Sequence[DatasetFile],
        *,
        run_id: str | None = None,
        description: str = "",
        profile: Mapping[str, Any] | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Store a version (or find the identical one); returns it and whether it is new."""

    def find_version(self, name: str, digest: str) -> DatasetVersion | None:
        """The version of ``name`` with manifest digest ``digest``, if any (without files)."""

    def get_version(self, ref: DatasetRef, *, with_files: bool = True) -> DatasetVersion:
        """The version a reference names."""

    def list_datasets(self) -> list[DatasetVersion]:
        """The latest version of every dataset, by name."""

    def list_versions(self, name: str) -> list[DatasetVersion]:
        """Every version of a dataset, oldest first."""

    def set_tag(self, ref: DatasetRef, tag: str) -> DatasetVersion:
        """Point ``tag`` at the referenced version (moving it if it pointed elsewhere)."""

    def record_validation(
        self,
        ref: DatasetRef,
        suite: str,
        success: bool,
        result: Mapping[str, Any],
        run_id: str | None,
    ) -> None:
        """Store a validation result with the version it checked."""

    def list_validations(self, ref: DatasetRef) -> list[dict[str, Any]]:
        """A version's validation results, newest first."""

    def record_profile(self, ref: DatasetRef, kind: str, digest: str) -> str:
        """Keep the content-store object ``digest`` as the version's profile of ``kind``.

        Returns the digest now recorded: when another writer recorded one
        first, theirs is kept and returned.
        """

    def find_profile(self, ref: DatasetRef, kind: str) -> str | None:
        """The digest of the version's profile of ``kind``, or None when there is none."""

    def remove_version(self, ref: DatasetRef) -> DatasetVersion:
        """Remove a version; numbers are never reused; NotFound if there is none."""

    def referenced_digests(self) -> set[str]:
        """Every object digest a dataset version's manifest points at."""
