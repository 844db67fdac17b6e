"""Loading a policy's pipeline from its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.automation.policy_pipeline import load_pipeline
from mloop.errors import InvalidInput

PIPELINE = """
import mloop

@mloop.step
def one(x: int) -> int:
    return x + {add}

@mloop.pipeline
def train(x: int = 1) -> None:
    one(x)

not_a_pipeline = 3
"""


def test_files_are_loaded_afresh(tmp_path: Path) -> None:
    for n in (1, 2):
        folder = tmp_path / f"project{n}"
        folder.mkdir()
        (folder / "policy_pipeline_a.py").write_text(PIPELINE.format(add=n))
    first = load_pipeline(str(tmp_path / "project1" / "policy_pipeline_a.py"), "train")
    second = load_pipeline(str(tmp_path / "project2" / "policy_pipeline_a.py"), "train")
    assert first.func is not second.func
    assert second.func.__globals__["one"](1) == 3
    (tmp_path / "project2" / "policy_pipeline_a.py").write_text(PIPELINE.format(add=50))
    edited = load_pipeline(str(tmp_path / "project2" / "policy_pipeline_a.py"), "train")
    assert edited.func.__globals__["one"](1) == 51


@pytest.mark.parametrize(
    ("content", "function", "message"),
    [
        (PIPELINE.format(add=1), "not_a_pipeline", "is not an @mloop.pipeline function"),
        (PIPELINE.format(add=1), "missing", "is not an @mloop.pipeline function"),
        ("import no_such_module_anywhere\n", "train", "cannot import pipeline file"),
        ("def broken(:\n", "train", "cannot import pipeline file"),
    ],
)
def test_mistakes(tmp_path: Path, content: str, function: str, message: str) -> None:
    path = tmp_path / "policy_pipeline_b.py"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        load_pipeline(str(path), function)
