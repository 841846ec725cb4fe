"""What only C++ standalone does: project directories per structure, kept private (checked before any build).

The tests that build and re-run a project are in ``test_conformance_cpp_standalone.py``, in the process that
builds the conformance suite's projects, so they reuse them (a cold build costs 20–60 s on two cores).
"""

from __future__ import annotations

import os
import stat

import pytest

from rrnn_net.backends import run_brian2
from rrnn_net.backends.brian2_targets import standalone_directory
from rrnn_net.errors import UnsafeDirectoryError

KEY = "0123456789abcdef" * 4


def test_standalone_default_directory_is_in_the_per_user_cache_created_0700(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    directory = standalone_directory(KEY, None)
    assert directory == tmp_path / "cache" / "rrnn_net" / "standalone" / KEY[:16]
    for folder in (directory, directory.parent, directory.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert standalone_directory(KEY, None) == directory  # reused when still private


def test_standalone_cache_ignores_a_relative_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert standalone_directory(KEY, None) == tmp_path / ".cache" / "rrnn_net" / "standalone" / KEY[:16]


@pytest.mark.parametrize("level", [0, 1, 2], ids=["project", "standalone", "cache root"])
def test_standalone_refuses_a_world_writable_cache_folder(tmp_path, monkeypatch, level):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    project = standalone_directory(KEY, None)
    unsafe = (project, project.parent, project.parent.parent)[level]
    unsafe.chmod(0o777)
    with pytest.raises(UnsafeDirectoryError, match=f"{unsafe} is writable by group or others.*chmod go-w"):
        standalone_directory(KEY, None)


def test_standalone_refuses_a_group_writable_build_dir(tmp_path):
    build_dir = tmp_path / "build"
    build_dir.mkdir()
    build_dir.chmod(0o770)
    with pytest.raises(UnsafeDirectoryError, match="mode 0770"):
        standalone_directory(KEY, build_dir)
    build_dir.chmod(0o755)  # readable by others is fine: nobody else can plant anything
    assert standalone_directory(KEY, build_dir) == build_dir


def test_standalone_refuses_a_folder_owned_by_another_user(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    standalone_directory(KEY, None)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(tmp_path).st_uid + 1)  # every folder now someone else's
    with pytest.raises(UnsafeDirectoryError, match="belongs to another user"):
        standalone_directory(KEY, None)
    with pytest.raises(UnsafeDirectoryError, match="belongs to another user"):
        standalone_directory(KEY, tmp_path)


def test_planted_binary_in_an_unsafe_build_dir_is_never_run(adaptive_graph, observations, tmp_path):
    build_dir = tmp_path / "shared"
    build_dir.mkdir()
    build_dir.chmod(0o777)
    ran = tmp_path / "planted_binary_ran"
    main = build_dir / "main"
    main.write_text(f"#!/bin/sh\ntouch {ran}\n")
    main.chmod(0o755)
    with pytest.raises(UnsafeDirectoryError, match=str(build_dir)):
        run_brian2(adaptive_graph, observations, target="cpp_standalone", build_dir=build_dir)
    assert not ran.exists()


def test_cython_refuses_an_unsafe_extension_cache_before_loading_anything(fixed_graph, observations, tmp_path):
    build_dir = tmp_path / "shared_cache"
    build_dir.mkdir()
    build_dir.chmod(0o777)  # another user could plant a compiled extension here
    with pytest.raises(UnsafeDirectoryError, match=str(build_dir)):
        run_brian2(fixed_graph, observations[0, :5], target="cython", build_dir=build_dir)
