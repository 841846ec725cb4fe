"""rrnn_net._files: atomic writes, output names and checks, .npz reading."""

from __future__ import annotations

import os
import re
import stat

import numpy as np
import pytest

from rrnn_net._files import check_outputs, output_file, read_npz, write_atomically
from rrnn_net.errors import MissingFolderError, OutputConflictError, ParameterError


def test_write_atomically_writes_bytes_text_and_handles_and_leaves_no_temporary(tmp_path):
    write_atomically(tmp_path / "a.bin", b"\x00\x01")
    write_atomically(tmp_path / "b.txt", "größe\n")
    write_atomically(tmp_path / "c.npz", lambda handle: np.savez(handle, x=np.arange(3)))
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "größe\n"
    with np.load(tmp_path / "c.npz") as data:
        assert data["x"].tolist() == [0, 1, 2]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.bin", "b.txt", "c.npz"]


@pytest.mark.parametrize("interruption", [RuntimeError, KeyboardInterrupt])
def test_interrupted_write_leaves_the_previous_file_whole(tmp_path, interruption):
    path = tmp_path / "result.npz"
    path.write_bytes(b"previous result")

    def write_half(handle):
        handle.write(b"half of a new ")
        raise interruption

    with pytest.raises(interruption):
        write_atomically(path, write_half)
    assert path.read_bytes() == b"previous result"
    assert [entry.name for entry in tmp_path.iterdir()] == ["result.npz"]


def test_a_missing_folder_or_a_folder_as_the_file_is_named_with_the_path_asked_for(tmp_path):
    path = tmp_path / "missing" / "out.npz"
    with pytest.raises(MissingFolderError, match=f"^{re.escape(str(path))}: its folder .* does not exist") as error:
        write_atomically(path, b"")
    assert isinstance(error.value, FileNotFoundError)
    (tmp_path / "file").write_text("a file")
    with pytest.raises(MissingFolderError, match=r"its folder .*file is a file, not a folder"):
        output_file(tmp_path / "file" / "out", ".npz", what="a thing")
    (tmp_path / "folder.npz").mkdir()  # the temporary file's name is never what the message names
    with pytest.raises(OutputConflictError, match=f"^{re.escape(str(tmp_path / 'folder.npz'))} is a folder"):
        write_atomically(tmp_path / "folder.npz", b"")
    with pytest.raises(MissingFolderError):
        check_outputs([path])
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["file", "folder.npz"]


def test_written_file_gets_the_permissions_of_a_plain_open(tmp_path):
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "out.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o644


def test_output_file_adds_a_missing_suffix_and_refuses_another_or_a_folder(tmp_path):
    assert output_file(tmp_path / "result", ".npz", what="x") == tmp_path / "result.npz"
    assert output_file(tmp_path / "result.NPZ", ".npz", what="x") == tmp_path / "result.NPZ"
    with pytest.raises(ParameterError, match=r"a GenerativeRNN is written as \.npz, not \.graphml"):
        output_file(tmp_path / "x.graphml", ".npz", what="a GenerativeRNN")
    with pytest.raises(ParameterError, match="is a folder"):
        output_file(tmp_path, ".npz", what="x")


def test_check_outputs_never_lets_an_output_replace_an_input(tmp_path):
    source = tmp_path / "recording.csv"
    source.write_text("1,2\n")
    (tmp_path / "symlink.csv").symlink_to(source)
    os.link(source, tmp_path / "hardlink.csv")
    for spelling in (source, tmp_path / "." / "recording.csv", tmp_path / "symlink.csv", tmp_path / "hardlink.csv"):
        with pytest.raises(OutputConflictError, match="is an input of this command"):
            check_outputs([spelling], inputs=[source], force=True)


def test_check_outputs_refuses_an_existing_output_unless_forced(tmp_path):
    existing = tmp_path / "out.npz"
    existing.write_bytes(b"")
    check_outputs([tmp_path / "new.npz"], inputs=[tmp_path / "missing.csv"])
    with pytest.raises(OutputConflictError, match="exists; --force overwrites it"):
        check_outputs([tmp_path / "new.npz", existing])
    check_outputs([existing], force=True)
    with pytest.raises(OutputConflictError, match="is a folder"):
        check_outputs([tmp_path], force=True)


def test_read_npz_names_truncated_archives_and_npy_arrays(tmp_path):
    np.savez(tmp_path / "full.npz", x=np.arange(1000.0))
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[:len(data) // 2])
    np.save(tmp_path / "array.npy", np.eye(2))
    (tmp_path / "graph.npz").write_text("<?xml version='1.0' encoding='utf-8'?>\n<graphml/>")
    np.savez(tmp_path / "empty.npz")
    assert read_npz(tmp_path / "full.npz", "thing")["x"].shape == (1000,)
    assert read_npz(tmp_path / "full", "thing")["x"].shape == (1000,)  # as output_file named what it wrote
    assert read_npz(tmp_path / "empty.npz", "thing") == {}
    # numpy takes any other file for a pickle and advises allow_pickle=True: never passed on.
    for name, reason in (("truncated.npz", "not a zip file"), ("array.npy", r"one array \(\.npy\)"),
                         ("missing.npz", "No such file"), ("graph.npz", r"it is not an \.npz archive \(a graph, a "
                                                                        r"text file or another format\?\)$")):
        with pytest.raises(ParameterError, match=f"{name} is not a saved thing: .*{reason}"):
            read_npz(tmp_path / name, "thing")
