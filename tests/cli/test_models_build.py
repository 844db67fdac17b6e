"""mloop models build as a user runs it: the folder, the next steps, clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression

import mloop
from tests.cli.conftest import invoke


def _register(home: Path) -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    mloop.models.save(LogisticRegression().fit(frame, [0, 0, 1, 1]), home.parent / "pkg")
    mloop.models.register(str(home.parent / "pkg"), "credit")
    mloop.models.set_alias("credit", "champion", 1)


def test_build_kserve_from_an_alias(home: Path, tmp_path: Path) -> None:
    _register(home)
    out = tmp_path / "built"
    code, stdout, stderr = invoke(
        "models", "build", "credit@champion", "--target", "kserve", "--out", str(out),
        "--image", "registry.example.com/credit:1", "--cpu-limit", "",
    )  # fmt: skip
    assert code == 0, stderr
    assert "built kserve for credit version 1" in stdout
    assert "docker build -t registry.example.com/credit:1" in stdout
    assert f"kubectl apply -f {out / 'kserve'}" in stdout
    service = yaml.safe_load((out / "kserve" / "inferenceservice.yaml").read_text())
    container = service["spec"]["predictor"]["containers"][0]
    assert container["image"] == "registry.example.com/credit:1"
    assert "cpu" not in container["resources"]["limits"]
    assert "&id" not in (out / "kserve" / "inferenceservice.yaml").read_text()


def test_build_ray_serve_says_where_to_put_the_folder(home: Path, tmp_path: Path) -> None:
    _register(home)
    out = tmp_path / "built"
    code, stdout, stderr = invoke(
        "models", "build", "credit/1", "--target", "ray-serve", "--out", str(out),
        "--working-dir", "s3://bucket/credit-1.zip", "--min-replicas", "2", "--max-replicas", "2",
    )  # fmt: skip
    assert code == 0, stderr
    assert "built ray-serve for credit version 1" in stdout
    assert "see its README.md" in stdout
    assert f"serve deploy {out / 'serve.yaml'}" in stdout
    assert "docker build" not in stdout
    app = yaml.safe_load((out / "serve.yaml").read_text())["applications"][0]
    assert app["runtime_env"]["working_dir"] == "s3://bucket/credit-1.zip"
    assert app["deployments"][0]["num_replicas"] == 2


def test_build_errors(home: Path, tmp_path: Path) -> None:
    _register(home)
    out = str(tmp_path / "built")
    code, _, stderr = invoke(
        "models", "build", "credit/1", "--target", "ray-serve", "--out", out,
        "--working-dir", "/srv/credit",
    )  # fmt: skip
    assert code != 0
    assert "--working-dir '/srv/credit' is neither local:///PATH" in stderr
    assert not Path(out).exists()
    code, _, stderr = invoke("models", "build", "credit/1", "--target", "helm", "--out", out)
    assert code != 0
    assert "unknown target 'helm'" in stderr
    code, _, stderr = invoke("models", "build", "nope/1", "--target", "docker", "--out", out)
    assert code != 0
    assert "nope" in stderr
    code, _, stderr = invoke(
        "models", "build", "credit/1", "--target", "k8s", "--out", out, "--cpu", "lots"
    )
    assert code != 0
    assert "--cpu 'lots' is not a Kubernetes quantity" in stderr
    assert not Path(out).exists()
    Path(out).mkdir()
    (Path(out) / "x").write_text("x")
    code, _, stderr = invoke("models", "build", "credit/1", "--target", "docker", "--out", out)
    assert code != 0
    assert "pass --force" in stderr
    code, _, stderr = invoke(
        "models", "build", "credit/1", "--target", "docker", "--out", out, "--force"
    )
    assert code == 0, stderr
    assert (Path(out) / "Dockerfile").is_file()
