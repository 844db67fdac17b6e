from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from mloop.models.backend import backend
from mloop.models.package import MANIFEST
from tests.models.conftest import FEATURES, corrupt_object, fit_classifier, log_and_register


def test_log_model_records_the_package_as_a_run_output(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    with mloop.start_run() as run:
        mloop.log_metric("auc", 0.9)
        info = mloop.models.log_model(classifier, "clf", input_example=credit[FEATURES][:2])
    assert info.model_uri == f"runs:/{run.info.run_id}/clf"
    assert info.flavor == "sklearn"
    outputs = mloop.get_run(run.info.run_id).outputs
    assert [(o.kind, o.digest, o.source) for o in outputs] == [
        ("model", info.digest, info.model_uri)
    ]
    names = {a.path for a in mloop.Client().list_artifacts(run.info.run_id, "clf")}
    assert names == {"clf/model.skops", "clf/input_example.json", f"clf/{MANIFEST}"}


def test_log_model_starts_a_run_when_none_is_active(home: Path, classifier: Any) -> None:
    info = mloop.models.log_model(classifier)
    active = mloop.active_run()
    assert active is not None
    assert active.info.run_id == info.run_id
    mloop.end_run()


def test_loading_by_every_kind_of_uri_gives_the_same_predictions(
    home: Path, tmp_path: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    info = log_and_register(classifier, credit)
    assert info.registered_version is not None
    mloop.models.set_alias("credit", "champion", 1)
    folder = tmp_path / "pkg"
    mloop.models.save(classifier, folder, input_example=credit[FEATURES][:3])
    expected = classifier.predict(credit[FEATURES])
    for uri in (
        info.model_uri,
        "models:/credit/1",
        "models:/credit@champion",
        "models:/credit/latest",
        "models:/credit",
        folder,
        str(folder),
        info,
        info.registered_version,
    ):
        model = mloop.models.load(uri)
        np.testing.assert_array_equal(model.predict(credit[FEATURES]), expected)
        np.testing.assert_allclose(
            model.predict_proba(credit[FEATURES]), classifier.predict_proba(credit[FEATURES])
        )


def test_records_and_columns_in_any_order_are_accepted(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    model = mloop.models.load(log_and_register(classifier, credit).model_uri)
    row = credit.iloc[0]
    expected = classifier.predict(credit[FEATURES][:1])
    assert model.predict([{"debt": row.debt, "income": row.income}]).tolist() == expected.tolist()
    assert model.predict({"income": row.income, "debt": row.debt}).tolist() == expected.tolist()
    with pytest.raises(InvalidInput, match="'debt' has type string, expected float64"):
        model.predict([{"income": 1.0, "debt": "high"}])


def test_a_loaded_model_is_cached_by_digest(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    info = log_and_register(classifier, credit)
    first = mloop.models.load("models:/credit/1")
    second = mloop.models.load(info.model_uri)
    assert first.model is second.model  # the same package: loaded once
    assert second.uri == info.model_uri
    mloop.models.clear_cache()
    assert mloop.models.load("models:/credit/1").model is not first.model


def test_a_model_without_probabilities_has_no_predict_proba(home: Path, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    x = np.array([[1.0], [2.0], [3.0]])
    mloop.models.save(LinearRegression().fit(x, [2.0, 4.0, 6.0]), tmp_path / "m")
    model = mloop.models.load(tmp_path / "m")
    assert not hasattr(model, "predict_proba")
    assert isinstance(model, mloop.models.LoadedModel)
    np.testing.assert_allclose(model.predict(x), [2.0, 4.0, 6.0])
    assert "sklearn" in repr(model)


def test_register_from_a_folder_stores_the_files(
    home: Path, tmp_path: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    folder = tmp_path / "pkg"
    mloop.models.save(classifier, folder, input_example=credit[FEATURES][:2])
    version = mloop.models.register(folder, "from-disk", description="hand-made")
    shutil.rmtree(folder)  # the registry has its own copy
    assert (version.ref, version.description, version.run_id) == ("from-disk/1", "hand-made", None)
    model = mloop.models.load("models:/from-disk/1")
    np.testing.assert_array_equal(
        model.predict(credit[FEATURES]), classifier.predict(credit[FEATURES])
    )


def test_register_snapshots_the_run_metrics_and_author(
    home: Path, monkeypatch: pytest.MonkeyPatch, credit: pd.DataFrame, classifier: Any
) -> None:
    monkeypatch.setenv("MLOOP_USER", "ana")
    with mloop.start_run():
        mloop.log_metric("auc", 0.91)
        info = mloop.models.log_model(classifier, registered_model_name="credit")
    version = info.registered_version
    assert version is not None
    assert (version.metrics, version.created_by, version.source) == (
        {"auc": 0.91},
        "ana",
        info.model_uri,
    )
    again = mloop.models.register("models:/credit/1", "credit-copy")
    assert again.digest == version.digest
    assert again.run_id == version.run_id


def test_versions_count_up(home: Path, credit: pd.DataFrame) -> None:
    log_and_register(fit_classifier(credit, 1.0), credit)
    log_and_register(fit_classifier(credit, 0.1), credit)
    assert [v.version for v in mloop.models.list_versions("credit")] == [1, 2]
    assert mloop.models.get_model("credit").latest_version == 2


@pytest.mark.parametrize(
    ("uri", "error", "message"),
    [
        ("models:/nope/1", NotFound, "'nope' not found"),
        ("models:/credit/9", NotFound, "no version 9"),
        ("models:/credit@nobody", NotFound, "no alias 'nobody'"),
        ("models:/credit/x", InvalidInput, "version number"),
        ("models:/bad name/1", InvalidInput, "invalid model name"),
        ("runs:/short/model", InvalidInput, "32-hex run id"),
        ("runs:/" + "0" * 32 + "/model", NotFound, "no model package"),
        ("s3://bucket/model", InvalidInput, "unsupported model URI"),
        ("/no/such/folder", NotFound, "not a model package"),
    ],
)
def test_bad_uris(
    home: Path,
    credit: pd.DataFrame,
    classifier: Any,
    uri: str,
    error: type[Exception],
    message: str,
) -> None:
    log_and_register(classifier, credit)
    with pytest.raises(error, match=message):
        mloop.models.load(uri)


def test_a_run_without_a_package_there_is_not_found(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    info = log_and_register(classifier, credit)
    with pytest.raises(NotFound, match="no model package at 'elsewhere'"):
        mloop.models.load(f"runs:/{info.run_id}/elsewhere")


def test_bad_registration_input(home: Path, credit: pd.DataFrame, classifier: Any) -> None:
    with pytest.raises(InvalidInput, match="invalid model name"):
        mloop.models.register("/tmp", "has space")
    with mloop.start_run(), pytest.raises(InvalidInput, match="invalid model name"):
        mloop.models.log_model(classifier, registered_model_name="a/b")
    with pytest.raises(NotFound, match="not a model package"):
        mloop.models.register("/definitely/not/here", "x")


def test_a_corrupted_stored_object_is_refused(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    log_and_register(classifier, credit)
    version = mloop.models.get_version("credit/1")
    full = backend().stores.models.get_version("credit", 1, with_files=True)
    model_file = next(f for f in full.files if f.path == "model.skops")
    corrupt_object(model_file.digest)
    shutil.rmtree(home / "models", ignore_errors=True)  # no local copy: loads read the store
    mloop.models.clear_cache()
    with pytest.raises(IntegrityError):
        mloop.models.load(version.uri)
    with pytest.raises(IntegrityError):
        mloop.models.verify("credit/1")


def test_a_tampered_local_copy_is_fetched_again(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    log_and_register(classifier, credit)
    model = mloop.models.load("models:/credit/1")
    target = model.path / "model.skops"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes()[:-5] + b"xxxxx")
    mloop.models.clear_cache()
    mloop.models.load("models:/credit/1")  # the store's copy is intact: fetched again
    assert not target.read_bytes().endswith(b"xxxxx")
    assert mloop.models.verify("credit/1").repaired == []


def test_a_run_artifact_replaced_after_logging_is_refused(
    home: Path, tmp_path: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    info = log_and_register(classifier, credit)
    fake = tmp_path / "model.skops"
    fake.write_bytes(b"not the model")
    mloop.Client().log_artifact(info.run_id, fake, "model")
    mloop.models.clear_cache()
    with pytest.raises(IntegrityError, match="replaced after the model was logged"):
        mloop.models.load(info.model_uri)


def test_a_logged_model_is_never_overwritten(home: Path, credit: pd.DataFrame) -> None:
    with mloop.start_run():
        first = mloop.models.log_model(fit_classifier(credit, 1.0), "m")
        with pytest.raises(AlreadyExists, match="already has artifacts at 'm'"):
            mloop.models.log_model(fit_classifier(credit, 0.001), "m/")
        with pytest.raises(InvalidInput, match="artifact_path must name a folder"):
            mloop.models.log_model(fit_classifier(credit, 0.001), "/")
    assert mloop.models.load(first.model_uri).digest == first.digest


def test_model_info_can_be_a_run_input(home: Path, credit: pd.DataFrame, classifier: Any) -> None:
    info = log_and_register(classifier, credit)
    with mloop.start_run() as run:
        mloop.log_input(info, context="scoring")
        mloop.log_input(mloop.models.get_version("credit/1"), context="serving")
    inputs = mloop.get_run(run.info.run_id).inputs
    assert {(i.kind, i.context) for i in inputs} == {("model", "scoring"), ("model", "serving")}


def test_registering_the_same_name_concurrently_numbers_uniquely(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    import concurrent.futures

    info = log_and_register(classifier, credit)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(lambda _: mloop.models.register(info.model_uri, "race"), range(8)))
    assert sorted(v.version for v in versions) == list(range(1, 9))


def test_an_existing_model_name_cannot_be_created_twice(home: Path) -> None:
    backend().stores.models.create_model("solo")
    with pytest.raises(AlreadyExists, match="'solo' already exists"):
        backend().stores.models.create_model("solo")


def test_garbage_collection_keeps_registered_files(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    from mloop.tracking.connection import connect
    from mloop.tracking.gc import collect_garbage

    info = log_and_register(classifier, credit)
    mloop.Client().delete_run(info.run_id)
    backend_ = connect(mloop.Client().settings)
    report = collect_garbage(backend_.stores, backend_.content, grace_seconds=0)
    assert report.purged_runs == [info.run_id]
    shutil.rmtree(home / "models", ignore_errors=True)
    mloop.models.clear_cache()
    model = mloop.models.load("models:/credit/1")  # its files outlived the run
    np.testing.assert_array_equal(
        model.predict(credit[FEATURES]), classifier.predict(credit[FEATURES])
    )
    mloop.models.verify("credit/1")


def test_the_cache_keeps_as_many_models_as_it_is_told(
    home: Path, monkeypatch: pytest.MonkeyPatch, credit: pd.DataFrame
) -> None:
    first = log_and_register(fit_classifier(credit, 1.0), credit).model_uri
    second = log_and_register(fit_classifier(credit, 0.1), credit).model_uri
    monkeypatch.setenv("MLOOP_MODEL_CACHE_SIZE", "1")
    mloop.models.clear_cache()
    a = mloop.models.load(first).model
    assert mloop.models.load(first).model is a
    mloop.models.load(second)  # evicts the first
    assert mloop.models.load(first).model is not a
    monkeypatch.setenv("MLOOP_MODEL_CACHE_SIZE", "0")
    mloop.models.clear_cache()
    assert mloop.models.load(first).model is not mloop.models.load(first).model


def test_loads_from_many_threads_share_one_model(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    import concurrent.futures

    uri = log_and_register(classifier, credit).model_uri
    mloop.models.load(uri)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        loaded = list(pool.map(lambda _: mloop.models.load("models:/credit/1"), range(40)))
    assert len({id(m.model) for m in loaded}) == 1
    rows = credit[FEATURES][:5]
    assert all(m.predict(rows).tolist() == classifier.predict(rows).tolist() for m in loaded)


def test_without_an_artifact_path_a_free_name_is_picked(home: Path, classifier: Any) -> None:
    with mloop.start_run() as run:
        mloop.log_text("notes", "model-2/notes.txt")  # taken by something else
        first = mloop.models.log_model(classifier, None)
        second = mloop.models.log_model(classifier, None)
    assert (first.artifact_path, second.artifact_path) == ("model", "model-3")
    assert second.model_uri == f"runs:/{run.info.run_id}/model-3"


def test_find_locates_without_loading(home: Path, credit: pd.DataFrame, classifier: Any) -> None:
    info = log_and_register(classifier, credit)
    _, located = mloop.models.api.find("models:/credit/1")
    assert located.digest == info.digest
    with pytest.raises(NotFound):
        mloop.models.api.find("models:/credit/2")
