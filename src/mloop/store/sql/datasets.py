"""Datasets over SQL (SQLite and PostgreSQL).

Example:
    >>> from mloop.store.sql import open_sql_store_set
    >>> store = open_sql_store_set("sqlite:///:memory:").datasets
    >>> v, new = store.commit_version("d", "a" * 64, [DatasetFile("x.csv", "b" * 64, 3)])
    >>> (v.ref, new, store.get_version(DatasetRef("d")).file_count)
    ('d@1', True, 1)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from mloop.entities import DatasetFile, DatasetRef, DatasetVersion
from mloop.errors import NotFound
from mloop.store import schema
from mloop.store.database import Database, now_millis
from mloop.store.sql.projects import ProjectScope

_D = schema.datasets
_V = schema.dataset_versions
_F = schema.dataset_files
_T = schema.dataset_tags
_VAL = schema.dataset_validations
_P = schema.dataset_profiles


class SqlDatasetStore:
    """:class:`~mloop.store.protocols.datasets.DatasetStore` over SQL, in one project.

    Dataset names are looked up in the scope's project; the digests that
    garbage collection must keep are every project's.
    """

    def __init__(self, database: Database, scope: ProjectScope | None = None) -> None:
        self._db = database
        self._scope = scope or ProjectScope(database)
        self._insert_files = database.prepare(_F.insert())

    def _lock_dataset(self, conn: sa.Connection, name: str) -> int:
        conn.execute(
            self._db.upsert(_D)
            .values(
                project_id=(project := self._scope.write_id(conn)),
                name=name,
                created_time=now_millis(),
                last_version=0,
            )
            .on_conflict_do_nothing(index_elements=["project_id", "name"])
        )
        query = sa.select(_D.c.dataset_id).where(_D.c.name == name, _D.c.project_id == project)
        if self._db.dialect == "postgresql":
            query = query.with_for_update()  # versions of one name are numbered one at a time
        return int(conn.execute(query).scalar_one())

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
        """Store a version and its manifest in one transaction, or return the identical one."""
        with self._db.begin() as conn:
            dataset_id = self._lock_dataset(conn, name)
            existing = conn.execute(
                sa.select(_V.c.version).where(_V.c.dataset_id == dataset_id, _V.c.digest == digest)
            ).scalar()
            if existing is not None:
                found = self._load(
                    conn, name, dataset_id, [_V.c.version == existing], with_files=False
                )
                return _with_files(found[0], files), False
            number = (
                1
                + conn.execute(
                    sa.select(_D.c.last_version).where(_D.c.dataset_id == dataset_id)
                ).scalar_one()
            )
            conn.execute(
                _D.update().where(_D.c.dataset_id == dataset_id).values(last_version=number)
            )
            version_id = conn.execute(
                _V.insert()
                .values(
                    dataset_id=dataset_id,
                    version=number,
                    digest=digest,
                    file_count=len(files),
                    total_bytes=sum(f.size for f in files),
                    created_time=now_millis(),
                    run_id=run_id,
                    description=description,
                    profile=json.dumps(profile) if profile is not None else None,
                )
                .returning(_V.c.version_id)
            ).scalar_one()
            self._db.run_many(
                conn,
                self._insert_files,
                [
                    {"version_id": version_id, "path": f.path, "digest": f.digest, "size": f.size}
                    for f in files
                ],
            )
            found = self._load(
                conn, name, dataset_id, [_V.c.version_id == version_id], with_files=False
            )
        return _with_files(found[0], files), True

    def find_version(self, name: str, digest: str) -> DatasetVersion | None:
        """The version of ``name`` whose manifest digest is ``digest`` (without its manifest)."""
        with self._db.connect() as conn:
            dataset_id = conn.execute(
                sa.select(_D.c.dataset_id).where(self._named(conn, name))
            ).scalar()
            if dataset_id is None:
                return None
            found = self._load(conn, name, dataset_id, [_V.c.digest == digest], with_files=False)
        return found[0] if found else None

    def _dataset_id(self, conn: sa.Connection, name: str) -> int:
        found = conn.execute(sa.select(_D.c.dataset_id).where(self._named(conn, name))).scalar()
        if found is None:
            raise NotFound(f"dataset {name!r} not found{self._scope.shown} (see: mloop data ls)")
        return int(found)

    def _named(self, conn: sa.Connection, name: str) -> sa.ColumnElement[bool]:
        return sa.and_(_D.c.name == name, self._scope.owns(_D.c.project_id))

    def _load(
        self,
        conn: sa.Connection,
        name: str,
        dataset_id: int,
        where: list[sa.ColumnElement[bool]],
        *,
        with_files: bool = True,
    ) -> list[DatasetVersion]:
        rows = conn.execute(
            sa.select(_V).where(_V.c.dataset_id == dataset_id, *where).order_by(_V.c.version)
        ).all()
        ids = [r.version_id for r in rows]
        tags: dict[int, list[str]] = {}
        files: dict[int, list[DatasetFile]] = {}
        if ids:
            for tag, version_id in conn.execute(
                sa.select(_T.c.tag, _T.c.version_id).where(_T.c.version_id.in_(ids))
            ).all():
                tags.setdefault(version_id, []).append(tag)
            if with_files:
                for version_id, path, digest, size in conn.execute(
                    sa.select(_F.c.version_id, _F.c.path, _F.c.digest, _F.c.size)
                    .where(_F.c.version_id.in_(ids))
                    .order_by(_F.c.path)
                ).all():
                    files.setdefault(version_id, []).append(DatasetFile(path, digest, size))
        return [self._entity(name, r, tags, files) for r in rows]

    @staticmethod
    def _entity(
        name: str, row: Any, tags: dict[int, list[str]], files: dict[int, list[DatasetFile]]
    ) -> DatasetVersion:
        return DatasetVersion(
            name=name,
            version=row.version,
            digest=row.digest,
            file_count=row.file_count,
            total_bytes=row.total_bytes,
            created_time=row.created_time,
            run_id=row.run_id,
            description=row.description,
            tags=tuple(sorted(tags.get(row.version_id, []))),
            files=tuple(files.get(row.version_id, [])),
            profile=json.loads(row.profile) if row.profile else None,
        )

    def get_version(self, ref: DatasetRef, *, with_files: bool = True) -> DatasetVersion:
        """The version a reference names; NotFound for an unknown name, version or tag."""
        with self._db.connect() as conn:
            dataset_id = self._dataset_id(conn, ref.name)
            if ref.version is not None:
                where = [_V.c.version == ref.version]
            elif ref.tag is not None:
                tagged = sa.select(_T.c.version_id).where(
                    _T.c.dataset_id == dataset_id, _T.c.tag == ref.tag
                )
                where = [_V.c.version_id.in_(tagged.scalar_subquery())]
            else:
                latest = sa.select(sa.func.max(_V.c.version)).where(_V.c.dataset_id == dataset_id)
                where = [_V.c.version == latest.scalar_subquery()]
            found = self._load(conn, ref.name, dataset_id, where, with_files=with_files)
        if not found:
            what = (
                f"version {ref.version}"
                if ref.version
                else f"tag {ref.tag!r}"
                if ref.tag
                else "version"
            )
            raise NotFound(f"dataset {ref.name!r} has no {what}")
        return found[0]

    def list_datasets(self) -> list[DatasetVersion]:
        """The latest version of every dataset of the project, by name."""
        with self._db.connect() as conn:
            names = (
                conn.execute(
                    sa.select(_D.c.name)
                    .where(self._scope.owns(_D.c.project_id))
                    .order_by(_D.c.name)
                )
                .scalars()
                .all()
            )
        out = []
        for name in names:
            try:
                out.append(self.get_version(DatasetRef(name), with_files=False))
            except NotFound:  # a name whose first version is still being committed
                continue
        return out

    def list_versions(self, name: str) -> list[DatasetVersion]:
        """Every version of a dataset, oldest first (without manifests)."""
        with self._db.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            return self._load(conn, name, dataset_id, [], with_files=False)

    def set_tag(self, ref: DatasetRef, tag: str) -> DatasetVersion:
        """Point ``tag`` at the referenced version, moving it if needed."""
        version = self.get_version(ref, with_files=False)
        with self._db.begin() as conn:
            dataset_id = self._dataset_id(conn, ref.name)
            version_id = conn.execute(
                sa.select(_V.c.version_id).where(
                    _V.c.dataset_id == dataset_id, _V.c.version == version.version
                )
            ).scalar_one()
            stmt = self._db.upsert(_T).values(dataset_id=dataset_id, tag=tag, version_id=version_id)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["dataset_id", "tag"],
                    set_={"version_id": stmt.excluded.version_id},
                )
            )
        return self.get_version(ref, with_files=False)

    def _version_id(self, conn: sa.Connection, version: DatasetVersion) -> int:
        dataset_id = self._dataset_id(conn, version.name)
        return int(
            conn.execute(
                sa.select(_V.c.version_id).where(
                    _V.c.dataset_id == dataset_id, _V.c.version == version.version
                )
            ).scalar_one()
        )

    def record_validation(
        self,
        ref: DatasetRef,
        suite: str,
        success: bool,
        result: Mapping[str, Any],
        run_id: str | None,
    ) -> None:
        """Store a validation result with the version it checked."""
        version = self.get_version(ref, with_files=False)  # before the write lock is taken
        with self._db.begin() as conn:
            conn.execute(
                _VAL.insert().values(
                    version_id=self._version_id(conn, version),
                    suite=suite,
                    success=success,
                    result=json.dumps(result, default=str),
                    run_id=run_id,
                    created_time=now_millis(),
                )
            )

    def record_profile(self, ref: DatasetRef, kind: str, digest: str) -> str:
        """Keep ``digest`` as the version's profile of ``kind``; the first one recorded wins."""
        version = self.get_version(ref, with_files=False)
        try:
            with self._db.begin() as conn:
                conn.execute(
                    _P.insert().values(
                        version_id=self._version_id(conn, version),
                        kind=kind,
                        digest=digest,
                        created_time=now_millis(),
                    )
                )
        except sa.exc.IntegrityError:
            pass  # another process recorded this version's profile first: keep theirs
        recorded = self.find_profile(ref, kind)
        if recorded is None:  # the version was removed meanwhile
            raise NotFound(f"dataset version {version.name}@{version.digest[:12]} is gone")
        return recorded

    def find_profile(self, ref: DatasetRef, kind: str) -> str | None:
        """The digest of the version's profile of ``kind``, or None."""
        version = self.get_version(ref, with_files=False)
        with self._db.connect() as conn:
            return conn.execute(
                sa.select(_P.c.digest).where(
                    _P.c.version_id == self._version_id(conn, version), _P.c.kind == kind
                )
            ).scalar_one_or_none()

    def list_validations(self, ref: DatasetRef) -> list[dict[str, Any]]:
        """A version's validation results, newest first."""
        version = self.get_version(ref, with_files=False)
        with self._db.connect() as conn:
            version_id = self._version_id(conn, version)
            rows = conn.execute(
                sa.select(_VAL)
                .where(_VAL.c.version_id == version_id)
                .order_by(_VAL.c.created_time.desc(), _VAL.c.validation_id.desc())
            ).all()
        return [
            {
                "suite": r.suite,
                "success": bool(r.success),
                "run_id": r.run_id,
                "created_time": r.created_time,
                "result": json.loads(r.result),
            }
            for r in rows
        ]

    def remove_version(self, ref: DatasetRef) -> DatasetVersion:
        """Remove a version (its tags and validations with it); its number is never reused.

        The objects its files used stay until `mloop gc` finds nothing else uses them.
        """
        version = self.get_version(ref, with_files=False)
        with self._db.begin() as conn:
            version_id = self._version_id(conn, version)
            for table in (_T, _VAL, _P, _F):
                conn.execute(table.delete().where(table.c.version_id == version_id))
            conn.execute(_V.delete().where(_V.c.version_id == version_id))
        return version

    def referenced_digests(self) -> set[str]:
        """Every object digest some version's manifest or profile points at."""
        with self._db.connect() as conn:
            files = set(conn.execute(sa.select(_F.c.digest).distinct()).scalars())
            return files | set(conn.execute(sa.select(_P.c.digest).distinct()).scalars())


def _with_files(version: DatasetVersion, files: Sequence[DatasetFile]) -> DatasetVersion:
    # A version's digest is over its sorted manifest: the same digest, the same files.
    return dataclasses.replace(version, files=tuple(sorted(files, key=lambda f: f.path)))
