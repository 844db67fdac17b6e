"""mloop models build's folders: a Dockerfile hadolint passes, manifests the schemas accept."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from mloop.models.package import read_manifest, verify_files
from mloop.serving.packaging import BuildOptions, build
from mloop.serving.packaging.docker import dockerfile
from mloop.serving.packaging.kserve import inference_service
from mloop.serving.packaging.ray_serve import DEPLOYMENT, IMPORT_PATH, quantity

K8S_VERSION = "1.30.0"
HADOLINT = Path(sys.executable).with_name("hadolint")

# KServe's InferenceService (serving.kserve.io/v1beta1), the fields a custom predictor uses, from
# KServe's API reference: spec.predictor inlines a core PodSpec and the ComponentExtensionSpec
# (minReplicas, maxReplicas, scaleMetric, scaleTarget, ...); the pod spec itself is checked
# against Kubernetes' own schema below.
KSERVE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "serving.kserve.io/v1beta1"},
        "kind": {"const": "InferenceService"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$"}},
        },
        "spec": {
            "type": "object",
            "required": ["predictor"],
            "additionalProperties": False,
            "properties": {
                "predictor": {
                    "type": "object",
                    "required": ["containers"],
                    "properties": {
                        "minReplicas": {"type": "integer", "minimum": 0},
                        "maxReplicas": {"type": "integer", "minimum": 0},
                        "scaleMetric": {"enum": ["cpu", "memory", "concurrency", "rps"]},
                        "scaleTarget": {"type": "integer", "minimum": 1},
                        "containers": {
                            "type": "array",
                            "minItems": 1,
                            "contains": {
                                "type": "object",
                                "required": ["name", "image", "env"],
                                "properties": {
                                    "name": {"const": "kserve-container"},
                                    "env": {
                                        "type": "array",
                                        "contains": {"const": {"name": "PROTOCOL", "value": "v2"}},
                                    },
                                },
                            },
                        },
                    },
                }
            },
        },
    },
}
# Fields of the predictor that are KServe's own; the rest is a core PodSpec.
KSERVE_EXTENSION = {"minReplicas", "maxReplicas", "scaleMetric", "scaleTarget"}


@pytest.fixture
def registered(home: Path) -> str:
    """iris/1, a registered scikit-learn model."""
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1])
    mloop.models.save(model, home.parent / "iris-pkg", input_example=frame.head(2))
    version = mloop.models.register(str(home.parent / "iris-pkg"), "iris")
    return version.ref


def _validate(manifest: dict[str, Any]) -> None:
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_docker_folder_holds_a_verified_copy_and_a_clean_dockerfile(
    registered: str, tmp_path: Path
) -> None:
    report = build(registered, "docker", tmp_path / "out")
    out = tmp_path / "out"
    assert report.image == "mloop-model-iris:1"
    assert sorted(p.name for p in out.iterdir()) == [
        ".dockerignore", "Dockerfile", "model", "requirements.txt", "wheels",
    ]  # fmt: skip
    copied = read_manifest(out / "model")
    assert copied.digest == report.digest == mloop.models.get_version(registered).digest
    verify_files(out / "model", copied)
    assert mloop.models.load(out / "model").digest == report.digest

    lint = _hadolint(out / "Dockerfile")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    text = (out / "Dockerfile").read_text()
    python = ".".join(copied.python_version.split(".")[:2])
    assert f"FROM python:{python}-slim\n" in text
    assert "USER 10001:10001" in text
    assert "EXPOSE 8080" in text
    assert "urlopen('http://127.0.0.1:8080/ping'" in text
    assert (
        'ENTRYPOINT ["mloop", "serve", "/model", "--host", "0.0.0.0", "--port", "8080", '
        '"--name", "iris"]' in text
    )
    assert report.digest in text.split("COPY model/")[1]  # checked at build, after the copy

    requirements = (out / "requirements.txt").read_text().splitlines()
    assert requirements[0] == f"mloop[serve]=={importlib.metadata.version('mloop')}"
    assert f"scikit-learn=={importlib.metadata.version('scikit-learn')}" in requirements


def test_the_build_time_check_accepts_the_copy_and_refuses_a_damaged_one(
    registered: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    build(registered, "docker", out)
    line = next(x for x in (out / "Dockerfile").read_text().splitlines() if "python -c" in x)
    code = yaml.safe_load(line.split("python -c ", 1)[1].removesuffix(" \\"))  # a JSON string
    model = tmp_path / "model"
    shutil.copytree(out / "model", model)
    ok = subprocess.run(
        [sys.executable, "-c", code.replace("/model", str(model))], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    file = next(p for p in model.rglob("*") if p.is_file() and p.suffix != ".yaml")
    file.write_bytes(file.read_bytes() + b"x")
    mloop.models.clear_cache()
    bad = subprocess.run(
        [sys.executable, "-c", code.replace("/model", str(model))], capture_output=True, text=True
    )
    assert bad.returncode != 0
    assert "does not match its digest" in bad.stderr


def test_k8s_manifests_pass_the_kubernetes_schemas(registered: str, tmp_path: Path) -> None:
    options = BuildOptions(
        image="registry.example.com/iris:1", cpu="250m", memory="512Mi", max_replicas=8
    )
    build(registered, "k8s", tmp_path / "out", options)
    folder = tmp_path / "out" / "kubernetes"
    assert sorted(p.name for p in folder.iterdir()) == [
        "deployment.yaml", "hpa.yaml", "service.yaml",
    ]  # fmt: skip
    manifests = {p.stem: yaml.safe_load(p.read_text()) for p in folder.iterdir()}
    for manifest in manifests.values():
        _validate(manifest)
    pod = manifests["deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "registry.example.com/iris:1"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert "startupProbe" in container
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}
    security = container["securityContext"]
    assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert manifests["service"]["spec"]["ports"][0]["port"] == 80
    assert manifests["service"]["spec"]["type"] == "ClusterIP"
    assert manifests["hpa"]["spec"]["maxReplicas"] == 8
    assert manifests["hpa"]["apiVersion"] == "autoscaling/v2"
    # The autoscaler owns the replica count: a count here would reset it on every apply.
    assert "replicas" not in manifests["deployment"]["spec"]
    # Every file but the manifests is the docker target's.
    assert (tmp_path / "out" / "Dockerfile").is_file()


def test_kserve_inference_service_passes_its_schema_and_the_pod_schema(
    registered: str, tmp_path: Path
) -> None:
    build(registered, "kserve", tmp_path / "out")
    service = yaml.safe_load((tmp_path / "out" / "kserve" / "inferenceservice.yaml").read_text())
    jsonschema.validate(service, KSERVE_SCHEMA)
    pod_spec = {k: v for k, v in service["spec"]["predictor"].items() if k not in KSERVE_EXTENSION}
    _validate({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": pod_spec})
    assert service["spec"]["predictor"]["containers"][0]["image"] == "mloop-model-iris:1"


def test_the_kserve_schema_catches_a_service_without_the_v2_protocol() -> None:
    from mloop.serving.packaging.context import BuildContext

    ctx = BuildContext("iris", "1", "ab" * 32, "sklearn", "3.11", (), BuildOptions())
    service = inference_service(ctx)
    service["spec"]["predictor"]["containers"][0]["env"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(service, KSERVE_SCHEMA)


def _serve_schema() -> Any:
    """Ray Serve's own schema of a ``serve deploy`` config."""
    pytest.importorskip("ray.serve", reason="Ray Serve's dependencies are not installed")
    from ray.serve.schema import ServeDeploySchema

    return ServeDeploySchema


def test_ray_serve_config_passes_ray_serves_own_schema(registered: str, tmp_path: Path) -> None:
    schema = _serve_schema()
    report = build(registered, "ray-serve", tmp_path / "out")
    out = tmp_path / "out"
    assert report.files == ["serve.yaml", "README.md", "model/", "wheels/"]
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "model", "serve.yaml", "wheels"]
    verify_files(out / "model", read_manifest(out / "model"))
    config = yaml.safe_load((out / "serve.yaml").read_text())
    parsed = schema.model_validate(config)
    app = parsed.applications[0]
    assert (app.name, app.route_prefix, app.import_path) == ("iris", "/", IMPORT_PATH)
    assert app.args == {"models": {"iris": "model"}}  # the copy, in the working directory
    assert app.runtime_env["working_dir"] == "local:///srv/mloop/models/iris-1"
    assert app.runtime_env["pip"][0] == f"mloop[serve]=={importlib.metadata.version('mloop')}"
    deployment = app.deployments[0]
    assert deployment.name == DEPLOYMENT
    assert deployment.autoscaling_config == {"min_replicas": 1, "max_replicas": 5}
    resources = deployment.ray_actor_options
    assert (resources.num_cpus, resources.memory) == (0.5, 2**30)
    assert (parsed.http_options.host, parsed.http_options.port) == ("0.0.0.0", 8080)
    readme = (out / "README.md").read_text()
    assert "serve deploy serve.yaml" in readme and "local:///srv/mloop/models/iris-1" in readme

    options = BuildOptions(
        min_replicas=3, max_replicas=3, cpu="2", memory="512Mi", force=True,
        working_dir="s3://bucket/iris-1.zip",
    )  # fmt: skip
    build(registered, "ray-serve", out, options)
    app = schema.model_validate(yaml.safe_load((out / "serve.yaml").read_text())).applications[0]
    assert app.runtime_env["working_dir"] == "s3://bucket/iris-1.zip"
    assert app.deployments[0].num_replicas == 3
    resources = app.deployments[0].ray_actor_options
    assert (resources.num_cpus, resources.memory) == (2.0, 512 * 2**20)


def test_ray_serves_schema_catches_a_local_folder_as_working_dir(
    registered: str, tmp_path: Path
) -> None:
    schema = _serve_schema()
    build(registered, "ray-serve", tmp_path / "out")
    config = yaml.safe_load((tmp_path / "out" / "serve.yaml").read_text())
    config["applications"][0]["runtime_env"]["working_dir"] = "."
    with pytest.raises(ValueError, match="remote URIs"):
        schema.model_validate(config)


def test_the_config_names_what_the_server_module_builds(registered: str, tmp_path: Path) -> None:
    pytest.importorskip("ray.serve", reason="Ray Serve's dependencies are not installed")
    from mloop.serving import ray_serve

    module, _, attr = IMPORT_PATH.partition(":")
    assert module == ray_serve.__name__ and getattr(ray_serve, attr) is ray_serve.build_app
    assert DEPLOYMENT == ray_serve.DEPLOYMENT
    build(registered, "ray-serve", tmp_path / "out")
    config = yaml.safe_load((tmp_path / "out" / "serve.yaml").read_text())
    application = ray_serve.build_app(config["applications"][0]["args"])  # as Serve calls it
    assert type(application).__name__ == "Application"


def test_quantities_read_as_kubernetes_writes_them() -> None:
    assert [quantity(q) for q in ("250m", "2", "1.5", "1k", "1M", "1Ki")] == [
        0.25, 2.0, 1.5, 1e3, 1e6, 1024.0,
    ]  # fmt: skip
    with pytest.raises(InvalidInput, match="not a quantity"):
        quantity("1GB")


def test_hadolint_catches_what_the_dockerfile_avoids(tmp_path: Path) -> None:
    from mloop.serving.packaging.context import BuildContext

    ctx = BuildContext("iris", "1", "ab" * 32, "sklearn", "3.11", (), BuildOptions())
    bad = dockerfile(ctx).replace("USER 10001:10001\n", "").replace("--no-cache-dir ", "")
    (tmp_path / "Dockerfile").write_text(bad.replace("python:3.11-slim", "python"))
    lint = _hadolint(tmp_path / "Dockerfile")
    assert lint.returncode != 0
    assert "DL3006" in lint.stdout  # an untagged base image


def test_options_and_folder_alike_are_checked_before_anything_is_written(
    registered: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(InvalidInput, match="unknown target 'helm'; choose one of docker, k8s"):
        build(registered, "helm", out)
    with pytest.raises(InvalidInput, match="--memory '1GB' is not a Kubernetes quantity"):
        build(registered, "k8s", out, BuildOptions(memory="1GB"))
    with pytest.raises(InvalidInput, match="--min-replicas"):
        build(registered, "k8s", out, BuildOptions(min_replicas=3, max_replicas=2))
    for where in ("/srv/models", "local://relative", "s3://bucket/folder", "https://x/y.tar"):
        with pytest.raises(InvalidInput, match=r"--working-dir .* neither local:///PATH"):
            build(registered, "ray-serve", out, BuildOptions(working_dir=where))
    with pytest.raises(NotFound):
        build("iris/7", "docker", out)
    with pytest.raises(NotFound, match="--wheel"):
        build(registered, "docker", out, BuildOptions(wheels=(str(tmp_path / "x.whl"),)))
    assert not out.exists()

    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(AlreadyExists, match="--force"):
        build(registered, "docker", out)
    assert (out / "keep.txt").read_text() == "mine"
    build(registered, "docker", out, BuildOptions(force=True))
    assert not (out / "keep.txt").exists()
    assert (out / "Dockerfile").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []


def test_a_tampered_package_is_not_copied(home: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    folder = home.parent / "pkg"
    mloop.models.save(LogisticRegression().fit(frame, [0, 0, 1, 1]), folder)
    file = next(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".yaml")
    file.chmod(0o644)
    file.write_bytes(file.read_bytes() + b"x")
    with pytest.raises(IntegrityError):
        build(str(folder), "docker", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_folder_is_named_by_its_folder_and_wheels_are_copied(home: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    folder = home.parent / "churn"
    mloop.models.save(LogisticRegression().fit(frame, [0, 0, 1, 1]), folder)
    wheel = tmp_path / "mloop-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    options = BuildOptions(wheels=(str(wheel),), mloop_spec="mloop[serve]")
    report = build(str(folder), "docker", tmp_path / "out", options)
    assert report.name == "churn"
    assert report.version == report.digest[:12]
    assert (tmp_path / "out" / "wheels" / wheel.name).read_bytes() == b"PK"
    assert (tmp_path / "out" / "requirements.txt").read_text().startswith("mloop[serve]\n")


def test_a_package_signed_by_a_revoked_key_is_not_copied(home: Path, tmp_path: Path) -> None:
    key = mloop.models.init_keys()
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    mloop.models.save(LogisticRegression().fit(frame, [0, 0, 1, 1]), home.parent / "pkg")
    version = mloop.models.register(str(home.parent / "pkg"), "signed")
    assert version.signing_key_id == key.key_id
    build(version.ref, "docker", tmp_path / "ok")  # signed by a trusted key
    mloop.models.revoke_key(key.key_id)
    mloop.models.clear_cache()
    with pytest.raises(IntegrityError, match="does not trust"):
        build(version.ref, "docker", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_force_never_replaces_the_working_folder_or_the_store(
    registered: str, home: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="--force replaces only a folder of its own"):
        build(registered, "docker", tmp_path, BuildOptions(force=True))  # the working folder
    with pytest.raises(InvalidInput, match="--force replaces only a folder of its own"):
        build(registered, "docker", home, BuildOptions(force=True))
    assert (home / "mloop.db").is_file()
