r"""The Python face of datasets: ``mloop.data.add``, ``get``, ``versions``, ``datasets``, ``tag``.

Example:
    >>> import mloop, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "rows.csv").write_text("a,b\n1,2\n")
    >>> mloop.set_tracking_uri(folder / "store")
    >>> v1 = mloop.data.add(folder / "rows.csv", name="rows")
    >>> (v1.ref, mloop.data.add(folder / "rows.csv", name="rows").ref)
    ('rows@1', 'rows@1')
    >>> (mloop.data.get("rows@latest").path / "rows.csv").read_text()
    'a,b\n1,2\n'
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from mloop.artifacts.cas import ContentStore
from mloop.artifacts.trees import naming, verify_copy
from mloop.context.context import Context
from mloop.data.compare import diff_versions
from mloop.data.expectations import ExpectationSuite
from mloop.data.formats import is_tabular
from mloop.data.hash_cache import HashCache
from mloop.data.refs import check_name, check_tag, parse_ref
from mloop.data.secret import project_secret
from mloop.data.versioning import (
    Progress,
    SourceFile,
    cached_manifest,
    copy_folder_name,
    list_files,
    manifest_digest,
    materialize,
    store_files,
)
from mloop.entities import DatasetFile, DatasetRef, DatasetVersion
from mloop.errors import InvalidInput, MloopWarning, NotFound
from mloop.store.protocols.datasets import DatasetStore
from mloop.tracking import fluent, reads
from mloop.tracking.client import Client

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from mloop.data.validation import ValidationResult

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A dataset version, with its files one ``.path`` away.

    Everything of :class:`~mloop.entities.DatasetVersion` is here too (``name``,
    ``version``, ``ref``, ``digest``, ``files`` …), so a ``Dataset`` can be
    passed to ``mloop.log_input``.
    """

    info: DatasetVersion
    _content: ContentStore = dataclasses.field(repr=False)
    _cache: Path = dataclasses.field(repr=False)

    name = property(lambda self: self.info.name, doc="The dataset's name.")
    version = property(lambda self: self.info.version, doc="The version number, from 1.")
    ref = property(lambda self: self.info.ref, doc="``name@version``.")
    digest = property(lambda self: self.info.digest, doc="SHA-256 of the manifest.")
    files = property(lambda self: self.info.files, doc="The manifest: path, digest, size.")
    tags = property(lambda self: self.info.tags, doc="Tags pointing at this version.")
    run_id = property(lambda self: self.info.run_id, doc="The run that added it, if any.")
    kind = property(lambda self: "dataset", doc="What this is as a run input.")
    source = property(lambda self: self.info.source, doc="Where it comes from.")

    def copy_to(self, destination: str | os.PathLike[str]) -> Path:
        """Copy the files (verified against their digests) into a writable folder."""
        target = Path(destination)
        for item in self.files:
            with naming(f"dataset '{self.ref}' file {item.path!r}"):
                self._content.get_file(item.digest, target / item.path)
        return target

    def to_arrow(self) -> pa.Table:
        """The version's tabular files (Parquet, CSV, TSV, JSON lines) as one Arrow table."""
        from mloop.data.tabular import read_table  # pyarrow loads only when tables are read

        root = self.path
        return read_table([root / f.path for f in self.files])

    def to_pandas(self) -> pd.DataFrame:
        """The version's tabular files as one pandas DataFrame."""
        frame: pd.DataFrame = self.to_arrow().to_pandas()
        return frame

    @property
    def profile(self) -> Mapping[str, Any] | None:
        """Rows and per-column schema and statistics of the tabular files, or None."""
        return self.info.profile

    @property
    def schema(self) -> list[tuple[str, str, bool]]:
        """``(column, logical type, nullable)`` of the tabular files ([] when there are none)."""
        columns = (self.info.profile or {}).get("columns", [])
        return [(c["name"], c["type"], c["nullable"]) for c in columns]

    @property
    def path(self) -> Path:
        """A local, read-only folder with the version's files (fetched once, then cached)."""
        return materialize(self._content, self.info, self._cache)


def check_local_copies(
    *, repair: bool = False, context: Context | None = None
) -> dict[str, list[str]]:
    """Re-read every local copy of a dataset version: ``{"dataset 'ds@1'": damaged paths}``.

    With ``repair``, damaged or missing files are fetched again from the store.

    Example:
        >>> check_local_copies()
        {}
    """
    store, content, cache = _backend(context)
    found: dict[str, list[str]] = {}
    for marker in sorted(cache.glob("*/*/.complete")):
        number = marker.parent.name.partition("-")[0]
        ref = f"{marker.parent.parent.name}@{number}"
        try:
            version = store.get_version(parse_ref(ref))
        except (NotFound, InvalidInput):  # removed since, or not a copy mloop made
            continue
        if copy_folder_name(version) != marker.parent.name:  # another store's copy
            continue
        entries = [(f.path, f.digest) for f in version.files]
        what = f"dataset '{ref}'"
        stamp = version.digest
        damaged = verify_copy(
            content, entries, marker.parent, marker, stamp, what=what, repair=repair
        )
        if damaged:
            found[what] = damaged
    return found


def _context(context: Context | None) -> Context:
    # The default: the stores and project the process chose, as the fluent API logs to.
    return context if context is not None else fluent.current_client().context


def _backend(context: Context | None) -> tuple[DatasetStore, ContentStore, Path]:
    ctx = _context(context)
    return ctx.stores.datasets, ctx.content, ctx.settings.local_root() / "datasets"


def _wrap(version: DatasetVersion, context: Context | None) -> Dataset:
    _, content, cache = _backend(context)
    return Dataset(version, content, cache)


def add(
    path: str | os.PathLike[str],
    name: str,
    *,
    tags: list[str] | None = None,
    description: str = "",
    pseudonymize: Sequence[str] | None = None,
    mask: bool = False,
    progress: Progress | None = None,
    follow_links: bool = False,
    context: Context | None = None,
) -> Dataset:
    """Version a file or folder as dataset ``name``; unchanged content returns the existing version.

    Inside a run, the run is recorded as the version's producer (and the
    version as the run's output). ``pseudonymize`` names columns of the tabular
    files to store as keyed hashes (or as ``***`` with ``mask=True``) instead of
    their raw values, which never reach the store; columns that look like
    personal data (:func:`detect_pii`, on the first rows) and are stored as
    they are warn (:class:`~mloop.errors.MloopWarning`). ``progress`` is called with
    ``(files done, files in all)`` while files are stored. Symbolic links
    inside the folder that point out of it are refused unless ``follow_links``.

    Raises:
        InvalidInput: a bad name or tag, an empty folder, broken links, unreadable
            files, or a column to pseudonymize that a tabular file lacks.
        NotFound: the path does not exist.
    """
    check_name(name)
    for tag in tags or ():
        check_tag(tag)
    files = list_files(path, follow_links=follow_links)  # every check before anything is stored
    dataset = _add(files, name, tags, description, pseudonymize, mask, progress, context)
    _warn_pii(name, files, pseudonymize or ())
    return dataset


def _add(
    files: list[SourceFile],
    name: str,
    tags: list[str] | None,
    description: str,
    pseudonymize: Sequence[str] | None,
    mask: bool,
    progress: Progress | None,
    context: Context | None,
) -> Dataset:
    store, content, cache = _backend(context)
    if pseudonymize:
        with tempfile.TemporaryDirectory(prefix="mloop-pseudonymized-") as scratch:
            secret = (
                None
                if mask
                else project_secret(cache.parent, _context(context).settings.secret_key)
            )
            files = _pseudonymized(files, list(pseudonymize), secret, Path(scratch))
            manifest = store_files(content, files, progress=progress)
            return _commit(store, name, manifest, files, tags, description, context=context)
    hashes = HashCache(cache.parent / "cache" / "hashes.db")
    known = hashes.lookup([f.key for f in files])
    unchanged = cached_manifest(files, known)
    if unchanged is not None:
        # Nothing changed since these files were last hashed. If they already
        # make up a version of this dataset, its objects are referenced and
        # kept: there is nothing to store.
        existing = store.find_version(name, manifest_digest(unchanged))
        if existing is not None:
            return _commit(
                store, name, unchanged, files, tags, description, existing=existing, context=context
            )
    manifest = store_files(content, files, cache=hashes, known=known, progress=progress)
    return _commit(store, name, manifest, files, tags, description, context=context)


def _warn_pii(name: str, files: Sequence[SourceFile], pseudonymized: Sequence[str]) -> None:
    """Warn when columns of the table look like personal data and are stored as they are."""
    tabular = [Path(f.path) for f in files if is_tabular(f.logical)]
    if not tabular:
        return
    from mloop.data.privacy import sample_pii  # pyarrow loads only for tabular data

    exposed = {c: kind for c, kind in sample_pii(tabular).items() if c not in pseudonymized}
    if exposed:
        shown = ", ".join(f"{column!r} ({kind})" for column, kind in exposed.items())
        warnings.warn(
            f"dataset {name!r}: column(s) {shown} look like personal data and are stored "
            f"as they are; pass pseudonymize={sorted(exposed)!r} (mloop data add "
            "--pseudonymize COLUMN) to store keyed hashes instead",
            MloopWarning,
            stacklevel=3,
        )


def _pseudonymized(
    files: list[SourceFile], columns: list[str], secret: bytes | None, scratch: Path
) -> list[SourceFile]:
    from mloop.data.privacy import pseudonymize_file  # pyarrow loads only for tabular data

    if not any(is_tabular(f.logical) for f in files):
        raise InvalidInput("pseudonymize needs tabular files (Parquet, CSV, TSV, JSON lines)")
    out = []
    for f in files:
        if is_tabular(f.logical):
            target = scratch / f.logical
            pseudonymize_file(Path(f.path), target, columns, secret)
            st = target.stat()
            out.append(SourceFile(str(target), f.logical, st.st_size, st.st_mtime_ns, st.st_ino))
        else:
            out.append(f)
    return out


def _commit(
    store: DatasetStore,
    name: str,
    manifest: list[DatasetFile],
    files: list[SourceFile],
    tags: list[str] | None,
    description: str,
    *,
    existing: DatasetVersion | None = None,
    context: Context | None = None,
) -> Dataset:
    active = fluent.active_run()
    digest = existing.digest if existing is not None else manifest_digest(manifest)
    if existing is None:
        existing = store.find_version(name, digest)
    if existing is not None:  # unchanged content: the version it already is
        version, created = dataclasses.replace(existing, files=tuple(manifest)), False
    else:
        version, created = store.commit_version(
            name,
            digest,
            manifest,
            run_id=active.info.run_id if active else None,
            description=description,
            profile=profile_files([Path(f.path) for f in files if is_tabular(f.logical)]),
        )
    if tags:
        for tag in tags:
            store.set_tag(DatasetRef(name, version=version.version), tag)
        version = store.get_version(DatasetRef(name, version=version.version))
    if created and active is not None:
        fluent.log_output(version)
    return _wrap(version, context)


def profile_files(paths: list[Path]) -> dict[str, Any] | None:
    """Schema and statistics of the tabular files among ``paths`` (None when there are none).

    A tabular file that cannot be read leaves the version without a profile;
    reading it as a table later raises the error.
    """
    if not any(is_tabular(str(p)) for p in paths):
        return None
    import pyarrow as pa  # loads only for tabular data

    from mloop.data.profile import profile_table
    from mloop.data.tabular import read_table

    try:
        return profile_table(read_table(paths))
    except (InvalidInput, pa.ArrowException) as err:
        log.warning("dataset version stored without a profile: %s", err)
        return None


def get(ref: str, *, context: Context | None = None) -> Dataset:
    """The version ``ref`` names: ``name``, ``name@latest``, ``name@3`` or ``name@<tag>``."""
    store, _, _ = _backend(context)
    found = _wrap(store.get_version(parse_ref(ref)), context)
    # A pipeline step records what its references named (a moving ref is part of its cache key).
    reads.record(reads.Read("dataset", ref, found.digest, found.name, found.source))
    return found


def versions(name: str, *, context: Context | None = None) -> list[DatasetVersion]:
    """Every version of a dataset, oldest first."""
    store, _, _ = _backend(context)
    return store.list_versions(check_name(name))


def datasets(*, context: Context | None = None) -> list[DatasetVersion]:
    """The latest version of every dataset, by name."""
    store, _, _ = _backend(context)
    return store.list_datasets()


def tag(ref: str, tag_name: str, *, context: Context | None = None) -> DatasetVersion:
    """Point ``tag_name`` at the version ``ref`` names (moving it if it pointed elsewhere)."""
    store, _, _ = _backend(context)
    return store.set_tag(parse_ref(ref), check_tag(tag_name))


TableLike: TypeAlias = "str | os.PathLike[str] | Dataset | pa.Table | pd.DataFrame"
"""What the checks take: a reference, a file, a Dataset, an Arrow table or a DataFrame."""


def _as_table(data: TableLike, context: Context | None = None) -> tuple[pa.Table, str | None, str]:
    """``(table, the stored version's ref or None, a name for reports)``.

    A path (``os.PathLike``, or a string naming an existing CSV, Parquet or JSON
    lines file) is read as it is, so data can be checked before it is versioned.
    """
    import pyarrow as pa

    table, ref, label = _as_checkable(data, context)
    if isinstance(table, pa.Table):
        return table, ref, label
    return pa.Table.from_pandas(table, preserve_index=False), ref, label


def _as_checkable(
    data: TableLike, context: Context | None = None
) -> tuple[pa.Table | pd.DataFrame, str | None, str]:
    """As :func:`_as_table`, but a DataFrame is returned as it is.

    Validation converts only the columns its checks read.
    """
    import pyarrow as pa  # pyarrow loads only when data is checked

    from mloop.data.tabular import read_table

    if isinstance(data, os.PathLike) or (
        isinstance(data, str) and is_tabular(data) and Path(data).is_file()
    ):
        path = Path(data)
        if not path.is_file():
            raise NotFound(f"no file at {str(path)!r} to check")
        return read_table([path]), None, str(path)
    ref = None
    if isinstance(data, str):
        data = get(data, context=context)
    if isinstance(data, Dataset):
        ref, data = data.ref, data.to_arrow()
    if isinstance(data, pa.Table):
        return data, ref, ref or "table"
    if not hasattr(data, "columns"):
        raise InvalidInput(
            "expected a dataset reference, a file, a Dataset, an Arrow table or a DataFrame, "
            f"got {type(data).__name__}"
        )
    return data, ref, "table"


def infer_suite(data: TableLike, name: str | None = None, margin: float = 0.1) -> ExpectationSuite:
    """Propose a suite from reference data: types, nullability, widened ranges, category sets.

    Save it with ``suite.to_yaml(path)``, review it, and check new data with :func:`validate`.
    """
    from mloop.data.inference import infer_from_table  # loads pyarrow

    table, ref, _ = _as_table(data)
    return infer_from_table(table, name or (ref.split("@")[0] if ref else "inferred"), margin)


def validate(
    data: TableLike,
    suite: ExpectationSuite | str | os.PathLike[str],
    *,
    context: Context | None = None,
) -> ValidationResult:
    """Check data (a reference, a file, a Dataset, an Arrow table or a DataFrame) against a suite.

    ``suite`` is an :class:`ExpectationSuite` or the path of a YAML file. Inside
    a run, the result is logged as the artifact ``validation/<suite>.json`` and
    the tag ``mloop.validation.<suite>`` (``passed`` or ``failed``).

    Raises:
        InvalidInput: the suite or the data cannot be read.
        NotFound: the reference names no version.
    """
    from mloop.data.validation import run_suite  # loads pyarrow

    checks = suite if isinstance(suite, ExpectationSuite) else ExpectationSuite.from_yaml(suite)
    table, ref, label = _as_checkable(data, context)
    result = run_suite(table, checks, label)
    active = fluent.active_run()
    if ref is not None:
        store, _, _ = _backend(context)
        store.record_validation(
            parse_ref(ref),
            checks.name,
            result.success,
            dataclasses.asdict(result),
            active.info.run_id if active else None,
        )
    if active is not None:
        fluent.log_dict(dataclasses.asdict(result), f"validation/{checks.name}.json")
        fluent.set_tag(f"mloop.validation.{checks.name}", "passed" if result.success else "failed")
    return result


def diff(a: str, b: str, *, context: Context | None = None) -> dict[str, Any]:
    """What changed from version ``a`` to ``b``: files, and for tables rows, columns, statistics."""
    return diff_versions(get(a, context=context).info, get(b, context=context).info)


def lineage(ref: str, *, context: Context | None = None) -> dict[str, Any]:
    """The run that produced a version and the runs that consumed it.

    Returns ``{"version": ref, "produced_by": run_id | None, "consumed_by":
    [{"run_id": …, "context": …}, …]}``.
    """
    version = get(ref, context=context)
    uses = Client(context=_context(context)).find_io(version.digest)
    consumers = [
        {"run_id": run_id, "context": item.context}
        for run_id, item in uses
        if item.direction == "input"
    ]
    return {"version": version.ref, "produced_by": version.run_id, "consumed_by": consumers}


def detect_pii(data: TableLike) -> dict[str, str]:
    """Columns that likely hold personal data (e-mail, phone, ip, card, national_id), by name.

    Looks at a sample of each text column; pass the result's keys to
    ``add(..., pseudonymize=[...])`` to keep the raw values out of the store.
    """
    from mloop.data.privacy import detect_pii as detect  # loads pyarrow

    table, _, _ = _as_table(data)
    return detect(table)


def validations(ref: str, *, context: Context | None = None) -> list[dict[str, Any]]:
    """The validation results stored with a version, newest first.

    Each is ``{"suite", "success", "run_id", "created_time", "result"}``; ``result``
    is the whole ValidationResult as plain data.
    """
    store, _, _ = _backend(context)
    return store.list_validations(parse_ref(get(ref).ref))


def remove(ref: str, *, context: Context | None = None) -> DatasetVersion:
    """Remove the version ``ref`` names (an explicit number or tag is required).

    Its tags and validation results go with it; its number is never given to
    another version; `mloop gc` reclaims objects nothing else uses.

    Raises:
        InvalidInput: ``ref`` does not name one version explicitly (``name`` or ``name@latest``).
    """
    parsed = parse_ref(ref)
    if parsed.version is None and parsed.tag is None:
        raise InvalidInput(f"say which version to remove, e.g. {parsed.name}@3 (got {ref!r})")
    store, _, _ = _backend(context)
    return store.remove_version(parsed)
