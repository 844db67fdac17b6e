from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.preprocessing import StandardScaler

import mloop
from mloop.errors import InvalidInput, NotFound
from mloop.pipelines import materializers
from mloop.pipelines.model_materializers import MODEL, MODEL_INFO
from tests.pipelines.model_flows import fit_and_score, log_and_use, make_data


def test_a_model_object_passes_between_steps_without_pickle(home: Path) -> None:
    run = fit_and_score.run(rows=200)
    assert run.status == "FINISHED"
    assert run.output("score") > 0.9
    stored = mloop.Client().list_artifacts(run.steps["train"].run_id, recursive=True)
    assert [a.path for a in stored if a.path.endswith(".tar")], stored
    again = fit_and_score.run(rows=200)
    assert again.steps["train"].cached
    assert again.output("score") == run.output("score")


@pytest.fixture
def rows(home: Path, tmp_path: Path) -> str:
    frame = make_data(100)
    frame.to_csv(tmp_path / "rows.csv", index=False)
    return mloop.data.add(tmp_path / "rows.csv", name="rows").ref


def test_a_logged_model_passes_by_reference(rows: str) -> None:
    run = log_and_use.run(ref=rows)
    assert run.output("flavor_of").startswith("sklearn:")
    info = run.output("train_and_log")
    assert isinstance(info, mloop.models.ModelInfo)
    assert info.registered_version is None  # a reference names the package, not the version
    card = mloop.models.model_card("piped/1")
    assert card["lineage"]["pipeline_run"] == run.run_id
    assert card["lineage"]["pipeline"] == "log_and_use"
    assert card["lineage"]["datasets"] == ["rows@1"]  # read by a sibling step


def test_a_reference_to_a_model_that_changed_is_refused(rows: str) -> None:
    run = log_and_use.run(ref=rows)
    info = run.output("train_and_log")
    data = MODEL_INFO.dumps(info)
    assert MODEL_INFO.loads(data).digest == info.digest
    broken = data.replace(info.model_uri.encode(), b"runs:/" + b"0" * 32 + b"/model")
    with pytest.raises(NotFound, match="was removed"):
        MODEL_INFO.loads(broken)
    forged = data.replace(info.digest.encode(), b"f" * 64)
    with pytest.raises(InvalidInput, match="no longer the model"):
        MODEL_INFO.loads(forged)


def test_model_classes_are_matched_by_name() -> None:
    from sklearn.linear_model import LogisticRegression

    assert materializers.for_type(LogisticRegression) is MODEL
    assert materializers.for_type(torch.nn.Linear) is MODEL
    assert materializers.for_type(StandardScaler) is None  # a transformer has no predict
    assert materializers.for_type(torch.Tensor).name == "torch_tensor"  # type: ignore[union-attr]
    assert materializers.for_type(mloop.models.ModelInfo) is MODEL_INFO


def test_a_torch_module_round_trips_as_a_package(home: Path) -> None:
    from tests.models.torch_modules import TinyNet

    net = TinyNet()
    back = MODEL.loads(MODEL.dumps(net))
    assert isinstance(back, TinyNet)
    x = torch.randn(4, 3)
    with torch.no_grad():
        torch.testing.assert_close(back(x), net(x))
    with pytest.raises(InvalidInput):
        MODEL.dumps(TinyNet(n_in=5))  # its class cannot rebuild it without init_kwargs


def test_a_scikit_learn_model_round_trips(home: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    assert MODEL.handles_value(model)
    assert not MODEL.handles_value({"a": 1})
    back = MODEL.loads(MODEL.dumps(model))
    assert back.predict(np.array([[0.9]])).tolist() == [1]
