"""The ``docker`` target: a Dockerfile that installs the pinned requirements and serves the package.

The image is a slim Python base, the requirements installed from
``requirements.txt`` (wheels in ``wheels/`` preferred), the package copied to
``/model`` and loaded once at build time (digests checked, the model loaded by
its flavor with the installed libraries), a non-root numeric user, a
``HEALTHCHECK`` through Python's urllib (slim images have no curl) and
``mloop serve /model`` as the entry point.

Example:
    >>> from mloop.serving.packaging.context import BuildContext, BuildOptions
    >>> ctx = BuildContext("credit", "3", "ab" * 32, "sklearn", "3.11", (), BuildOptions())
    >>> dockerfile(ctx).splitlines()[1]
    'FROM python:3.11-slim'
"""

from __future__ import annotations

import json
import string
from pathlib import Path

from mloop.serving.packaging.context import MLOOP_HOME, MODEL_DIR, PORT, UID, BuildContext

_TEMPLATE = string.Template("""\
# The model server of $name version $version (package $digest), made by `mloop models build`.
FROM $base_image

LABEL org.opencontainers.image.title="mloop-model-$resource_name" \\
      org.opencontainers.image.version="$version" \\
      dev.mloop.model.name="$name" \\
      dev.mloop.model.version="$version" \\
      dev.mloop.model.digest="$digest" \\
      dev.mloop.model.flavor="$flavor"

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    MLOOP_HOME=$mloop_home

RUN groupadd --system --gid $uid mloop \\
    && useradd --system --uid $uid --gid $uid --no-create-home --home-dir /nonexistent \\
       --shell /usr/sbin/nologin mloop

WORKDIR /srv
COPY requirements.txt /srv/requirements.txt
COPY wheels/ /srv/wheels/
RUN pip install --no-cache-dir --find-links /srv/wheels -r /srv/requirements.txt

# Owned by root and read-only for the server's user.
COPY model/ $model_dir/
# Loaded once now: every file against the package's digests, the model by its flavor with
# the libraries just installed. A damaged copy or a missing library fails the build.
RUN MLOOP_HOME=/tmp/mloop-check python -c $check \\
    && rm -rf /tmp/mloop-check

USER $uid:$uid
EXPOSE $port
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\
    CMD $healthcheck
ENTRYPOINT $entrypoint
""")

_CHECK = (
    "import sys, mloop; d = mloop.models.load('{model_dir}').digest; "
    "sys.exit(None if d == '{digest}' else 'the package in {model_dir} is ' + d)"
)
_HEALTHCHECK = (
    "import sys, urllib.request; "
    "sys.exit(urllib.request.urlopen('http://127.0.0.1:{port}/ping', timeout=4).status != 200)"
)

DOCKERIGNORE = "*\n!Dockerfile\n!requirements.txt\n!wheels/\n!model/\n"


def dockerfile(ctx: BuildContext) -> str:
    """The Dockerfile's text for ``ctx``."""
    check = _CHECK.format(model_dir=MODEL_DIR, digest=ctx.digest)
    healthcheck = ["python", "-c", _HEALTHCHECK.format(port=PORT)]
    return _TEMPLATE.substitute(
        name=ctx.name,
        version=ctx.version,
        digest=ctx.digest,
        flavor=ctx.flavor,
        resource_name=ctx.resource_name,
        base_image=ctx.base_image,
        mloop_home=MLOOP_HOME,
        uid=UID,
        port=PORT,
        model_dir=MODEL_DIR,
        check=json.dumps(check),
        healthcheck=json.dumps(healthcheck),
        entrypoint=json.dumps(ctx.server_args),
    )


def requirements(ctx: BuildContext) -> str:
    """``requirements.txt``: mloop with its server, then the package's pinned requirements."""
    return "".join(f"{line}\n" for line in ctx.requirements)


def write(ctx: BuildContext, out: Path) -> list[str]:
    """Write the Dockerfile, ``requirements.txt`` and ``.dockerignore`` into ``out``.

    Returns the paths written, relative to ``out``.
    """
    (out / "Dockerfile").write_text(dockerfile(ctx))
    (out / "requirements.txt").write_text(requirements(ctx))
    (out / ".dockerignore").write_text(DOCKERIGNORE)
    return ["Dockerfile", "requirements.txt", ".dockerignore"]
