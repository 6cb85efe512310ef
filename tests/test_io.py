"""gbrank._io: the training files the command line reads and the model files it
writes (atomic for regular files, never replacing anything else)."""

from __future__ import annotations

import os
import stat
import threading

import lightgbm as lgb
import numpy as np
import pytest

from gbrank import _io

# -- training files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("train_line", "base", "column"),
    [
        ("1 qid:1 0:1 2:1 # comment 0:9", "auto", 2),  # feature 0 in train: 0-based
        ("1 qid:1 1:1 2:1 # a comment 0:9", "auto", 1),  # comments do not count
        ("1 qid:1 0:1 2:1", "0", 2),
    ],
)
def test_index_base_is_decided_for_both_files(tmp_path, train_line, base, column):
    train, valid = tmp_path / "train.txt", tmp_path / "valid.txt"
    train.write_text(train_line + "\n0 qid:1 3:1\n")
    valid.write_text("1 qid:5 2:7\n")  # no feature 0 here
    train_data, valid_data, _, _ = _io.load_pair(train, valid, index_base=base)
    assert train_data.X.shape[1] == valid_data.X.shape[1]
    assert valid_data.X[0, column] == 7


# -- model files -----------------------------------------------------------------------


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.txt"
    path.write_text("the previous model")
    booster = lgb.train(
        {"objective": "regression", "verbose": -1},
        lgb.Dataset(np.arange(20.0).reshape(-1, 1), np.arange(20.0)),
        2,
    )

    def disk_full(_):
        raise OSError("No space left on device")

    monkeypatch.setattr(_io.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        _io.save_booster(booster, "lightgbm", path)
    assert path.read_text() == "the previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.txt"]
    monkeypatch.undo()
    _io.save_booster(booster, "lightgbm", path)
    assert path.read_text() == booster.model_to_string()
    assert [p.name for p in tmp_path.iterdir()] == ["model.txt"]


def test_a_replaced_file_keeps_its_mode_and_a_new_one_honours_the_umask(tmp_path):
    old = tmp_path / "old.txt"
    old.write_text("previous")
    old.chmod(0o640)
    _io.write_file(old, b"new")
    assert old.read_bytes() == b"new"
    assert stat.S_IMODE(old.stat().st_mode) == 0o640
    umask = os.umask(0o027)
    try:
        _io.write_file(tmp_path / "new.txt", b"fresh")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt", "old.txt"]


def test_a_symlink_gets_its_target_written(tmp_path):
    target = tmp_path / "model.txt"
    target.write_text("previous")
    target.chmod(0o604)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)
    _io.write_file(link, b"new")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to("created.txt")
    _io.write_file(dangling, b"made")
    assert dangling.is_symlink()
    assert (tmp_path / "created.txt").read_bytes() == b"made"


def test_a_named_pipe_is_written_into_not_replaced(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    _io.write_file(pipe, b"model bytes")
    reader.join(timeout=10)
    assert received == [b"model bytes"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root"
)
def test_a_device_is_written_into_not_replaced(tmp_path):
    """As root, --output /dev/null used to replace the device with a file."""
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null twin
    _io.write_file(null, b"discarded")
    assert stat.S_ISCHR(null.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_long_file_names_fit_and_folders_are_refused(tmp_path):
    longest = tmp_path / ("m" * 250)  # the temporary file's name is short
    _io.check_output_path(longest, "--output")
    _io.write_file(longest, b"model")
    assert longest.read_bytes() == b"model"
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        _io.write_file(tmp_path, b"model")
    assert sorted(p.name for p in tmp_path.iterdir()) == [longest.name]
