"""SQL implementations of the model registry's stores (SQLite and PostgreSQL).

Example:
    >>> stores = open_model_stores("sqlite:///:memory:")
    >>> stores.models.create_model("credit").name
    'credit'
"""

from __future__ import annotations

from mloop.models.protocols import ModelStores
from mloop.models.sql.aliases import SqlAliasStore
from mloop.models.sql.governance import SqlGovernanceStore, SqlKeyStore
from mloop.models.sql.registry import SqlModelStore
from mloop.tracking.sql.database import Database


def open_model_stores(uri: str) -> ModelStores:
    """Open (creating or migrating as needed) the registry's stores behind ``uri``."""
    database = Database.open(uri)
    return ModelStores(
        models=SqlModelStore(database),
        aliases=SqlAliasStore(database),
        governance=SqlGovernanceStore(database),
        keys=SqlKeyStore(database),
        close=database.dispose,
    )


__all__ = ["open_model_stores"]
