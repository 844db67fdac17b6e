from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.errors import InvalidInput, NotFound


def test_log_dict_yaml_and_bad_json(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("y")).info.run_id
    client.log_dict(run_id, {"a": [1, 2]}, "cfg.yaml")
    assert client.load_text(run_id, "cfg.yaml").startswith("a:")
    with pytest.raises(InvalidInput, match="serialize"):
        client.log_dict(run_id, {"a": float("nan"), "b": {1, 2}, ("t",): 1}, "x.json")  # type: ignore[dict-item]
    with pytest.raises(InvalidInput):
        client.log_text(run_id, b"bytes", "x.txt")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="name a file"):
        client.log_text(run_id, "x", "")
    with pytest.raises(NotFound):
        client.load_text(run_id, "missing.txt")


def test_record_artifacts_and_io_of_a_live_run_are_buffered(client: mloop.Client) -> None:
    from mloop.entities import RunIO

    run_id = client.create_run(client.create_experiment("io")).info.run_id
    digest = client.content.put_bytes(b"stored once")
    client.record_artifacts(run_id, [("out/a.bin", digest, 11), ("out/b.bin", digest, 11)])
    client.record_artifacts(run_id, [("out/a.bin", digest, 11)])  # logged again: one row
    client.log_inputs(run_id, [RunIO(digest, "a", "artifact", "output", "step")], "output")
    assert client._backend.writer.pending > 0  # nothing written yet
    assert [a.path for a in client.list_artifacts(run_id, "out")] == ["out/a.bin", "out/b.bin"]
    assert client.load_text(run_id, "out/a.bin") == "stored once"
    assert [(r, io.direction) for r, io in client.find_io(digest)] == [(run_id, "output")]
    with pytest.raises(NotFound, match="is not stored"):
        client.record_artifacts(run_id, [("x.bin", "0" * 64, 1)])
    with pytest.raises(InvalidInput, match=r"escapes|must"):
        client.record_artifacts(run_id, [("../x.bin", digest, 11)])
    with pytest.raises(InvalidInput, match="direction must be"):
        client.log_inputs(run_id, [RunIO(digest, "a", "artifact", "sideways")])
    client.set_terminated(run_id)
    # a run this client does not own is written straight away
    other = mloop.Client()
    other.record_artifacts(run_id, [("late.bin", digest, 11)])
    assert "late.bin" in [a.path for a in client.list_artifacts(run_id)]


def test_files_and_folders_round_trip(client: mloop.Client, tmp_path: Path) -> None:
    run_id = client.create_run(client.create_experiment("files")).info.run_id
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.txt").write_text("a")
    (tmp_path / "data" / "sub" / "b.txt").write_text("b")
    client.log_artifact(run_id, tmp_path / "data" / "a.txt", "one")
    client.log_artifacts(run_id, tmp_path / "data", "tree")
    assert [a.path for a in client.list_artifacts(run_id)] == ["one", "tree"]
    every = client.list_artifacts(run_id, "tree", recursive=True)
    assert [a.path for a in every] == ["tree/a.txt", "tree/sub/b.txt"]
    copied = Path(client.download_artifacts(run_id, "tree", tmp_path / "out"))
    assert (copied / "sub" / "b.txt").read_text() == "b"
    with pytest.raises(NotFound, match="not a directory"):
        client.log_artifacts(run_id, tmp_path / "data" / "a.txt")


def test_log_figure_refuses_what_cannot_be_saved(client: mloop.Client) -> None:
    run_id = client.create_run(client.create_experiment("figures")).info.run_id
    with pytest.raises(InvalidInput, match="matplotlib Figure"):
        client.log_figure(run_id, "not a figure", "plot.png")
    assert client.list_artifacts(run_id) == []
