"""Patches put back exactly what they replaced."""

from __future__ import annotations

from typing import Any

from sklearn.pipeline import Pipeline

from mloop.autologging.patching import Patch


class Base:
    def fit(self, x: int) -> int:
        return x

    @property
    def size(self) -> int:
        return 1


class Child(Base):
    pass


def doubled(original: Any, self: Any, x: int) -> int:
    return int(original(self, x)) * 2


def test_an_own_method_is_put_back() -> None:
    fit = Base.__dict__["fit"]
    patch = Patch.of_method(Base, "fit")
    assert patch is not None
    patch.install(doubled)
    assert Base().fit(2) == 4 and Child().fit(2) == 4
    assert Base.fit.__name__ == "fit" and Base.fit.__wrapped__ is fit  # type: ignore[attr-defined]
    patch.restore()
    assert Base.__dict__["fit"] is fit


def test_an_inherited_method_is_removed_again() -> None:
    patch = Patch.of_method(Child, "fit")
    assert patch is not None
    patch.install(doubled)
    assert Child().fit(2) == 4 and Base().fit(2) == 2
    patch.restore()
    assert "fit" not in vars(Child)
    patch.restore()  # twice is harmless
    assert Child().fit(2) == 2


def test_only_methods_are_patched() -> None:
    assert Patch.of_method(Base, "size") is None
    assert Patch.of_method(Base, "missing") is None


def test_a_conditional_method_is_patched_inside_its_descriptor() -> None:
    descriptor = Pipeline.__dict__["fit_transform"]
    fn = descriptor.fn
    patch = Patch.of_method(Pipeline, "fit_transform")
    assert patch is not None and patch.owner is descriptor
    patch.install(lambda original, *args, **kwargs: original(*args, **kwargs))
    assert Pipeline.__dict__["fit_transform"] is descriptor and descriptor.fn is not fn
    patch.restore()
    assert descriptor.fn is fn
