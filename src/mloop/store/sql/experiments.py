"""Experiments over SQL."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mloop.entities import Experiment, LifecycleStage, ViewType
from mloop.errors import AlreadyExists, NotFound
from mloop.store import schema
from mloop.store.database import Database, experiment_pk, now_millis
from mloop.store.names import MAX_EXPERIMENT_NAME_LENGTH, validate_name
from mloop.store.sql.projects import ProjectScope

_E = schema.experiments


def stage_filter(column: sa.ColumnElement[str], view_type: ViewType) -> sa.ColumnElement[bool]:
    """The WHERE clause selecting a view type's lifecycle stages."""
    if view_type == ViewType.ACTIVE_ONLY:
        return column == LifecycleStage.ACTIVE.value
    if view_type == ViewType.DELETED_ONLY:
        return column == LifecycleStage.DELETED.value
    return sa.true()


class SqlExperimentStore:
    """:class:`~mloop.store.protocols.tracking.ExperimentStore` over SQL, in one project.

    Names are looked up in the scope's project; ids reach every project.
    """

    def __init__(self, database: Database, scope: ProjectScope | None = None) -> None:
        self._db = database
        self._scope = scope or ProjectScope(database)

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create an experiment; AlreadyExists when the name is taken (also by a deleted one)."""
        validate_name(name, "experiment", MAX_EXPERIMENT_NAME_LENGTH)
        now = now_millis()
        try:
            with self._db.begin() as conn:
                pk = conn.execute(
                    _E.insert()
                    .values(
                        project_id=self._scope.write_id(conn),
                        name=name,
                        artifact_location=artifact_location or "",
                        lifecycle_stage=LifecycleStage.ACTIVE.value,
                        creation_time=now,
                        last_update_time=now,
                    )
                    .returning(_E.c.experiment_id)
                ).scalar_one()
                if tags:
                    conn.execute(
                        schema.experiment_tags.insert(),
                        [{"experiment_id": pk, "key": k, "value": v} for k, v in tags.items()],
                    )
        except IntegrityError:
            existing = self.get_experiment_by_name(name)
            where = (
                " (in the bin: restore it or pick another name)"
                if existing and (existing.lifecycle_stage == LifecycleStage.DELETED)
                else ""
            )
            raise AlreadyExists(
                f"experiment {name!r} already exists{self._scope.shown}{where}"
            ) from None
        return str(pk)

    def _load(self, where: sa.ColumnElement[bool], *, scoped: bool = True) -> list[Experiment]:
        with self._db.connect() as conn:
            if scoped:
                where = sa.and_(where, self._scope.owns(_E.c.project_id))
            rows = conn.execute(sa.select(_E).where(where).order_by(_E.c.experiment_id)).all()
            ids = [row.experiment_id for row in rows]
            tags: dict[int, dict[str, str]] = {}
            if ids:
                tag_table = schema.experiment_tags
                for tag in conn.execute(
                    sa.select(tag_table).where(tag_table.c.experiment_id.in_(ids))
                ):
                    tags.setdefault(tag.experiment_id, {})[tag.key] = tag.value
        return [
            Experiment(
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location,
                lifecycle_stage=LifecycleStage(row.lifecycle_stage),
                creation_time=row.creation_time,
                last_update_time=row.last_update_time,
                tags=tags.get(row.experiment_id, {}),
            )
            for row in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id; NotFound otherwise."""
        found = self._load(_E.c.experiment_id == experiment_pk(experiment_id), scoped=False)
        if not found:
            raise NotFound(f"experiment {experiment_id!r} not found")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The project's experiment with this name, or None."""
        found = self._load(_E.c.name == name)
        return found[0] if found else None

    def search_experiments(
        self, view_type: ViewType = ViewType.ACTIVE_ONLY, name_like: str | None = None
    ) -> list[Experiment]:
        """The project's experiments in the given stages, oldest first."""
        where = stage_filter(_E.c.lifecycle_stage, ViewType(view_type))
        if name_like:
            where = sa.and_(where, _E.c.name.like(name_like))
        return self._load(where)

    def set_experiment_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        """Soft-delete or restore an experiment; NotFound for an unknown id."""
        with self._db.begin() as conn:
            result = conn.execute(
                _E.update()
                .where(_E.c.experiment_id == experiment_pk(experiment_id))
                .values(lifecycle_stage=LifecycleStage(stage).value, last_update_time=now_millis())
            )
        if result.rowcount == 0:
            raise NotFound(f"experiment {experiment_id!r} not found")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set one experiment tag; NotFound for an unknown id."""
        self.get_experiment(experiment_id)
        table = schema.experiment_tags
        with self._db.begin() as conn:
            stmt = self._db.upsert(table).values(
                experiment_id=experiment_pk(experiment_id), key=key, value=value
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["experiment_id", "key"], set_={"value": stmt.excluded.value}
                )
            )
