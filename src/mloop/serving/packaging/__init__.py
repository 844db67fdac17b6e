"""Packaging: a model's server as an image, Kubernetes or KServe manifests, a Ray Serve config.

``mloop models build REF --target docker|k8s|kserve|ray-serve --out DIR`` writes a
folder to ``docker build`` and ``kubectl apply``, or to ``serve deploy``; no Docker
engine or cluster is needed to write it. One module per target (:mod:`.docker`,
:mod:`.kubernetes`, :mod:`.kserve`, :mod:`.ray_serve`) over a shared :mod:`.context`.

Example:
    >>> sorted(TARGETS)
    ['docker', 'k8s', 'kserve', 'ray-serve']
"""

from mloop.serving.packaging.builder import TARGETS as TARGETS
from mloop.serving.packaging.builder import BuildReport as BuildReport
from mloop.serving.packaging.builder import build as build
from mloop.serving.packaging.context import BuildOptions as BuildOptions

__all__ = ["TARGETS", "BuildOptions", "BuildReport", "build"]
