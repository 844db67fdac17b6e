"""Projects over SQL, and the scope that keeps a view of the stores inside one project.

Example:
    >>> from mloop.store.database import Database
    >>> db = Database.open("sqlite://")
    >>> [p.name for p in SqlProjectStore(db).list_projects()]
    ['default']
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mloop.config import DEFAULT_PROJECT, check_project_name
from mloop.entities import Project
from mloop.errors import AlreadyExists, Conflict, NotFound
from mloop.store import schema
from mloop.store.database import Database, now_millis

_P = schema.projects


def project_key(name: sa.ColumnElement[str] | str) -> sa.ScalarSelect[int]:
    """The key of the project called ``name``, as a subquery (NULL when there is none)."""
    return sa.select(_P.c.project_id).where(_P.c.name == name).scalar_subquery()


class ProjectScope:
    """The project a view of the SQL stores reads and writes names in.

    Reads find the project by name inside each statement (a subquery on its
    unique name), so nothing is remembered that a rolled-back transaction or
    another process could make wrong; a project that does not exist yet holds
    nothing, and the first write in it makes it.
    """

    def __init__(self, database: Database, name: str = DEFAULT_PROJECT) -> None:
        self._db = database
        self.name = check_project_name(name)

    def write_id(self, conn: sa.Connection) -> int:
        """The project's key, making the project in ``conn``'s transaction if it is new.

        Raises:
            Conflict: a project whose name differs only in case exists (``Fraud``
                beside ``fraud`` would split a team's work without anyone noticing).
        """
        made = conn.execute(
            self._db.upsert(_P)
            .values(name=self.name, description="", created_time=now_millis())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        if made.rowcount:  # only a project made now can have a twin (its write rolls back)
            check_case(conn, self.name)
        return int(conn.execute(sa.select(project_key(self.name))).scalar_one())

    def owns(self, column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        """A WHERE clause keeping the rows of this project (none if it does not exist)."""
        return column == project_key(self.name)

    @property
    def shown(self) -> str:
        """`` in project 'x'`` for messages, or nothing for the default project."""
        return "" if self.name == DEFAULT_PROJECT else f" in project {self.name!r}"


def check_case(conn: sa.Connection, name: str) -> None:
    """Refuse a new project name that differs from an existing one only in case."""
    twin = conn.execute(
        sa.select(_P.c.name).where(sa.func.lower(_P.c.name) == name.lower(), _P.c.name != name)
    ).scalar()
    if twin is not None:
        raise Conflict(
            f"project {name!r} would sit beside {twin!r}, a name that differs only in case; "
            f"use {twin!r}"
        )


class SqlProjectStore:
    """:class:`~mloop.store.protocols.projects.ProjectStore` over SQL."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def create_project(self, name: str, *, description: str = "") -> Project:
        """Create an empty project; AlreadyExists if the name is taken."""
        check_project_name(name)
        now = now_millis()
        try:
            with self._db.begin() as conn:
                check_case(conn, name)
                conn.execute(
                    _P.insert().values(name=name, description=description, created_time=now)
                )
        except IntegrityError:
            raise AlreadyExists(f"project {name!r} already exists") from None
        return Project(name, description, now)

    def get_project(self, name: str) -> Project:
        """The project with this name; NotFound otherwise."""
        with self._db.connect() as conn:
            row = conn.execute(sa.select(_P).where(_P.c.name == name)).first()
        if row is None:
            raise NotFound(f"project {name!r} not found (see: mloop projects ls)")
        return Project(row.name, row.description, row.created_time)

    def list_projects(self) -> list[Project]:
        """Every project, by name."""
        with self._db.connect() as conn:
            rows = conn.execute(sa.select(_P).order_by(_P.c.name)).all()
        return [Project(r.name, r.description, r.created_time) for r in rows]
