"""``mloop.MlflowClient``: the tracking :class:`~mloop.tracking.client.Client` plus the registry.

MLflow's client does runs and the model registry in one object; mloop keeps
tracking below models, so this class adds MLflow's registry methods to the
tracking client. Every method goes through mloop's registry in the client's
project, as the client's actor: an alias move is held to the alias's
protection (gates, approvals) exactly as :func:`mloop.models.set_alias` is.

Differences from MLflow: version numbers are ints (MLflow's are strings; both
are accepted), versions have no tags and no stages (aliases replace stages),
and a search returns every match in one page.

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
from mloop.models.uris import check_model_name
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


def _order(order_by: Sequence[str] | None) -> list[str]:
    terms = []
    for term in order_by or ():
        field, _, rest = term.strip().partition(" ")
        terms.append(f"{_ORDER_NAMES.get(field, field)} {rest}".strip())
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
        raise InvalidInput(
            "model versions carry no tags in mloop: tag the registered model "
            "(MlflowClient.set_registered_model_tag) or the run instead"
        )
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
        return PagedList(chosen[:max_results])

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
            raise InvalidInput("model versions carry no tags in mloop: tag the model or the run")
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
        """Versions matching ``name``, ``run_id``, ``status`` comparisons, by model then number.

        Example:
            >>> client.search_model_versions("name = 'churn'")  # doctest: +SKIP
        """
        _one_page(page_token)
        found = [
            version
            for model in registry.list_models(context=self.context)
            for version in registry.list_versions(model.name, context=self.context)
        ]
        chosen = entity_filter.select(found, filter_string, _order(order_by), _VERSION_FIELDS)
        return PagedList(chosen[:max_results])

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
            raise InvalidInput(
                f"mloop has no stages ({', '.join(other)}): point an alias at the version "
                f"(set_registered_model_alias) and read it with get_model_version_by_alias"
            )
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
