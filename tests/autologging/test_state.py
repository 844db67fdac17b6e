"""Which integrations are on, and their patches."""

from __future__ import annotations

from mloop.autologging import state
from mloop.autologging.options import Options
from mloop.autologging.patching import Patch


class Model:
    def fit(self) -> str:
        return "fitted"


def test_patches_are_made_once_and_put_back_on_disable() -> None:
    made: list[int] = []

    def patches() -> list[Patch]:
        made.append(1)
        return [Patch.of(Model, "fit")]

    def wrapper(_: Patch) -> object:
        return lambda original, self: "logged " + original(self)

    state.enable(Options.build("toy"), patches, wrapper)
    state.enable(Options.build("toy", silent=True), patches, wrapper)
    assert made == [1]
    assert Model().fit() == "logged fitted"
    assert state.options_of("toy").silent is True  # type: ignore[union-attr]
    state.disable("toy")
    assert Model().fit() == "fitted" and state.options_of("toy") is None
    assert not state.is_patched("toy")
