"""skops loads that never list every scikit-learn estimator, and trust no more than skops would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mloop.models.flavors.skops_defaults import (
    DeferredTypeNames,
    is_default_estimator,
    lean_defaults,
    skops_io,
)


def skops_estimator_names() -> list[str]:
    """skops's own default list of estimator names (filled, if it was deferred)."""
    skops_io()
    general = sys.modules["skops.io._general"]
    return list(general.SKLEARN_ESTIMATOR_TYPE_NAMES)


def test_every_name_on_skops_list_is_found_one_by_one() -> None:
    names = skops_estimator_names()
    assert "sklearn.linear_model._logistic.LogisticRegression" in names
    assert [name for name in names if not is_default_estimator(name)] == []


@pytest.mark.parametrize(
    "name",
    [
        "tests.models.custom.Scale",  # a user's transformer
        "os.system",
        "builtins.eval",
        "sklearn.base.BaseEstimator",
        "sklearn.linear_model._base.LinearModel",  # abstract, and not exposed
        "sklearn.utils._testing.MinimalClassifier",  # exposed by no public package
        "sklearn.tests.test_base.T",  # under tests/, which all_estimators skips
        "sklearn.experimental.enable_halving_search_cv.HalvingGridSearchCV",
        "sklearn.linear_model._logistic._private",
        "sklearn.linear_model._logistic.NoSuchClass",
        "sklearn.no_such_package.Thing",
        "sklearn.LogisticRegression",
        "LogisticRegression",
    ],
)
def test_a_name_off_skops_list_is_not_a_default(name: str) -> None:
    assert name not in skops_estimator_names()
    assert not is_default_estimator(name)


def test_a_deferred_list_computes_once_and_reads_empty_inside_lean_defaults() -> None:
    calls: list[int] = []

    def compute() -> list[str]:
        calls.append(1)
        return ["sklearn.a.A", "sklearn.b.B"]

    names = DeferredTypeNames(compute)
    # `+` is what skops does with the list, so it is what is tested here.
    with lean_defaults():
        assert names + ["x"] == ["x"]  # noqa: RUF005
        assert "sklearn.a.A" not in names
        assert not names.filled
    assert names + ["x"] == ["sklearn.a.A", "sklearn.b.B", "x"]  # noqa: RUF005
    assert ["x"] + names == ["x", "sklearn.a.A", "sklearn.b.B"]  # noqa: RUF005
    assert len(names) == 2 and list(names) == names and names[0] == "sklearn.a.A"
    with lean_defaults():  # once filled, it stays filled
        assert "sklearn.b.B" in names
    assert calls == [1]


# A fresh interpreter: in this one, other tests may have read skops's list already.
LOAD = """
import json, sys
from pathlib import Path
from mloop.models.flavors.sklearn import load_skops
from mloop.errors import IntegrityError
root = Path(sys.argv[1])
answers = {
    "plain": load_skops(root / "plain.skops", []).predict([[0.0, 1.0], [3.0, 0.0]]).tolist(),
    "custom": load_skops(root / "custom.skops", ["tests.models.custom.Scale"])
    .predict([[0.0, 1.0], [3.0, 0.0]]).tolist(),
}
general = sys.modules["skops.io._general"]
answers["filled"] = general.SKLEARN_ESTIMATOR_TYPE_NAMES.filled
answers["pytest"] = "pytest" in sys.modules
try:
    load_skops(root / "custom.skops", [])
except IntegrityError as err:
    answers["refused"] = str(err)
import skops.io
answers["outside"] = skops.io.get_untrusted_types(file=root / "plain.skops")
print(json.dumps(answers))
"""


def test_a_fresh_process_loads_without_the_list_and_refuses_what_was_not_recorded(
    tmp_path: Path,
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from mloop.models.flavors.sklearn import dump_skops
    from tests.models.custom import Scale

    x, y = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]], [0, 0, 1, 1]
    plain, custom = LogisticRegression().fit(x, y), make_pipeline(Scale(), LogisticRegression())
    assert dump_skops(plain, tmp_path / "plain.skops") == []
    assert dump_skops(custom.fit(x, y), tmp_path / "custom.skops") == ["tests.models.custom.Scale"]
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"PYTHONPATH": f"{root / 'src'}:{root}", "PATH": ""},
    )
    answers = json.loads(done.stdout)
    assert answers["plain"] == plain.predict([[0.0, 1.0], [3.0, 0.0]]).tolist()
    assert answers["custom"] == custom.predict([[0.0, 1.0], [3.0, 0.0]]).tolist()
    assert answers["filled"] is False  # neither load listed every estimator
    assert answers["pytest"] is False  # which would have imported pytest, among others
    assert "['tests.models.custom.Scale']" in answers["refused"]
    assert answers["outside"] == []  # skops's own defaults, as ever, outside mloop's loads


# skops's lists: from a plain import of skops, or as a deferred list fills them.
LISTS = """
import json
if __import__("sys").argv[1] == "deferred":
    from mloop.models.flavors.skops_defaults import skops_io
    skops_io()
from skops.io import _general
names = (_general.SKLEARN_ESTIMATOR_TYPE_NAMES, _general.SCIPY_UFUNC_TYPE_NAMES)
print(json.dumps([type(names[0]).__name__, *map(list, names)]))
"""


def _lists(how: str) -> list[object]:
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", LISTS, how],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"PYTHONPATH": f"{root / 'src'}:{root}", "PATH": ""},
    )
    found: list[object] = json.loads(done.stdout)
    return found


def test_the_deferred_lists_once_filled_are_the_lists_skops_makes() -> None:
    plain_kind, *plain = _lists("plain")
    deferred_kind, *deferred = _lists("deferred")
    assert (plain_kind, deferred_kind) == ("list", "DeferredTypeNames")  # the estimators
    assert all(isinstance(names, list) and len(names) > 100 for names in plain)
    assert deferred == plain
