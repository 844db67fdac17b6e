"""The artifact index over SQL: run-relative paths mapped to content digests."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mloop.entities import ArtifactInfo
from mloop.errors import NotFound
from mloop.store import schema
from mloop.store.database import Database, now_millis

_A = schema.artifacts


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlArtifactIndex:
    """:class:`~mloop.store.protocols.tracking.ArtifactIndex` over SQL."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record_artifacts(self, run_id: str, entries: Sequence[tuple[str, str, int]]) -> None:
        """Map paths to digests; a path logged again points at the new bytes."""
        if not entries:
            return
        now = now_millis()
        stmt = self._db.upsert(_A)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "path"],
            set_={"digest": stmt.excluded.digest, "size": stmt.excluded.size, "created_time": now},
        )
        rows = [
            {"run_id": run_id, "path": path, "digest": digest, "size": size, "created_time": now}
            for path, digest, size in entries
        ]
        try:
            with self._db.begin() as conn:
                conn.execute(stmt, rows)
        except IntegrityError:
            raise NotFound(f"run {run_id!r} not found") from None

    def find_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """Every file at ``path`` or under it, sorted by path."""
        query = sa.select(_A.c.path, _A.c.digest, _A.c.size).where(_A.c.run_id == run_id)
        if path:
            prefix = path.rstrip("/")
            query = query.where(
                sa.or_(
                    _A.c.path == prefix, _A.c.path.like(_escape_like(prefix) + "/%", escape="\\")
                )
            )
        with self._db.connect() as conn:
            rows = conn.execute(query.order_by(_A.c.path)).all()
        return [ArtifactInfo(p, False, size, digest) for p, digest, size in rows]

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        """Direct children of a folder: files with size and digest, folders with ``is_dir``."""
        prefix = (path or "").strip("/")
        children: dict[str, ArtifactInfo] = {}
        for item in self.find_artifacts(run_id, prefix or None):
            if item.path == prefix:
                return [item]
            rest = item.path[len(prefix) + 1 :] if prefix else item.path
            head, sep, _ = rest.partition("/")
            child = f"{prefix}/{head}" if prefix else head
            if sep:
                children.setdefault(child, ArtifactInfo(child, True))
            else:
                children[child] = item
        return [children[k] for k in sorted(children)]

    def referenced_digests(self, exclude_runs: Collection[str] = ()) -> set[str]:
        """Every digest a metadata row points at, ignoring the artifacts of ``exclude_runs``.

        All domains share one content store, so run artifacts, dataset
        manifests and profiles, and registered model versions alike keep their objects alive
        through garbage collection.
        """
        query = sa.select(_A.c.digest).distinct()
        if exclude_runs:
            query = query.where(_A.c.run_id.not_in(list(exclude_runs)))
        others = [
            sa.select(schema.dataset_files.c.digest).distinct(),
            sa.select(schema.model_version_files.c.digest).distinct(),
            sa.select(schema.dataset_profiles.c.digest).distinct(),
        ]
        with self._db.connect() as conn:
            found = set(conn.execute(query).scalars())
            for other in others:
                found |= set(conn.execute(other).scalars())
        return found

    def references(self) -> list[tuple[str, int, str]]:
        """``(digest, size, what)`` of every stored thing: run artifacts, dataset and model files.

        ``what`` names it for a person (``run 3f… artifact 'plots/roc.png'``,
        ``dataset 'credit@3' file 'part1.csv'``, ``model 'credit/2' file 'model.skops'``).
        """
        ds, dv, dn = schema.dataset_files, schema.dataset_versions, schema.datasets
        mf, mv, mn = schema.model_version_files, schema.model_versions, schema.registered_models
        queries = [
            (sa.select(_A.c.digest, _A.c.size, _A.c.run_id, _A.c.path), "run {} artifact {!r}"),
            (
                sa.select(ds.c.digest, ds.c.size, dn.c.name, dv.c.version, ds.c.path)
                .join(dv, dv.c.version_id == ds.c.version_id)
                .join(dn, dn.c.dataset_id == dv.c.dataset_id),
                "dataset '{}@{}' file {!r}",
            ),
            (
                sa.select(mf.c.digest, mf.c.size, mn.c.name, mv.c.version, mf.c.path)
                .join(mv, mv.c.version_id == mf.c.version_id)
                .join(mn, mn.c.model_id == mv.c.model_id),
                "model '{}/{}' file {!r}",
            ),
        ]
        found: list[tuple[str, int, str]] = []
        with self._db.connect() as conn:
            for query, what in queries:
                for digest, size, *names in conn.execute(query):
                    found.append((digest, int(size), what.format(*names)))
        return found
