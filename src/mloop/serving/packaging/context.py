"""What every build target shares: the model being packaged, the image, the options, names.

A :class:`BuildOptions` is what the user chose (checked before anything is
found or written); a :class:`BuildContext` adds what the package says about
itself (name, version, digest, flavor, Python and pinned requirements).

Example:
    >>> kubernetes_name("Credit_Scorer.v2")
    'credit-scorer-v2'
    >>> BuildOptions(cpu="250m", memory="512Mi").check()
"""

from __future__ import annotations

import dataclasses
import re

from mloop.errors import InvalidInput

PORT = 8080
UID = 10001
MODEL_DIR = "/model"
# The server's writable place (its local store) when the root filesystem is read-only.
MLOOP_HOME = "/tmp/mloop"

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_IMAGE = re.compile(r"^[a-z0-9]+([._/:@-][A-Za-z0-9_.-]+)*$")
_LABEL_VALUE = re.compile(r"[^A-Za-z0-9._-]+")
# Ray Serve's config takes a folder on every node, or one zip file at a remote URI.
_WORKING_DIR = re.compile(r"^(local:///\S*|(s3|gs|https?|azure|abfss|file)://\S+\.zip)$")


def kubernetes_name(name: str) -> str:
    """``name`` as a DNS-1123 label (lowercase letters, digits, ``-``; at most 63 characters).

    Raises:
        InvalidInput: nothing usable is left of the name.
    """
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63].rstrip("-")
    if not label or not label[0].isalpha():
        raise InvalidInput(
            f"{name!r} gives no Kubernetes name (a lowercase letter first); pass --name"
        )
    return label


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value (letters, digits, ``-_.``; at most 63 characters)."""
    return _LABEL_VALUE.sub("-", text)[:63].strip("-_.") or "unknown"


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    """The choices of a build; every field has a default that works.

    ``image`` defaults to ``mloop-model-<name>:<version>``; ``mloop_spec`` to
    ``mloop[serve]==<the installed version>``; ``wheels`` are copied into the
    build folder and preferred by ``pip`` over an index (a wheel of mloop
    itself where it is not published on the index the image can reach).
    ``working_dir`` is where Ray Serve's replicas find the built folder
    (``ray-serve`` only): a ``local:///path`` on every node or a ``.zip`` at a
    remote URI.
    """

    name: str | None = None
    image: str | None = None
    base_image: str | None = None
    mloop_spec: str | None = None
    wheels: tuple[str, ...] = ()
    cpu: str = "500m"
    memory: str = "1Gi"
    cpu_limit: str | None = "2"
    memory_limit: str = "2Gi"
    min_replicas: int = 1
    max_replicas: int = 5
    cpu_target: int = 70
    working_dir: str | None = None
    force: bool = False

    def check(self) -> None:
        """Refuse bad values before anything is found or written.

        Raises:
            InvalidInput: a bad quantity, image, replica range or CPU target.
        """
        for flag, value in (
            ("--cpu", self.cpu),
            ("--memory", self.memory),
            ("--cpu-limit", self.cpu_limit),
            ("--memory-limit", self.memory_limit),
        ):
            if value is not None and not _QUANTITY.match(value):
                raise InvalidInput(
                    f"{flag} {value!r} is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 1Gi)"
                )
        for flag, image in (("--image", self.image), ("--base-image", self.base_image)):
            if image is not None and not _IMAGE.match(image):
                raise InvalidInput(f"{flag} {image!r} is not an image reference (name:tag)")
        if self.mloop_spec is not None and (not self.mloop_spec.strip() or "\n" in self.mloop_spec):
            raise InvalidInput(f"--mloop-spec {self.mloop_spec!r} is not one requirement")
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise InvalidInput(
                f"replicas must satisfy 1 <= --min-replicas ({self.min_replicas}) <= "
                f"--max-replicas ({self.max_replicas})"
            )
        if not 1 <= self.cpu_target <= 100:
            raise InvalidInput(f"--cpu-target must be a percentage 1..100, got {self.cpu_target}")
        for wheel in self.wheels:
            if not wheel.endswith(".whl"):
                raise InvalidInput(f"--wheel {wheel!r} is not a wheel file (*.whl)")
        if self.name is not None:
            kubernetes_name(self.name)
        if self.working_dir is not None and not _WORKING_DIR.match(self.working_dir):
            raise InvalidInput(
                f"--working-dir {self.working_dir!r} is neither local:///PATH (a folder on every "
                "node) nor a .zip at a remote URI (s3://, gs://, https://...)"
            )


@dataclasses.dataclass(frozen=True)
class BuildContext:
    """A verified package and the choices that shape its image and manifests."""

    name: str
    version: str
    digest: str
    flavor: str
    python: str
    requirements: tuple[str, ...]
    options: BuildOptions

    @property
    def resource_name(self) -> str:
        """The name of the Kubernetes objects (a DNS-1123 label)."""
        return kubernetes_name(self.name)

    @property
    def image(self) -> str:
        """The image the manifests run: ``--image``, else ``mloop-model-<name>:<version>``."""
        return self.options.image or f"mloop-model-{self.resource_name}:{self.version}"

    @property
    def base_image(self) -> str:
        """The slim Python image of the package's Python (major.minor)."""
        return self.options.base_image or f"python:{self.python}-slim"

    @property
    def labels(self) -> dict[str, str]:
        """The recommended ``app.kubernetes.io`` labels of every object."""
        return {
            "app.kubernetes.io/name": self.resource_name,
            "app.kubernetes.io/version": label_value(self.version),
            "app.kubernetes.io/component": "model-server",
            "app.kubernetes.io/managed-by": "mloop",
        }

    @property
    def annotations(self) -> dict[str, str]:
        """What the package is: its digest and flavor."""
        return {"mloop.dev/model-digest": self.digest, "mloop.dev/model-flavor": self.flavor}

    @property
    def server_args(self) -> list[str]:
        """``mloop serve`` as the image's entry point runs it."""
        return [
            "mloop",
            "serve",
            MODEL_DIR,
            "--host",
            "0.0.0.0",
            "--port",
            str(PORT),
            "--name",
            self.name,
        ]
