from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mloop
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from mloop.models import examples
from mloop.models.package import (
    MANIFEST,
    SIGNATURE_FILE,
    manifest_digest,
    parse_manifest,
    read_manifest,
    verify_files,
)
from tests.models.conftest import FEATURES


@pytest.fixture
def package(home: Path, tmp_path: Path, credit: pd.DataFrame, classifier: Any) -> Path:
    path = tmp_path / "pkg"
    mloop.models.save(
        classifier, path, input_example=credit[FEATURES][:3], metadata={"team": "risk"}
    )
    return path


def test_the_manifest_lists_every_file_and_what_made_it(package: Path) -> None:
    manifest = read_manifest(package)
    assert manifest.flavor == "sklearn"
    assert {f.path for f in manifest.files} == {"model.skops", "input_example.json"}
    assert manifest.loader["file"] == "model.skops"
    assert set(manifest.requirements) >= {"scikit-learn", "skops", "numpy"}
    assert manifest.python_version.count(".") == 2
    assert manifest.metadata == {"team": "risk"}
    assert manifest.signature is not None
    assert manifest.signature.to_dict()["outputs"] == {
        "type": "tensor",
        "dtype": "int64",
        "shape": [-1],
    }
    assert manifest.digest == manifest_digest(dict(manifest.raw))
    verify_files(package, manifest)


def test_the_digest_covers_the_manifest_content(package: Path) -> None:
    document = yaml.safe_load((package / MANIFEST).read_text())
    document["loader"]["file"] = "other.skops"
    (package / MANIFEST).write_text(yaml.safe_dump(document))
    with pytest.raises(IntegrityError, match="changed after it was written"):
        read_manifest(package)


def test_a_changed_file_is_caught_and_named(package: Path) -> None:
    target = package / "model.skops"
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"'model\.skops' in model package"):
        verify_files(package, read_manifest(package))
    with pytest.raises(IntegrityError, match=r"model\.skops"):
        mloop.models.load(package)


def test_an_added_or_missing_file_is_caught(package: Path) -> None:
    manifest = read_manifest(package)
    (package / "code.py").write_text("import os\n")
    with pytest.raises(IntegrityError, match=r"does not list: \['code.py'\]"):
        verify_files(package, manifest)
    (package / "code.py").unlink()
    (package / "input_example.json").unlink()
    with pytest.raises(IntegrityError, match=r"missing 'input_example\.json'"):
        verify_files(package, manifest)


def test_a_detached_signature_file_is_allowed_beside_the_files(package: Path) -> None:
    (package / SIGNATURE_FILE).write_text("{}")
    verify_files(package, read_manifest(package))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"- a list", "not an mloop model manifest"),
        (b"mloop_model: 99", "not an mloop model manifest"),
        (b"mloop_model: 1\nflavor: x", "malformed"),
        (b"{{{", "malformed"),
    ],
)
def test_malformed_manifests(text: bytes, message: str) -> None:
    with pytest.raises(IntegrityError, match=message):
        parse_manifest(text)


def test_a_folder_without_a_manifest_is_not_a_package(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="not a model package"):
        read_manifest(tmp_path)


def test_saving_into_a_non_empty_folder_is_refused(
    home: Path, tmp_path: Path, classifier: Any
) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(AlreadyExists, match="not empty"):
        mloop.models.save(classifier, tmp_path / "taken")
    empty = tmp_path / "empty"
    empty.mkdir()
    mloop.models.save(classifier, empty)
    assert (empty / MANIFEST).is_file()


def test_a_failed_save_leaves_nothing_behind(home: Path, tmp_path: Path, classifier: Any) -> None:
    with pytest.raises(InvalidInput, match="JSON values"):
        mloop.models.save(classifier, tmp_path / "pkg", metadata={"bad": object()})
    assert set(os.listdir(tmp_path)) <= {"home"}


def test_a_model_that_fails_on_its_example_is_not_saved(
    home: Path, tmp_path: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    with pytest.raises(InvalidInput, match="missing column"):
        mloop.models.save(
            classifier,
            tmp_path / "pkg",
            input_example=pd.DataFrame({"income": [1.0]}),
            signature=mloop.models.infer_signature(credit[FEATURES]),
        )
    assert not (tmp_path / "pkg").exists()
    assert set(os.listdir(tmp_path)) <= {"home"}


def test_code_paths_ship_with_the_package(home: Path, tmp_path: Path) -> None:
    module = tmp_path / "src" / "shipped_doubler.py"
    module.parent.mkdir()
    module.write_text(
        "import mloop\n"
        "class Doubler(mloop.models.PythonModel):\n"
        "    def predict(self, model_input):\n"
        "        return model_input * 2\n"
    )
    import sys

    sys.path.insert(0, str(module.parent))
    try:
        import shipped_doubler  # type: ignore[import-not-found]

        mloop.models.save(shipped_doubler.Doubler(), tmp_path / "pkg", code_paths=[module])
    finally:
        sys.path.remove(str(module.parent))
        del sys.modules["shipped_doubler"]
    module.unlink()  # only the package's copy is left
    manifest = read_manifest(tmp_path / "pkg")
    assert manifest.has_code
    loaded = mloop.models.load(tmp_path / "pkg")
    assert loaded.predict(np.array([1.0, 2.0])).tolist() == [2.0, 4.0]


def test_a_missing_code_path_is_not_found(home: Path, tmp_path: Path, classifier: Any) -> None:
    with pytest.raises(NotFound, match="code path"):
        mloop.models.save(classifier, tmp_path / "pkg", code_paths=[tmp_path / "nope.py"])


@pytest.mark.parametrize(
    "example",
    [
        pd.DataFrame({"a": [1, 2], "b": ["x", None], "c": [1.5, np.nan]}),
        np.arange(6, dtype="float32").reshape(3, 2),
        [{"a": 1, "b": "x"}],
    ],
)
def test_input_examples_round_trip(example: Any) -> None:
    back = examples.loads(examples.dumps(example))
    if isinstance(example, pd.DataFrame):
        pd.testing.assert_frame_equal(back, example, check_dtype=False)
    elif isinstance(example, np.ndarray):
        np.testing.assert_array_equal(back, example)
        assert back.dtype == example.dtype
    else:
        assert back == example


def test_bad_input_examples(home: Path) -> None:
    with pytest.raises(InvalidInput, match="input_example must be"):
        examples.dumps("text")
    with pytest.raises(InvalidInput, match="must be numeric"):
        examples.dumps(np.array(["a"]))
    with pytest.raises(IntegrityError, match="malformed"):
        examples.loads(b"{")
    with pytest.raises(IntegrityError, match="unknown type"):
        examples.loads(b'{"type": "video"}')


def test_the_input_example_comes_back_with_the_model(package: Path, credit: pd.DataFrame) -> None:
    loaded = mloop.models.load(package)
    pd.testing.assert_frame_equal(loaded.input_example, credit[FEATURES][:3].reset_index(drop=True))
