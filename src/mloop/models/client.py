"""``mloop.MlflowClient``: the tracking :class:`~mloop.tracking.client.Client` plus the registry.

MLflow's client does runs and the model registry in one object; mloop keeps
tracking below models, so this class adds MLflow's registry methods to the
tracking client. Every method goes through mloop's registry in the client's
project, as the client's actor: an alias move is held to the alias's
protection (gates, approvals) exactly as :func:`mloop.models.set_alias` is.

Differences from MLflow: version numbers are ints (MLflow's are strings; both
are accepted), versions have no tags and no stages (aliases replace stages),
a version holding an alias is not deleted (move the alias first), a
registered model is not renamed (copy its versions to the new name), and a
search returns every match in one page. Each refused method says what to use.

Example:
    >>> import mloop, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> home = tempfile.mkdtemp()
    >>> client = mloop.MlflowClient(f"sqlite:///{home}/mloop.db", f"{home}/artifacts")
    >>> _ = client.create_registered_model("line", tags={"team": "risk"})
    >>> path = f"{home}/m"
    >>> _ = mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    >>> version = client.create_model_version("line", path)
    >>> client.set_registered_model_alias("line", "champion", version.version)
    >>> client.get_model_version_by_alias("line", "champion").version
    1
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.entities import ModelVersion, PagedList, RegisteredModel
from mloop.errors import InvalidInput, NotFound
from mloop.models import api, registry
from mloop.models.backend import backend
from mloop.models.fetch import locate
from mloop.models.uris import check_model_name, parse_model_uri
from mloop.tracking import entity_filter
from mloop.tracking.client import Client

_MODEL_FIELDS = frozenset({"name", "created_time", "updated_time", "latest_version"})
_VERSION_FIELDS = frozenset({"name", "version", "run_id", "status", "source", "created_time"})
# MLflow's names for the fields that order its searches.
_ORDER_NAMES = {
    "creation_timestamp": "created_time",
    "last_updated_timestamp": "updated_time",
    "timestamp": "created_time",
}
# A version is never updated: its last update is its creation.
_VERSION_ORDER_NAMES = {
    **_ORDER_NAMES,
    "last_updated_timestamp": "created_time",
    "version_number": "version",
}
# MLflow's default order for versions: newest first.
_VERSION_ORDER = ["created_time DESC", "name ASC", "version DESC"]
_NO_STAGES = (
    "mloop has no model stages: point an alias at the version "
    "(set_registered_model_alias) and read it with get_model_version_by_alias"
)
_NO_VERSION_TAGS = (
    "model versions carry no tags in mloop (they are immutable, signed records): "
    "tag the registered model (set_registered_model_tag) or the run instead"
)
# What MLflow's scripts pass as a source: the run's artifact root and a path in it.
_RUN_ARTIFACTS = "mloop-artifacts:/"


def _source(uri: str | os.PathLike[str]) -> str:
    text = os.fspath(uri)
    if text.startswith(_RUN_ARTIFACTS):  # f"{run.info.artifact_uri}/model", as MLflow writes it
        return "runs:/" + text.removeprefix(_RUN_ARTIFACTS).lstrip("/")
    return text


def _number(version: int | str) -> int:
    text = str(version)
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"a version number is an int from 1 (or its string), got {version!r}")
    return int(text)


def _order(order_by: Sequence[str] | None, names: Mapping[str, str] = _ORDER_NAMES) -> list[str]:
    terms = []
    for term in order_by or ():
        field, _, rest = term.strip().partition(" ")
        terms.append(f"{names.get(field, field)} {rest}".strip())
    return terms


def _one_page(page_token: str | None) -> None:
    if page_token:
        raise InvalidInput("mloop returns every match in one page: there is no next page token")


def register_model(
    model_uri: str | os.PathLike[str],
    name: str,
    await_registration_for: int = 300,
    *,
    tags: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as a new version of ``name`` (MLflow's name).

    The same as :func:`mloop.models.register`, in the fluent API's project.
    ``await_registration_for`` is accepted for MLflow's scripts: registration
    here is done when the call returns.

    Raises:
        InvalidInput: a bad name or URI, or ``tags`` (versions have no tags in mloop).
        NotFound: no model package at ``model_uri``.

    Example:
        >>> import mloop
        >>> mloop.register_model(f"runs:/{run_id}/model", "credit").version  # doctest: +SKIP
        1
    """
    del await_registration_for
    if tags:
        raise InvalidInput(_NO_VERSION_TAGS)
    return api.register(_source(model_uri), name)


class MlflowClient(Client):
    """MLflow's client: tracking by id, plus the model registry in the client's project.

    Example:
        >>> import mloop, tempfile
        >>> home = tempfile.mkdtemp()
        >>> client = mloop.MlflowClient(f"sqlite:///{home}/mloop.db", f"{home}/artifacts")
        >>> client.create_registered_model("credit").name
        'credit'
    """

    # -- registered models ---------------------------------------------------
    def create_registered_model(
        self, name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create an empty registered model, owned by the client's actor.

        Raises:
            AlreadyExists: the project has a model of that name.

        Example:
            >>> client.create_registered_model("churn")  # doctest: +SKIP
        """
        be = backend(self.context)
        be.stores.models.create_model(
            check_model_name(name), description=description or "", owner=be.actor
        )
        if tags:
            return self.set_registered_model_tags(name, tags)
        return self.get_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """A registered model with its tags, aliases and latest version number.

        Example:
            >>> client.get_registered_model("churn").aliases  # doctest: +SKIP
            {'champion': 2}
        """
        return registry.get_model(name, context=self.context)

    def set_registered_model_tags(self, name: str, tags: Mapping[str, Any]) -> RegisteredModel:
        """Set several tags of a registered model at once.

        Example:
            >>> client.set_registered_model_tags("churn", {"team": "risk"})  # doctest: +SKIP
        """
        changes: dict[str, str | None] = {k: str(v) for k, v in tags.items()}
        return registry.update_model(name, tags=changes, context=self.context)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set one tag of a registered model (MLflow's name).

        Example:
            >>> client.set_registered_model_tag("churn", "team", "risk")  # doctest: +SKIP
        """
        self.set_registered_model_tags(name, {key: value})

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model and its versions; refused while an alias points at one.

        Example:
            >>> client.delete_registered_model("churn")  # doctest: +SKIP
        """
        registry.delete_model(name, context=self.context)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Registered models matching ``name``/``tags.<key>`` comparisons, by name.

        Example:
            >>> client.search_registered_models("name LIKE 'ch%'")  # doctest: +SKIP
        """
        _one_page(page_token)
        found = registry.list_models(context=self.context)
        chosen = entity_filter.select(found, filter_string, _order(order_by), _MODEL_FIELDS)
        be = backend(self.context)
        return PagedList([registry.with_latest(be, m) for m in chosen[:max_results]])

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """Change a registered model's description (None leaves it as it is).

        Raises:
            NotFound: no such model.

        Example:
            >>> client.update_registered_model("churn", "Who leaves next month").description
            ... # doctest: +SKIP
            'Who leaves next month'
        """
        registry.update_model(name, description=description, context=self.context)
        return self.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Refused: a registered model keeps its name in mloop.

        Its aliases' history, approvals and gate results are recorded under the
        name, and ``models:/NAME`` URIs in deployed code keep working.
        Copy the versions to a new model with :meth:`copy_model_version`.

        Raises:
            InvalidInput: always, saying what to do instead.

        Example:
            >>> client.rename_registered_model("churn", "churn-v2")  # doctest: +SKIP
            Traceback (most recent call last):
            mloop.errors.InvalidInput: ...
        """
        raise InvalidInput(
            f"mloop does not rename registered models ({name!r} -> {new_name!r}): copy each "
            f"version with copy_model_version('models:/{name}/N', {new_name!r}), then delete "
            f"the old model if it is no longer wanted"
        )

    # -- versions --------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str | os.PathLike[str],
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Register the package at ``source`` (``runs:/``, the run's artifact URI, a folder).

        The version's run is the one ``source`` names; ``run_id`` and
        ``run_link`` are accepted for MLflow's scripts.

        Raises:
            InvalidInput: ``tags`` given (versions have no tags in mloop).
            NotFound: no model package at ``source``.

        Example:
            >>> client.create_model_version("churn", f"runs:/{run_id}/model")  # doctest: +SKIP
        """
        del run_id, run_link
        if tags:
            raise InvalidInput(_NO_VERSION_TAGS)
        return api.register(
            _source(source), name, description=description or "", context=self.context
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """One version of a registered model.

        Example:
            >>> client.get_model_version("churn", "2").version  # doctest: +SKIP
            2
        """
        return registry.get_version(name, _number(version), context=self.context)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching ``name``, ``run_id``, ``status`` comparisons; newest first, as MLflow.

        Example:
            >>> client.search_model_versions("name = 'churn'")  # doctest: +SKIP
        """
        _one_page(page_token)
        found = [
            version
            for model in registry.list_models(context=self.context)
            for version in registry.list_versions(model.name, context=self.context)
        ]
        order = _order(order_by, _VERSION_ORDER_NAMES) or _VERSION_ORDER
        chosen = entity_filter.select(found, filter_string, order, _VERSION_FIELDS)
        return PagedList(chosen[:max_results])

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        """The version, unchanged; a new description is refused (versions are immutable).

        Raises:
            InvalidInput: a ``description`` given: describe the version when it is
                registered (``create_model_version(description=)``), or the model.

        Example:
            >>> client.update_model_version("churn", 2).version  # doctest: +SKIP
            2
        """
        found = self.get_model_version(name, version)
        if description is not None and description != found.description:
            raise InvalidInput(
                f"model version {found.ref} is an immutable record: its description is given "
                f"when it is registered (create_model_version(..., description=)); describe "
                f"the model instead with update_registered_model({name!r}, description=...)"
            )
        return found

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version; its number is never given out again (`mloop gc` frees its files).

        Raises:
            Conflict: an alias points at the version (MLflow would drop the alias;
                mloop keeps governed aliases safe: move or delete it first).
            NotFound: no such model or version.

        Example:
            >>> client.delete_model_version("churn", 1)  # doctest: +SKIP
        """
        registry.delete_version(name, _number(version), context=self.context)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """A local folder holding the version's files, fetched and verified on first call.

        Example:
            >>> client.get_model_version_download_uri("churn", 2)  # doctest: +SKIP
            '/home/ana/.mloop/models/3f…'
        """
        uri = f"models:/{check_model_name(name)}/{_number(version)}"
        return str(locate(backend(self.context), parse_model_uri(uri), uri).folder())

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Register the package of a version (``models:/NAME/N``, ``@alias``) under ``dst_name``.

        The destination model is created if needed; the new version records the
        source URI and the source version's run.

        Raises:
            InvalidInput: ``src_model_uri`` is not a ``models:/`` URI.
            NotFound: no such source version.

        Example:
            >>> client.copy_model_version("models:/churn@champion", "churn-eu").version
            ... # doctest: +SKIP
            1
        """
        parsed = parse_model_uri(src_model_uri)
        if parsed.kind != "models":
            raise InvalidInput(
                f"copy_model_version copies a registered version: give a models:/NAME/N or "
                f"models:/NAME@alias URI, got {src_model_uri!r}"
            )
        source = registry.get_version(src_model_uri.removeprefix("models:/"), context=self.context)
        return api.register(
            source.uri, dst_name, description=source.description, context=self.context
        )

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Refused: mloop versions have no stages; aliases replace them.

        Raises:
            InvalidInput: always, naming the alias methods to use.

        Example:
            >>> client.transition_model_version_stage("churn", 2, "Production")  # doctest: +SKIP
            Traceback (most recent call last):
            mloop.errors.InvalidInput: ...
        """
        del archive_existing_versions
        raise InvalidInput(
            f"{_NO_STAGES}, e.g. set_registered_model_alias({name!r}, "
            f"{stage.lower()!r}, {str(version)!r}) instead of stage {stage!r}"
        )

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        """Refused: versions carry no tags in mloop.

        Raises:
            InvalidInput: always, saying where a tag goes instead.

        Example:
            >>> client.set_model_version_tag("churn", 2, "k", "v")  # doctest: +SKIP
            Traceback (most recent call last):
            mloop.errors.InvalidInput: ...
        """
        del name, version, key, value
        raise InvalidInput(_NO_VERSION_TAGS)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The latest version, in a list (MLflow's stages are aliases in mloop).

        Only the stage ``"None"`` is understood (mloop versions have no stage);
        for a version by role use :meth:`get_model_version_by_alias`.

        Raises:
            InvalidInput: a stage other than ``"None"``.

        Example:
            >>> client.get_latest_versions("churn")[0].version  # doctest: +SKIP
            2
        """
        other = [s for s in stages or () if s.lower() != "none"]
        if other:
            raise InvalidInput(f"{_NO_STAGES} (asked for {', '.join(other)})")
        try:
            return [registry.get_version(name, context=self.context)]
        except NotFound:
            registry.get_model(name, context=self.context)  # an unknown model says so
            return []

    # -- aliases ----------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version``, held to the alias's protection like any move.

        Raises:
            PermissionDenied: the alias is protected and the version lacks a gate or approvals.

        Example:
            >>> client.set_registered_model_alias("churn", "champion", 2)  # doctest: +SKIP
        """
        registry.set_alias(name, alias, _number(version), context=self.context)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias (recorded in its history).

        Example:
            >>> client.delete_registered_model_alias("churn", "champion")  # doctest: +SKIP
        """
        registry.delete_alias(name, alias, context=self.context)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at.

        Raises:
            NotFound: no such model, or the alias is not set.

        Example:
            >>> client.get_model_version_by_alias("churn", "champion").version  # doctest: +SKIP
            2
        """
        return registry.get_version(f"{check_model_name(name)}@{alias}", context=self.context)
