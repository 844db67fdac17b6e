"""The shared handle of the SQL stores: engine, dialect helpers, clock."""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, OperationalError

from mloop.errors import InvalidInput
from mloop.store.opening import damage_error, database_error, open_store

T = TypeVar("T")
IN_CHUNK = 900


def now_millis() -> int:
    """Milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """Slices of at most ``size`` items, to keep IN lists within bind-parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def experiment_pk(experiment_id: str) -> int:
    """The integer key behind an experiment id string."""
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"experiment id must be a number string, got {experiment_id!r}"
        ) from None


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A statement compiled once to the driver's SQL, run with the driver's ``executemany``.

    The hot write path skips SQLAlchemy's per-call execution machinery, which
    costs more than SQLite itself for small batches.
    """

    sql: str
    order: tuple[str, ...] | None  # positional drivers take tuples in this order

    def rows(self, rows: Sequence[Mapping[str, Any]]) -> Sequence[Any]:
        """The parameters in the form the driver takes."""
        if self.order is None:
            return rows
        order = self.order
        return [tuple(row[name] for name in order) for row in rows]


class Database:
    """An engine whose schema is at head, plus what differs between SQLite and PostgreSQL."""

    def __init__(self, engine: sa.Engine, uri: str = "", store_id: str = "") -> None:
        self.engine = engine
        self.uri = uri or engine.url.render_as_string(hide_password=False)
        self.store_id = store_id  # the metadata store's identity (store_meta)
        self.dialect = engine.dialect.name
        placeholder = "?" if self.dialect == "sqlite" else "%s"
        self.placeholder = placeholder

    @classmethod
    def open(cls, uri: str) -> Database:
        """Connect and bring the schema to head (see :func:`mloop.store.opening.open_store`)."""
        engine, store_id = open_store(uri)
        return cls(engine, uri, store_id)

    def prepare(self, statement: sa.Executable) -> Prepared:
        """Compile a statement once for this database's driver."""
        compiled = statement.compile(dialect=self.engine.dialect)  # type: ignore[attr-defined]
        order = tuple(compiled.positiontup) if compiled.positional else None
        return Prepared(str(compiled), order)

    def run_many(
        self, conn: sa.Connection, prepared: Prepared, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Execute a prepared statement for each row inside ``conn``'s transaction."""
        if rows:
            self._executemany(conn, prepared.sql, prepared.rows(rows))

    def _executemany(self, conn: sa.Connection, sql: str, rows: Sequence[Any]) -> None:
        if not rows:
            return
        dbapi = self.engine.dialect.dbapi
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, rows)
        except dbapi.IntegrityError as err:  # type: ignore[union-attr]
            raise sa.exc.IntegrityError(sql, None, err) from err
        except dbapi.OperationalError as err:  # type: ignore[union-attr]
            raise OperationalError(sql, None, err) from err
        except dbapi.DataError as err:  # type: ignore[union-attr]
            raise sa.exc.DataError(sql, None, err) from err
        finally:
            cursor.close()

    def run_many_tuples(
        self,
        conn: sa.Connection,
        prepared: Prepared,
        fields: tuple[str, ...],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """Like :meth:`run_many` for rows given as tuples in ``fields`` order."""
        if prepared.order == fields:
            self._executemany(conn, prepared.sql, rows)
        else:
            self.run_many(conn, prepared, [dict(zip(fields, row, strict=True)) for row in rows])

    def fetch_by_run(
        self, conn: sa.Connection, table: str, columns: str, run_ids: Sequence[str]
    ) -> list[tuple[Any, ...]]:
        """``SELECT columns FROM table WHERE run_id IN run_ids`` through the driver, in chunks.

        Bulk reads of whole runs skip SQLAlchemy's row processing, which costs
        as much as SQLite's own work for tens of thousands of rows. On
        PostgreSQL the ids travel as one array: one round trip for any number.
        """
        out: list[tuple[Any, ...]] = []
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.dialect == "postgresql":
                sql = f"SELECT {columns} FROM {table} WHERE run_id = ANY(%s)"
                cursor.execute(sql, (list(run_ids),))
                return list(cursor.fetchall())
            for part in chunks(run_ids):
                marks = ", ".join([self.placeholder] * len(part))
                cursor.execute(f"SELECT {columns} FROM {table} WHERE run_id IN ({marks})", part)
                out += cursor.fetchall()
        finally:
            cursor.close()
        return out

    def fetch(self, conn: sa.Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows of a query run through the driver (placeholders: :attr:`placeholder`).

        For hot single-row reads, where SQLAlchemy's statement handling costs
        more than the database.
        """
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def fetch_prepared(
        self, conn: sa.Connection, prepared: Prepared, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Rows of a statement compiled once with :meth:`prepare`, run through the driver."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(prepared.sql, prepared.rows([params])[0])
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def upsert(self, table: sa.Table) -> Any:
        """A dialect-specific INSERT that supports ``on_conflict_do_update``."""
        # The engine has loaded its own dialect's module already; naming both at the
        # top would load PostgreSQL's (and asyncio with it, ~25 ms) into every SQLite
        # command.
        module = importlib.import_module(f"sqlalchemy.dialects.{self.dialect}")
        return module.insert(table)

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A transaction; database failures become StoreError, refused values InvalidInput.

        A value the database cannot hold (a number out of range, a NUL byte in
        PostgreSQL text, a string that is not valid Unicode) rolls the
        transaction back and raises :class:`InvalidInput`; a failure of the
        database itself (locked, unreachable, deadlock) raises
        :class:`StoreError`, which is worth retrying.
        """
        try:
            with self.engine.begin() as connection:
                yield connection
        except OperationalError as err:
            raise database_error(err, self.uri, "operation failed in") from err
        except sa.exc.DataError as err:
            raise InvalidInput(f"the metadata store refused a value: {err.orig}") from err
        except DatabaseError as err:
            damaged = damage_error(err, self.uri)
            if damaged is None:
                raise
            raise damaged from err
        except (OverflowError, UnicodeEncodeError) as err:
            raise InvalidInput(f"the metadata store refused a value: {err}") from err

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A read connection; database failures become StoreError."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except OperationalError as err:
            raise database_error(err, self.uri, "read failed in") from err
        except DatabaseError as err:
            damaged = damage_error(err, self.uri)
            if damaged is None:
                raise
            raise damaged from err

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
