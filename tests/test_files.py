"""Replacing files whole: the new content or the old, and nothing left beside them."""

import os
import signal

import numpy as np
import pytest
from children import writer_mid_write

from stickgen.files import remove_temporaries, replacing, write_text_atomic


def test_a_finished_block_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "deep" / "state.json"
    write_text_atomic(target, "old")
    with replacing(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".state.json.")
        tmp.write_text("new")
        assert target.read_text() == "old"  # readers see the old file until the block ends
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]


def test_a_failed_block_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "state.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_suffix_serves_writers_that_add_their_own_extension(tmp_path):
    target = tmp_path / "split.npy"
    with replacing(target, suffix=".npy") as tmp:
        np.save(tmp, np.arange(3))  # np.save appends .npy to a name without it
    assert np.array_equal(np.load(target), np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["split.npy"]


def test_each_write_gets_its_own_temporary(tmp_path):
    target = tmp_path / "a.txt"
    with replacing(target) as one, replacing(target) as two:
        assert one != two
        one.write_text("one")
        two.write_text("two")
    assert target.read_text() == "one"  # the outer block ended last
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_only_the_temporaries_of_killed_writers_are_swept(tmp_path):
    kept = ["last.pt", "notes.tmp", ".hidden", ".last.pt.tmp", "x.0c1d2e3f.tmp"]
    for name in kept:
        (tmp_path / name).write_text("keep")
    (tmp_path / ".last.pt.0c1d2e3f.tmp").write_text("half")
    (tmp_path / ".split.npy.89abcdef.tmp.npy").write_text("half")
    removed = remove_temporaries(tmp_path)
    swept = [".last.pt.0c1d2e3f.tmp", ".split.npy.89abcdef.tmp.npy"]
    assert sorted(p.name for p in removed) == swept
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert remove_temporaries(tmp_path / "absent") == []


def test_a_writer_killed_mid_write_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "state.bin"
    target.write_bytes(b"old")
    child = writer_mid_write(target)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    assert target.read_bytes() == b"old"
    assert len(remove_temporaries(tmp_path)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"]
