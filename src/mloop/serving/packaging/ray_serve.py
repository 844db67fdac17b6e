"""The ``ray-serve`` target: a Ray Serve config (``serve deploy``/``serve run``) and its README.

``serve.yaml`` is the multi-application config Ray Serve's CLI and REST API
accept. Its one application imports ``mloop.serving.ray_serve:build_app``,
which builds the same app as ``mloop serve`` from the config's ``args``; each
replica loads the package copied into ``model/``, found in the application's
working directory. Ray Serve takes a working directory only as a ``.zip`` at
a remote URI (``s3://``, ``gs://``, ``https://``...) or as a folder already on
every node (``local:///path``): ``--working-dir`` names it, by default
``local:///srv/mloop/models/NAME-VERSION`` (copy the built folder there on
every node). Replicas follow ``--min-replicas``/``--max-replicas`` (a fixed
count when equal, Serve's autoscaler between them otherwise) and reserve
``--cpu`` and ``--memory`` each.

Example:
    >>> from mloop.serving.packaging.context import BuildContext, BuildOptions
    >>> ctx = BuildContext("credit", "3", "ab" * 32, "sklearn", "3.11", (), BuildOptions())
    >>> app = serve_config(ctx)["applications"][0]
    >>> app["import_path"], app["args"]
    ('mloop.serving.ray_serve:build_app', {'models': {'credit': 'model'}})
    >>> quantity("500m"), quantity("1Gi")
    (0.5, 1073741824.0)
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from mloop.errors import InvalidInput
from mloop.serving.packaging.context import MLOOP_HOME, PORT, BuildContext
from mloop.serving.packaging.kubernetes import dump

FILE = "serve.yaml"
README = "README.md"
# What mloop.serving.ray_serve names (not imported here: it needs the server's extra to import).
IMPORT_PATH = "mloop.serving.ray_serve:build_app"
DEPLOYMENT = "mloop-model-server"
_SUFFIXES = {
    "": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60,
}  # fmt: skip
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")


def quantity(value: str) -> float:
    """A Kubernetes quantity (``500m``, ``2``, ``1Gi``) as a number.

    Raises:
        InvalidInput: not a quantity.
    """
    match = _QUANTITY.match(value)
    if match is None or match.group(2) not in _SUFFIXES:
        raise InvalidInput(f"{value!r} is not a quantity (e.g. 500m, 2, 512Mi, 1Gi)")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def working_dir(ctx: BuildContext) -> str:
    """Where the replicas find the built folder: ``--working-dir``, else a ``local://`` path."""
    return ctx.options.working_dir or f"local:///srv/mloop/models/{ctx.resource_name}-{ctx.version}"


def _replicas(ctx: BuildContext) -> dict[str, Any]:
    low, high = ctx.options.min_replicas, ctx.options.max_replicas
    if low == high:
        return {"num_replicas": low}
    return {"autoscaling_config": {"min_replicas": low, "max_replicas": high}}


def serve_config(ctx: BuildContext) -> dict[str, Any]:
    """The config ``serve deploy`` takes: HTTP on every node's port 8080, one application."""
    options = ctx.options
    deployment = {
        "name": DEPLOYMENT,
        **_replicas(ctx),
        "ray_actor_options": {
            "num_cpus": quantity(options.cpu),
            "memory": int(quantity(options.memory)),
        },
    }
    application = {
        "name": ctx.resource_name,
        "route_prefix": "/",
        "import_path": IMPORT_PATH,
        "args": {"models": {ctx.name: "model"}},
        "runtime_env": {
            "working_dir": working_dir(ctx),
            "pip": list(ctx.requirements),
            "env_vars": {"MLOOP_HOME": MLOOP_HOME},
        },
        "deployments": [deployment],
    }
    return {
        "proxy_location": "EveryNode",
        "http_options": {"host": "0.0.0.0", "port": PORT},
        "applications": [application],
    }


_README = string.Template("""\
# $name version $version on Ray Serve

Made by `mloop models build --target ray-serve` (package `$digest`, flavor $flavor).

`serve.yaml` deploys the model as one Ray Serve application, `$app`: the same
server as `mloop serve` (MLflow's `/invocations`, the Open Inference Protocol's
`/v2/models/$name/infer`, `/predict`, `/metrics`), on port $port of every node.
Each replica loads the package in `model/`, checking every file against its
digest first.

## Put the folder where the replicas find it

The application's working directory is `$working_dir`. Ray Serve takes either

- a folder that already exists on every node, as a `local://` URI: copy this
  folder there on each node (`rsync -a ./ node:/srv/mloop/models/...`); or
- a `.zip` of this folder at a remote URI (`s3://`, `gs://`, `https://`):

  ```bash
  zip -r ../$app-$version.zip .
  aws s3 cp ../$app-$version.zip s3://BUCKET/$app-$version.zip
  ```

  and build again with `--working-dir s3://BUCKET/$app-$version.zip` (or edit
  `working_dir` in `serve.yaml`).

## Deploy

```bash
ray start --head                 # or use a running cluster (RAY_ADDRESS)
serve deploy serve.yaml          # through the cluster's dashboard (port 8265)
serve status                     # $app: RUNNING once every replica answers
curl -s localhost:$port/v2/health/ready
```

`serve run serve.yaml` runs it in the foreground instead.

The replicas install `pip:` from `serve.yaml` into their runtime environment
(mloop with its server, then the package's pinned requirements); every node
needs Ray Serve (`pip install 'ray[serve]'`). Each replica reserves
$cpus CPU and $memory of memory; `$replicas`.
Serve's autoscaler follows the requests in flight per replica
(`target_ongoing_requests`, Ray Serve's default unless you set it).

The prediction log goes to each replica's local store under `$mloop_home`; set
`MLOOP_TRACKING_URI` and `MLOOP_ARTIFACTS_URI` in `env_vars` to keep it in the
team's store instead.
""")


def readme(ctx: BuildContext) -> str:
    """The README of the folder: where to put it, how to deploy it."""
    replicas = _replicas(ctx)
    count = (
        f"{replicas['num_replicas']} replica(s)"
        if "num_replicas" in replicas
        else f"between {ctx.options.min_replicas} and {ctx.options.max_replicas} replicas"
    )
    return _README.substitute(
        name=ctx.name,
        version=ctx.version,
        digest=ctx.digest,
        flavor=ctx.flavor,
        app=ctx.resource_name,
        port=PORT,
        working_dir=working_dir(ctx),
        cpus=f"{quantity(ctx.options.cpu):g}",
        memory=ctx.options.memory,
        replicas=count,
        mloop_home=MLOOP_HOME,
    )


def write(ctx: BuildContext, out: Path) -> list[str]:
    """Write ``serve.yaml`` and ``README.md`` into ``out``; returns the paths written."""
    (out / FILE).write_text(dump(serve_config(ctx)))
    (out / README).write_text(readme(ctx))
    return [FILE, README]
