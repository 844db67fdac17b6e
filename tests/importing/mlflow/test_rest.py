from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest

from mloop.config import Settings
from mloop.context.context import Context
from mloop.context.opening import open_context
from mloop.errors import InvalidInput, StoreError
from mloop.importing.mlflow import import_mlflow
from mloop.importing.mlflow.rest import tag_map
from mloop.models import registry
from tests.importing.mlflow.checks import check_all
from tests.importing.mlflow.stores import MlflowStore, free_port


@pytest.fixture
def context(home: Path) -> Context:
    return open_context(
        Settings(tracking_uri=f"sqlite:///{home}/mloop.db", artifacts_uri=str(home / "a"))
    )


def test_a_running_server_comes_over_whole_and_once(
    server_store: MlflowStore, context: Context
) -> None:
    started = time.monotonic()
    check_all(server_store, context)
    assert time.monotonic() - started < 30


def test_its_database_needs_the_server_for_proxied_artifacts(
    server_store: MlflowStore, context: Context
) -> None:
    assert server_store.database is not None
    alone = import_mlflow(server_store.database, context=context)
    assert alone.runs.brought == 0
    reason = "run mloop cannot store"
    assert len(alone.skipped[reason]) == 3
    assert "--server http://HOST:PORT" in alone.details[(reason, alone.skipped[reason][0])]
    assert (alone.versions.brought, alone.models.brought) == (0, 0)
    assert alone.skipped["model none of whose versions could be brought"] == ["legacy", "scorer"]
    assert registry.list_models(context=context) == []
    served = import_mlflow(server_store.database, server=server_store.server, context=context)
    assert (served.runs.brought, served.versions.brought, served.aliases.brought) == (3, 3, 1)
    assert served.artifact_files.brought >= 2


def test_a_server_with_nothing_listening(context: Context) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError, match=f"cannot reach the MLflow server at {url}"):
        import_mlflow(url, context=context)


def test_a_web_server_that_is_not_mlflow(context: Context, tmp_path: Path) -> None:
    handler = http.server.SimpleHTTPRequestHandler
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(InvalidInput, match="is not an MLflow server: it answered"):
            import_mlflow(url, context=context)
    finally:
        server.shutdown()
        server.server_close()


def test_tags_come_as_a_list_of_pairs() -> None:
    assert tag_map([{"key": "a", "value": "1"}, {"key": "b"}]) == {"a": "1", "b": ""}
    assert tag_map(None) == {}
