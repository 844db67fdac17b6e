"""Writing MLflow registered models, their versions and aliases into mloop's registry.

A version becomes an mloop model package of the ``mlflow`` flavor
(:mod:`mloop.models.flavors.mlflow_folder`): the MLflow model folder's files
unchanged, with a manifest listing their digests, registered through
:func:`mloop.models.api.register`, so it is signed by the importing project's
key when the project signs and every load goes through mloop's one verified
path. What MLflow knew of the version that mloop versions do not hold as
fields (its number, stage, tags, source, logged-model id) is kept in the
manifest's ``metadata["mlflow"]``, signed with the rest.

A version records ``mlflow:models:/<name>/<version>?run_id=<MLflow run id>``
as its source (``?store=<the store>`` for a version no run made, see
:func:`version_key`): that is how a second import knows it is there, and why
the versions of a second MLflow store, with the same names and numbers, come
as new versions. Numbers follow MLflow's when the model
is new to mloop and MLflow's numbers have no gaps (versions are registered in
order); otherwise mloop numbers them on and the MLflow number stays in the
metadata. Only READY versions are brought. An alias is set once, through
:func:`mloop.models.registry.set_alias` (a protected alias keeps its rules);
an alias already set in mloop, wherever it points, is left as it is, as are
a model's description and tags; where they differ from MLflow's, the summary
notes it. MLflow's
stage and tags of a version are also shown as model tags
``mloop.import.version.<n>.stage`` and ``mloop.import.version.<n>.tag.<key>``
(mloop versions carry no tags of their own). A version whose MLflow run was
imported is recorded as an output of that run, named by the path the run
logged it under, so ``runs:/<run id>/<path>`` loads it as MLflow users do.

Example:
    >>> version_source("scorer", 2)
    'mlflow:models:/scorer/2'
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mloop.context.context import Context
from mloop.entities import RegisteredModel, RunIO
from mloop.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mloop.importing.mlflow.artifacts import ArtifactFile, local_path
from mloop.importing.mlflow.records import ModelRecord, VersionRecord
from mloop.importing.mlflow.runs import SOURCE_TAG
from mloop.importing.mlflow.source import Source
from mloop.importing.mlflow.summary import ImportSummary
from mloop.models import api, registry
from mloop.models.flavors.mlflow_folder import MlflowModelFolder
from mloop.models.package import PackageSpec, write_package
from mloop.models.uris import check_model_name

MODEL_TAG = "mloop.import.mlflow_model"
"""The tag marking a registered model brought from MLflow (its MLflow name)."""

VERSION_TAG_PREFIX = "mloop.import.version."
"""Model tags ``mloop.import.version.<n>.stage`` and ``.tag.<key>``: a version's MLflow facts."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_DIFFERS = "{} that differs in MLflow, left as it is in mloop"


def version_source(name: str, version: int) -> str:
    """How the summary names an MLflow version (and the source older imports recorded)."""
    return f"mlflow:models:/{name}/{version}"


def version_key(version: VersionRecord, store: str) -> str:
    """What an imported version records as its source: which MLflow version of which store.

    The MLflow run that made the version names it across stores (and across the
    ways of reading one store: its database or its server); a version made by
    no run is named by the store it came from.

    Example:
        >>> version_key(VersionRecord("scorer", 2, "", "", run_id="9f3a"), "/data/mlruns")
        'mlflow:models:/scorer/2?run_id=9f3a'
        >>> version_key(VersionRecord("scorer", 3, "", ""), "/data/mlruns")
        'mlflow:models:/scorer/3?store=/data/mlruns'
    """
    origin = f"run_id={version.run_id}" if version.run_id else f"store={store}"
    return f"{version_source(version.model_name, version.version)}?{origin}"


class ModelWriter:
    """Brings registered models, versions and aliases into the registry of ``context``."""

    def __init__(
        self,
        context: Context,
        source: Source,
        summary: ImportSummary,
        scratch: Path,
        runs: Mapping[str, str],
        artifact_uris: Mapping[str, str],
    ) -> None:
        self.context = context
        self.source = source
        self.summary = summary
        self.scratch = scratch
        self.runs = runs  # MLflow run id -> mloop run id
        self.artifact_uris = artifact_uris

    def model(self, record: ModelRecord, versions: list[VersionRecord]) -> None:
        """Bring one model with the given versions, then its aliases.

        A model whose name mloop refuses is left out, with the reason.
        """
        try:
            check_model_name(record.name)
        except InvalidInput as err:
            self.summary.skip("model mloop cannot store", record.name, str(err))
            return
        existing = self._existing(record.name)
        numbers: dict[int, int] = {}  # MLflow version number -> mloop's
        ready: list[tuple[VersionRecord, str, list[ArtifactFile]]] = []
        for version in versions:
            source = version_source(record.name, version.version)
            there = self._there(existing or {}, version)
            if there is not None:
                numbers[version.version] = there
                self.summary.versions.already += 1
            elif version.status != "READY":
                self.summary.skip(f"version not ready ({version.status})", source)
            else:
                found = self._files(version)
                if found is not None:
                    ready.append((version, *found))
        if existing is None and versions and not ready:
            self.summary.skip("model none of whose versions could be brought", record.name)
            return
        if existing is None:
            self.summary.models.brought += 1
        else:
            self.summary.models.already += 1
            self._differences(record)
        if not self.summary.dry_run:
            self._describe(record)
        for version, uri, files in ready:
            number = self._version(version, uri, files)
            if number is not None:
                numbers[version.version] = number
        if not self.summary.dry_run:
            self._version_tags(record.name, versions, numbers)
            self._run_outputs(record.name, versions, numbers)
        self._aliases(record, numbers)

    def _run_outputs(
        self, name: str, versions: list[VersionRecord], numbers: Mapping[int, int]
    ) -> None:
        """Each version as an output of its imported run, named by the path it was logged under.

        That is what makes ``runs:/RUN/PATH`` load it
        (:func:`mloop.models.fetch.produced_version`).

        Recorded for versions brought before too (logging one again changes nothing),
        so an import stopped between a version and its output completes the next time.
        """
        for version in versions:
            number = numbers.get(version.version)
            run_id = self.runs.get(version.run_id or "")
            if number is None or run_id is None:
                continue
            path = self._run_path(version)
            if not path:
                continue
            stored = self.context.stores.models.get_version(name, number)
            output = RunIO(
                stored.digest,
                path,
                "model",
                "output",
                source=f"models:/{name}/{number}",
                context="imported from MLflow",
            )
            self.context.stores.runs.log_io(run_id, [output])

    def _version_tags(
        self, name: str, versions: list[VersionRecord], numbers: Mapping[int, int]
    ) -> None:
        """MLflow's version stages and tags as model tags (mloop versions carry no tags).

        ``mloop.import.version.<n>.stage`` and ``mloop.import.version.<n>.tag.<key>``,
        where ``n`` is the mloop version number; set when missing.
        """
        model = self._model_or_none(name)
        if model is None:
            return
        wanted: dict[str, str | None] = {}
        for version in versions:
            number = numbers.get(version.version)
            if number is None:
                continue
            prefix = f"{VERSION_TAG_PREFIX}{number}."
            if version.stage and version.stage != "None":
                wanted[f"{prefix}stage"] = version.stage
            wanted.update({f"{prefix}tag.{k}": v for k, v in version.tags.items()})
        for key, value in sorted(wanted.items()):
            if key in model.tags and model.tags[key] != value:
                self.summary.note(_DIFFERS.format("version stage or tag"), f"{name}: {key}")
        missing = {k: v for k, v in wanted.items() if k not in model.tags and len(k) <= 250}
        if missing:
            registry.update_model(name, tags=missing, context=self.context)

    def _run_path(self, version: VersionRecord) -> str:
        """The path a version's run logged it under; empty when it is not known.

        For a folder in the run's artifacts registered with ``runs:/RUN/PATH``,
        MLflow 3 records its location, not the URI: the path inside the artifacts.
        """
        if version.run_path:
            return version.run_path
        base = self.artifact_uris.get(version.run_id or "", "")
        if not base or not version.files_uri:
            return ""
        files, root = version.files_uri.rstrip("/"), base.rstrip("/")
        if files.startswith(root + "/"):
            return files[len(root) + 1 :].strip("/")
        try:
            local = self.source.artifacts.kind(files) == self.source.artifacts.kind(root) == "local"
        except InvalidInput:  # a location the import does not read
            return ""
        inner, outer = local_path(files), local_path(root)
        if local and inner.is_relative_to(outer) and inner != outer:
            return inner.relative_to(outer).as_posix()
        return ""

    def _existing(self, name: str) -> dict[str, int] | None:
        """``{source: version number}`` of a model already in mloop, or None.

        Versions an older import recorded as ``mlflow:models:/NAME/N`` (no store
        named) count as this store's when the model came from this store.
        """
        try:
            model = registry.get_model(name, context=self.context)
        except NotFound:
            return None
        found = {v.source: v.version for v in registry.list_versions(name, context=self.context)}
        if model.tags.get(SOURCE_TAG) != self.source.description:
            found = {k: v for k, v in found.items() if "?" in k}
        return found

    def _there(self, existing: Mapping[str, int], version: VersionRecord) -> int | None:
        """The mloop number of an MLflow version imported before, or None."""
        for key in (
            version_key(version, self.source.identity),
            version_source(version.model_name, version.version),
        ):
            if key in existing:
                return existing[key]
        return None

    def _differences(self, record: ModelRecord) -> None:
        """Note where a model already in mloop differs from MLflow's now (mloop's stands)."""
        model = self._model_or_none(record.name)
        if model is None:
            return
        if record.description and record.description != model.description:
            self.summary.note(_DIFFERS.format("model description"), record.name)
        for key, value in sorted(record.tags.items()):
            if key in model.tags and model.tags[key] != value:
                self.summary.note(_DIFFERS.format("model tag"), f"{record.name}: {key}")

    def _describe(self, record: ModelRecord) -> None:
        model = self._model_or_none(record.name)
        have = dict(model.tags) if model is not None else {}
        tags: dict[str, str | None] = {
            k: v for k, v in record.tags.items() if k not in have and 0 < len(k) <= 250
        }
        if MODEL_TAG not in have:
            tags[MODEL_TAG] = record.name
            tags[SOURCE_TAG] = self.source.description
        if model is None:
            self.context.stores.models.create_model(
                record.name, description=record.description, owner=self.context.actor.name
            )
        if tags:
            registry.update_model(record.name, tags=tags, context=self.context)

    def _model_or_none(self, name: str) -> RegisteredModel | None:
        try:
            return registry.get_model(name, context=self.context)
        except NotFound:
            return None

    def _files(self, version: VersionRecord) -> tuple[str, list[ArtifactFile]] | None:
        """Where a version's files are and which they are; None when it is left out."""
        where = version_source(version.model_name, version.version)
        try:
            uri = self._files_uri(version)
            self.source.artifacts.check(uri)
            gone = self.source.artifacts.missing(uri, required=True)
            files = self.source.artifacts.list_files(uri)
        except InvalidInput as err:
            self.summary.skip("version files unreadable", where, str(err))
            return None
        if gone is not None:
            self.summary.skip("version files missing", where, gone)
            return None
        if not any(f.path == "MLmodel" for f in files):
            self.summary.skip("version without an MLmodel file", where)
            return None
        return uri, files

    def _version(self, version: VersionRecord, uri: str, files: list[ArtifactFile]) -> int | None:
        """Register one version; its number, or None on a dry run."""
        self.summary.versions.brought += 1
        if self.summary.dry_run:
            return None
        folder = self.scratch / f"{version.model_name}-{version.version}"
        local = folder / "mlflow"
        for item in files:
            found = self.source.artifacts.fetch(uri, item.path, folder / "download")
            (local / item.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(found, local / item.path)
        mlmodel = yaml.load((local / "MLmodel").read_bytes(), Loader=_Loader) or {}
        spec = PackageSpec(
            metadata={"mlflow": _metadata(version, self._run_path(version))},
            run_id=self.runs.get(version.run_id or ""),
            flavor="mlflow",
        )
        write_package(MlflowModelFolder(local, mlmodel), folder / "package", spec)
        registered = api.register(
            folder / "package",
            version.model_name,
            description=version.description,
            source=version_key(version, self.source.identity),
            context=self.context,
        )
        shutil.rmtree(folder, ignore_errors=True)
        return registered.version

    def _files_uri(self, version: VersionRecord) -> str:
        uri = version.files_uri
        if uri.startswith("runs:/"):  # an MLflow 2 version logged in a run's artifacts
            run_id, _, path = uri.removeprefix("runs:/").partition("/")
            base = self.artifact_uris.get(run_id)
            if base is None:
                raise InvalidInput(f"its files are in run {run_id}, which was not read")
            return f"{base}/{path}".rstrip("/")
        return uri

    def _aliases(self, record: ModelRecord, numbers: Mapping[int, int]) -> None:
        if not record.aliases:
            return
        model = self._model_or_none(record.name)
        have = dict(model.aliases) if model is not None else {}
        for alias, mlflow_version in sorted(record.aliases.items()):
            number = numbers.get(mlflow_version)
            if alias in have:
                self.summary.aliases.already += 1
                if number is not None and have[alias] != number:
                    self.summary.note(
                        "alias that points to another version in MLflow, left where it is in mloop",
                        f"{record.name}@{alias} (MLflow: {mlflow_version}, mloop: {have[alias]})",
                    )
            elif number is None and not self.summary.dry_run:
                self.summary.skip("alias of a version not brought", f"{record.name}@{alias}")
            else:
                self.summary.aliases.brought += 1
                if number is not None:
                    self._set_alias(record.name, alias, number)

    def _set_alias(self, name: str, alias: str, number: int) -> None:
        try:
            registry.set_alias(
                name, alias, number, reason="imported from MLflow", context=self.context
            )
        except (PermissionDenied, Conflict) as err:  # a protected alias: its rules stand
            self.summary.aliases.brought -= 1
            self.summary.skip("alias refused", f"{name}@{alias}", str(err))


def _metadata(version: VersionRecord, run_path: str) -> dict[str, Any]:
    return {
        "name": version.model_name,
        "version": version.version,
        "stage": version.stage,
        "tags": dict(version.tags),
        "source": version.source,
        "run_id": version.run_id,
        "model_id": version.model_id,
        "artifact_path": run_path or None,
        "creation_time": version.creation_time,
    }
