"""The options every integration takes, checked before anything is patched."""

from __future__ import annotations

import pytest

from mloop.autologging.options import Options, accepted_arguments, check_tags, unknown_argument
from mloop.errors import InvalidInput


def test_defaults_are_mlflows() -> None:
    opts = Options.build("sklearn")
    assert (opts.log_models, opts.log_input_examples, opts.log_model_signatures) == (
        True,
        False,
        True,
    )
    assert (opts.log_datasets, opts.exclusive, opts.silent) == (True, False, False)
    assert opts.disable_for_unsupported_versions is False


def test_an_unknown_flag_is_refused_with_a_suggestion() -> None:
    with pytest.raises(InvalidInput, match="did you mean 'silent'"):
        Options.build("sklearn", silnet=True)


def test_tags_become_strings() -> None:
    assert check_tags({"n": 3}) == {"n": "3"}
    with pytest.raises(InvalidInput, match="extra_tags"):
        check_tags({1: "x"})  # type: ignore[dict-item]


def test_accepted_arguments_leave_out_the_catch_all() -> None:
    def switch(*, a: int = 1, b: int = 2, **unknown: object) -> None: ...

    assert accepted_arguments(switch) == ["a", "b"]
    assert "it takes: a, b" in str(unknown_argument("switch", "zz", ["b", "a"]))
