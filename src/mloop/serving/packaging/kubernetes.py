"""The ``k8s`` target: a Deployment, a Service and a HorizontalPodAutoscaler of the image.

The Deployment's pods run as the image's non-root user with a read-only root
filesystem (``/tmp`` is an ``emptyDir``, the server's local store lives
there), no privilege escalation, every capability dropped and the runtime's
default seccomp profile. Probes ask the Open Inference health endpoints: a
startup probe gives the model time to load, then readiness asks
``/v2/health/ready`` and liveness ``/v2/health/live``. The Service is a
ClusterIP on port 80; the autoscaler follows CPU utilisation.

Example:
    >>> from mloop.serving.packaging.context import BuildContext, BuildOptions
    >>> ctx = BuildContext("credit", "3", "ab" * 32, "sklearn", "3.11", (), BuildOptions())
    >>> [m["kind"] for m in manifests(ctx).values()]
    ['Deployment', 'Service', 'HorizontalPodAutoscaler']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mloop.serving.packaging.context import MLOOP_HOME, PORT, UID, BuildContext

FOLDER = "kubernetes"
_GRACE_SECONDS = 45  # the server drains for up to 30 s after SIGTERM


def probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    """An HTTP probe of the server's port."""
    return {
        "httpGet": {"path": path, "port": PORT},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def probes() -> dict[str, Any]:
    """Startup (up to 5 minutes to load the model), readiness and liveness probes."""
    return {
        "startupProbe": probe("/v2/health/live", period=5, failures=60),
        "readinessProbe": probe("/v2/health/ready", period=5, failures=3),
        "livenessProbe": probe("/v2/health/live", period=10, failures=3),
    }


def resources(ctx: BuildContext) -> dict[str, Any]:
    """Requests and limits from the build options (no CPU limit when ``--cpu-limit`` is empty)."""
    options = ctx.options
    limits = {"memory": options.memory_limit}
    if options.cpu_limit:
        limits["cpu"] = options.cpu_limit
    return {"requests": {"cpu": options.cpu, "memory": options.memory}, "limits": limits}


def container_security(*, read_only_root: bool) -> dict[str, Any]:
    """A container that cannot gain privileges: non-root, no capabilities, default seccomp."""
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security() -> dict[str, Any]:
    """The pod's security context: the image's user, the runtime's default seccomp profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _selector(ctx: BuildContext) -> dict[str, str]:
    return {"app.kubernetes.io/name": ctx.resource_name, "app.kubernetes.io/instance": "mloop"}


def deployment(ctx: BuildContext) -> dict[str, Any]:
    """The apps/v1 Deployment."""
    labels = {**ctx.labels, **_selector(ctx)}
    container = {
        "name": "model-server",
        "image": ctx.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": [{"name": "MLOOP_HOME", "value": MLOOP_HOME}],
        **probes(),
        "resources": resources(ctx),
        "securityContext": container_security(read_only_root=True),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ctx.resource_name, "labels": labels, "annotations": ctx.annotations},
        # No "replicas": the HorizontalPodAutoscaler owns the count, and a replica count
        # here would reset its choice on every `kubectl apply`.
        "spec": {
            "selector": {"matchLabels": _selector(ctx)},
            "template": {
                "metadata": {"labels": labels, "annotations": ctx.annotations},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(),
                    "terminationGracePeriodSeconds": _GRACE_SECONDS,
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
                },
            },
        },
    }


def service(ctx: BuildContext) -> dict[str, Any]:
    """The v1 Service: ClusterIP, port 80 to the server's port."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": ctx.resource_name, "labels": {**ctx.labels, **_selector(ctx)}},
        "spec": {
            "type": "ClusterIP",
            "selector": _selector(ctx),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def autoscaler(ctx: BuildContext) -> dict[str, Any]:
    """The autoscaling/v2 HorizontalPodAutoscaler on CPU utilisation."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": ctx.resource_name, "labels": {**ctx.labels, **_selector(ctx)}},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": ctx.resource_name,
            },
            "minReplicas": ctx.options.min_replicas,
            "maxReplicas": ctx.options.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": ctx.options.cpu_target,
                        },
                    },
                }
            ],
        },
    }


def manifests(ctx: BuildContext) -> dict[str, dict[str, Any]]:
    """``{file name: manifest}`` of the target."""
    return {
        "deployment.yaml": deployment(ctx),
        "service.yaml": service(ctx),
        "hpa.yaml": autoscaler(ctx),
    }


class _Dumper(yaml.SafeDumper):
    """Plain YAML: a mapping used twice is written twice, not as an anchor and alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(manifest: dict[str, Any]) -> str:
    """A manifest as YAML, keys in the order written."""
    return yaml.dump(manifest, Dumper=_Dumper, sort_keys=False)


def write(ctx: BuildContext, out: Path) -> list[str]:
    """Write the manifests into ``out/kubernetes/``; returns the paths written."""
    (out / FOLDER).mkdir()
    written = []
    for file, manifest in manifests(ctx).items():
        (out / FOLDER / file).write_text(dump(manifest))
        written.append(f"{FOLDER}/{file}")
    return written
