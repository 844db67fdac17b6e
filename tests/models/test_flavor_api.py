"""The MLflow-argument handling the flavor modules share: names, requirements, checks, loading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mloop
from mloop.errors import AlreadyExists, InvalidInput, NotFound
from mloop.models import flavor_api
from mloop.models.flavor_api import Common


def _linear() -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])


def test_name_or_artifact_path_but_not_both() -> None:
    assert flavor_api.artifact_name("a", None) == "a"
    assert flavor_api.artifact_name(None, "b") == "b"
    assert flavor_api.artifact_name(None, None) is None
    with pytest.raises(InvalidInput, match="pass only name"):
        flavor_api.artifact_name("a", "b")


def test_unknown_arguments_are_named_sorted() -> None:
    flavor_api.reject_unknown("f", {})
    with pytest.raises(InvalidInput, match=r"f does not take \['params', 'tags'\]"):
        flavor_api.reject_unknown("f", {"tags": {}, "params": {}})


def test_pip_requirements_from_a_list_or_a_file(tmp_path: Path) -> None:
    assert flavor_api.package_metadata(Common(pip_requirements=["numpy>=1"])) == {
        "pip_requirements": ["numpy>=1"]
    }
    (tmp_path / "requirements.txt").write_text("# pinned\nnumpy==2.0  # arrays\n\npandas\n")
    recorded = flavor_api.package_metadata(
        Common(metadata={"team": "risk"}, extra_pip_requirements=tmp_path / "requirements.txt")
    )
    assert recorded == {"team": "risk", "extra_pip_requirements": ["numpy==2.0", "pandas"]}


def test_credentials_in_requirements_are_masked(tmp_path: Path) -> None:
    secret = "git+https://user:S3CRET@git.example.com/pkg.git"
    recorded = flavor_api.package_metadata(Common(pip_requirements=[secret]))
    assert "S3CRET" not in str(recorded)
    assert recorded["pip_requirements"] == ["git+https://user:***@git.example.com/pkg.git"]
    conda = {"dependencies": ["python=3.11", {"pip": [secret]}]}
    assert "S3CRET" not in str(flavor_api.package_metadata(Common(conda_env=conda)))


def test_conda_env_from_a_dict_or_a_yaml_file(tmp_path: Path) -> None:
    env = {"name": "m", "dependencies": ["python=3.11"]}
    assert flavor_api.package_metadata(Common(conda_env=env)) == {"conda_env": env}
    (tmp_path / "conda.yaml").write_text("name: m\ndependencies:\n  - python=3.11\n")
    assert flavor_api.package_metadata(Common(conda_env=tmp_path / "conda.yaml")) == {
        "conda_env": env
    }


@pytest.mark.parametrize(
    ("common", "error", "message"),
    [
        (
            Common(pip_requirements=["a"], conda_env={"name": "x"}),
            InvalidInput,
            r"only one of .* got \['conda_env', 'pip_requirements'\]",
        ),
        (
            Common(metadata={"pip_requirements": 1}, pip_requirements=["a"]),
            InvalidInput,
            "metadata has a 'pip_requirements' key",
        ),
        (Common(metadata=["x"]), InvalidInput, "metadata must be a dict"),  # type: ignore[arg-type]
        (Common(pip_requirements=[1]), InvalidInput, "list of requirement strings"),  # type: ignore[list-item]
        (Common(pip_requirements="no-such-file.txt"), NotFound, "does not exist"),
        (Common(conda_env="no-such-conda.yaml"), NotFound, "does not exist"),
        (Common(conda_env=42), InvalidInput, "conda_env must be a dict"),  # type: ignore[arg-type]
    ],
)
def test_bad_requirements_are_refused(
    home: Path, common: Common, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        flavor_api.package_metadata(common)


def test_a_conda_file_that_is_not_yaml_or_a_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "conda.yaml").write_text("dependencies: [python\n")
    with pytest.raises(InvalidInput, match="is not YAML"):
        flavor_api.package_metadata(Common(conda_env=tmp_path / "conda.yaml"))
    (tmp_path / "conda.yaml").write_text("- python\n")
    with pytest.raises(InvalidInput, match="conda_env must be a dict"):
        flavor_api.package_metadata(Common(conda_env=tmp_path / "conda.yaml"))


def test_a_signature_of_another_kind_is_refused(home: Path, tmp_path: Path) -> None:
    common = Common(signature={"inputs": []})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"signature must be a mloop\.models\.Signature"):
        flavor_api.save_model("sklearn", _linear(), tmp_path / "m", common, function="f")
    assert not (tmp_path / "m").exists()


def test_an_object_no_flavor_saves_is_refused_without_a_suggestion(
    home: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match=r"f takes a sklearn model, got a builtins.dict$"):
        flavor_api.save_model("sklearn", {}, tmp_path / "m", Common(), function="f")


def test_load_refuses_another_flavor_and_loads_any_without_one(home: Path, tmp_path: Path) -> None:
    flavor_api.save_model("sklearn", _linear(), tmp_path / "m", Common(), function="f")
    assert flavor_api.load_model(tmp_path / "m", None).flavor == "sklearn"
    assert flavor_api.load_model(tmp_path / "m", "sklearn").flavor == "sklearn"
    with pytest.raises(InvalidInput, match=r"mloop\.sklearn\.load_model, mloop\.pyfunc"):
        flavor_api.load_model(tmp_path / "m", "xgboost")


def test_a_cached_package_of_another_flavor_is_refused_too(home: Path, tmp_path: Path) -> None:
    flavor_api.save_model("sklearn", _linear(), tmp_path / "m", Common(), function="f")
    mloop.models.load(tmp_path / "m")  # now in the process's cache
    be, located = mloop.models.api.find(tmp_path / "m")
    with pytest.raises(InvalidInput, match="is a 'sklearn' model, not a 'onnx' one"):
        mloop.models.api.load_located(be, located, flavor="onnx")


def test_dst_path_gets_a_copy_and_refuses_a_file_or_a_full_folder(
    home: Path, tmp_path: Path
) -> None:
    flavor_api.save_model("sklearn", _linear(), tmp_path / "m", Common(), function="f")
    (tmp_path / "empty").mkdir()
    flavor_api.load_model(tmp_path / "m", "sklearn", dst_path=tmp_path / "empty")
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == sorted(
        p.name for p in (tmp_path / "m").iterdir()
    )
    (tmp_path / "file").write_text("x")
    for taken in (tmp_path / "file", tmp_path / "empty"):
        with pytest.raises(AlreadyExists, match="exists and is not empty"):
            flavor_api.load_model(tmp_path / "m", "sklearn", dst_path=taken)
