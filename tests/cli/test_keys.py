from pathlib import Path
from tests.cli.conftest import invoke
from tests.models.conftest import credit_frame, fit_classifier, log_and_register


def test_explore(home: Path, tmp_path: Path) -> None:
    print(invoke("keys", "ls"))
    print(invoke("keys", "init"))
    print(invoke("keys", "init"))
    out = invoke("keys", "ls", "--json")
    print(out)
    import json

    kid = json.loads(out[1])[0]["key_id"]
    print(invoke("keys", "ls"))
    print(invoke("keys", "revoke", kid))
    print(invoke("keys", "revoke", kid))
    print(invoke("keys", "revoke", "0" * 16))
    print(invoke("keys", "revoke", "zz"))
    print(invoke("keys", "ls", "--all"))
    print(invoke("keys", "init"))
    print(invoke("keys", "init", "--rotate"))
    print(invoke("keys", "ls", "--all"))
    print(invoke("models", "ls", "nope"))
    print(invoke("models", "history", "nope"))
    print(invoke("models", "register", str(tmp_path / "nothere"), "x"))
    print(invoke("models", "register", "s3://b/m", "x"))
    print(
        invoke(
            "models",
            "gate",
            "x/1",
            "--data",
            "nope.csv",
            "--target",
            "label",
            "--rule",
            "accuracy>0",
        )
    )
