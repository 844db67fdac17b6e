"""Labels joined to the prediction log: rows exploded, feedback against a labels table, bad input."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mloop.errors import InvalidInput
from mloop.monitoring.label_join import join_labels
from mloop.monitoring.realised_performance import performance


def log(**columns: Any) -> pd.DataFrame:
    base: dict[str, Any] = {
        "request_id": ["r1", "r2", "r3"],
        "time": pd.to_datetime(
            ["2026-12-05T10:00", "2026-12-05T10:01", "2026-12-05T10:02"], utc=True
        ),
        "version": ["1", "1", "2"],
        "outputs": [[1, 0, 1], [0], [1]],
        "label": [[1, 1, 1], None, 0],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_requests_of_several_rows_become_one_row_per_prediction() -> None:
    joined = join_labels(log())
    assert joined["request_id"].tolist() == ["r1", "r1", "r1", "r2", "r3"]
    assert joined["position"].tolist() == [0, 1, 2, 0, 0]
    assert joined["prediction"].tolist() == [1, 0, 1, 0, 1]
    assert joined["label"].tolist() == [1, 1, 1, None, 0]
    assert joined["version"].tolist() == ["1", "1", "1", "1", "2"]
    assert "outputs" not in joined.columns
    report = performance(joined["label"], joined["prediction"])
    assert report.labelled == 4 and report.missing == 1 and report.accuracy == 0.5


def test_the_labels_table_wins_over_feedback() -> None:
    labels = pd.DataFrame({"request_id": ["r3", "r2", "r9"], "label": [1, 0, 1]})
    joined = join_labels(log(), labels)
    assert joined["label"].tolist() == [1, 1, 1, 0, 1]


def test_a_missing_label_in_the_labels_table_keeps_the_feedback() -> None:
    labels = pd.DataFrame({"request_id": ["r3"], "truth": [None]})
    joined = join_labels(log(), labels, label_column="truth")
    assert joined["label"].tolist() == [1, 1, 1, None, 0]


def test_a_log_without_feedback_takes_the_labels_table() -> None:
    table = log().drop(columns="label")
    labels = pd.DataFrame({"request_id": ["r1"], "label": [[0, 0, 1]]})
    joined = join_labels(table, labels)
    assert joined["label"].tolist() == [0, 0, 1, None, None]


def test_failed_requests_are_left_out_and_scalar_outputs_are_one_row() -> None:
    table = log(outputs=[None, 3.5, 2.0], label=[None, 3.0, None])
    joined = join_labels(table)
    assert joined["request_id"].tolist() == ["r2", "r3"]
    assert joined["prediction"].tolist() == [3.5, 2.0]
    assert joined["label"].tolist() == [3.0, None]


def test_outputs_as_columns_give_predictions_and_scores() -> None:
    outputs = [
        {"label": [1, 0], "proba": [0.9, 0.3]},
        {"label": [0], "proba": [0.2]},
        {"label": [1], "proba": [0.6]},
    ]
    table = log(outputs=outputs, label=[[1, 0], 1, None])
    joined = join_labels(table, output="label", score="proba")
    assert joined["prediction"].tolist() == [1, 0, 0, 1]
    assert joined["score"].tolist() == [0.9, 0.3, 0.2, 0.6]
    assert joined["label"].tolist() == [1, 0, 1, None]


def test_an_empty_log_gives_an_empty_table() -> None:
    joined = join_labels(log().iloc[:0])
    assert len(joined) == 0 and {"prediction", "label", "position"} <= set(joined.columns)


def test_the_table_the_server_logs_joins() -> None:
    from mloop.artifacts.objects.schemes import open_object_store
    from mloop.serving.log_reading import predictions
    from mloop.serving.log_records import Feedback, Prediction
    from mloop.serving.prediction_log import PredictionLog, PredictionLogSettings

    uri = "memory://label-join-test"
    written = PredictionLog(open_object_store(uri), PredictionLogSettings())
    written.record(
        Prediction("a", 60.0, "credit", "credit", "3", "plain", {"x": [1, 2]}, [1, 0], 0.0)
    )
    written.record(Prediction("b", 61.0, "credit", "credit", "3", "plain", {"x": [5]}, [1], 0.0))
    written.record(Feedback("a", 90.0, "credit", [1, 1]))
    written.close()
    labels = pd.DataFrame({"request_id": ["b"], "label": [0]})
    joined = join_labels(predictions("credit", uri=uri), labels)
    assert joined[["request_id", "prediction", "label"]].values.tolist() == [
        ["a", 1, 1],
        ["a", 0, 1],
        ["b", 1, 0],
    ]


@pytest.mark.parametrize(
    ("table", "labels", "options", "message"),
    [
        (log(label=[[1, 1], None, 0]), None, {}, "'r1' has 3 predictions and 2 labels"),
        (log(label=[1, None, 0]), None, {}, "'r1' has 3 predictions and 1 labels"),
        (log().drop(columns="outputs"), None, {}, "no column 'outputs'"),
        (log(), None, {"key": "id"}, "no column 'id'"),
        (log(), pd.DataFrame({"request_id": ["r1"]}), {}, "labels has no column 'label'"),
        (
            log(),
            pd.DataFrame({"request_id": ["r2", "r2"], "label": [0, 1]}),
            {},
            "'r2' more than once",
        ),
        (log(), pd.DataFrame({"request_id": [None], "label": [0]}), {}, "rows without"),
        (log(), pd.DataFrame({"request_id": [1, 2], "label": [0, 1]}), {}, "different kinds"),
        (log(outputs=[{"p": [1, 0, 1]}, {"p": [0]}, {"p": [1]}]), None, {}, "give output="),
        (log(outputs=[{"p": [1, 0, 1]}, {"p": [0]}, {"p": [1]}]), None, {"output": "q"}, "no key"),
        (log(), None, {"output": "label"}, "not a mapping"),
        (
            log(outputs=[{"p": [1, 0, 1], "s": [0.1]}, {"p": [0], "s": [0.2]}, {"p": [1]}]),
            None,
            {"output": "p", "score": "s"},
            "3 predictions and 1 scores",
        ),
    ],
)
def test_bad_input_is_refused(
    table: pd.DataFrame, labels: pd.DataFrame | None, options: Any, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        join_labels(table, labels, **options)


def test_tables_must_be_data_frames() -> None:
    with pytest.raises(InvalidInput, match="predictions must be a pandas DataFrame"):
        join_labels(log().to_dict("list"))  # type: ignore[arg-type]
