from __future__ import annotations

from pathlib import Path

import pytest

from mloop.errors import InvalidInput
from mloop.models.uris import (
    ModelUri,
    check_alias,
    check_model_name,
    parse_model_uri,
    parse_version_ref,
)

RUN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:/credit/3", ModelUri("models", "credit", version=3)),
        ("models:/credit@champion", ModelUri("models", "credit", alias="champion")),
        ("models:/credit/latest", ModelUri("models", "credit")),
        ("models:/credit", ModelUri("models", "credit")),
        (f"runs:/{RUN}/model", ModelUri("runs", run_id=RUN, path="model")),
        (f"runs:/{RUN}/nested/model/", ModelUri("runs", run_id=RUN, path="nested/model")),
        ("/tmp/pkg", ModelUri("path", path="/tmp/pkg")),
        ("file:///tmp/pkg", ModelUri("path", path="/tmp/pkg")),
        ("relative/pkg", ModelUri("path", path="relative/pkg")),
    ],
)
def test_parses_every_kind(text: str, expected: ModelUri) -> None:
    assert parse_model_uri(text) == expected


def test_paths_may_be_path_objects() -> None:
    assert parse_model_uri(Path("/tmp/x")).path == "/tmp/x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models:/credit/0", "version number from 1"),
        ("models:/credit/-1", "version number"),
        ("models:/credit/v2", "version number"),
        ("models:/credit@3", "invalid alias"),
        ("models:/credit@latest", "reserved"),
        ("models:/", "invalid model name"),
        ("runs:/nothex/model", "32-hex"),
        (f"runs:/{RUN}", "32-hex"),
        ("http://host/model", "unsupported model URI"),
    ],
)
def test_malformed_uris_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_model_uri(text)


@pytest.mark.parametrize(
    "text", ["models:/m-1234", "models:/m-5793c91765c748d989118aa7e93e6bd8", "models:/m-abcd/"]
)
def test_an_mlflow_logged_model_uri_says_which_uris_work(text: str) -> None:
    with pytest.raises(InvalidInput, match="MLflow logged model") as caught:
        parse_model_uri(text)
    assert "runs:/RUN_ID/PATH" in str(caught.value)
    assert "models:/NAME/VERSION" in str(caught.value)


def test_a_registered_model_named_like_a_logged_model_is_reached_by_version() -> None:
    assert parse_model_uri("models:/m-1234/2") == ModelUri("models", "m-1234", version=2)
    assert parse_model_uri("models:/m-1234@prod").alias == "prod"
    assert parse_model_uri("models:/m-model").name == "m-model"  # not hex: a plain name


def test_logged_model_through_pyfunc_is_refused_before_the_store_is_read() -> None:
    from mloop import pyfunc

    with pytest.raises(InvalidInput, match="logged-model ids are MLflow's"):
        pyfunc.load_model("models:/m-1234")


def test_version_refs_without_the_scheme() -> None:
    assert parse_version_ref("credit/3") == ModelUri("models", "credit", version=3)
    assert parse_version_ref("credit@prod").alias == "prod"
    with pytest.raises(InvalidInput, match="string"):
        parse_version_ref(3)


def test_names_and_aliases() -> None:
    assert check_model_name("credit-risk_v2.1") == "credit-risk_v2.1"
    for bad in ("", "-x", "a/b", "a b", "x" * 257, None):
        with pytest.raises(InvalidInput, match="invalid model name"):
            check_model_name(bad)
    assert check_alias("champion") == "champion"
    for bad in ("1", "latest", "a b", "", "a" * 129):
        with pytest.raises(InvalidInput, match="invalid alias"):
            check_alias(bad)
