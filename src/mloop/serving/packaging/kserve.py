"""The ``kserve`` target: a KServe InferenceService running the image as a custom predictor.

A custom predictor is a pod spec whose container is named
``kserve-container``; KServe reads the protocol it speaks from that
container's ``PROTOCOL`` environment variable (``protocolVersion`` is a
field of KServe's built-in model specs only), so ``PROTOCOL=v2`` declares the
Open Inference Protocol, which ``mloop serve`` answers at ``/v2/...``.

The root filesystem stays writable here (``/tmp`` holds the server's local
store): KServe's default serverless mode does not mount an ``emptyDir``
unless Knative's feature flag allows it.

Example:
    >>> from mloop.serving.packaging.context import BuildContext, BuildOptions
    >>> ctx = BuildContext("credit", "3", "ab" * 32, "sklearn", "3.11", (), BuildOptions())
    >>> service = inference_service(ctx)
    >>> service["spec"]["predictor"]["containers"][0]["env"][0]
    {'name': 'PROTOCOL', 'value': 'v2'}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mloop.serving.packaging.context import MLOOP_HOME, PORT, BuildContext
from mloop.serving.packaging.kubernetes import (
    container_security,
    dump,
    pod_security,
    probes,
    resources,
)

FOLDER = "kserve"
FILE = "inferenceservice.yaml"


def inference_service(ctx: BuildContext) -> dict[str, Any]:
    """The serving.kserve.io/v1beta1 InferenceService."""
    container = {
        "name": "kserve-container",
        "image": ctx.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": PORT, "protocol": "TCP"}],
        "env": [
            {"name": "PROTOCOL", "value": "v2"},
            {"name": "MLOOP_HOME", "value": MLOOP_HOME},
        ],
        **probes(),
        "resources": resources(ctx),
        "securityContext": container_security(read_only_root=False),
    }
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": ctx.resource_name,
            "labels": ctx.labels,
            "annotations": ctx.annotations,
        },
        "spec": {
            "predictor": {
                "minReplicas": ctx.options.min_replicas,
                "maxReplicas": ctx.options.max_replicas,
                "scaleMetric": "cpu",
                "scaleTarget": ctx.options.cpu_target,
                "automountServiceAccountToken": False,
                "securityContext": pod_security(),
                "containers": [container],
            }
        },
    }


def write(ctx: BuildContext, out: Path) -> list[str]:
    """Write the InferenceService into ``out/kserve/``; returns the path written."""
    (out / FOLDER).mkdir()
    (out / FOLDER / FILE).write_text(dump(inference_service(ctx)))
    return [f"{FOLDER}/{FILE}"]
