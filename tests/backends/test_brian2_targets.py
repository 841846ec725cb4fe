"""What only C++ standalone does: re-running its loaded binary, project directories per structure, kept private.

(Agreement of every target with the numpy filter is the conformance suite.) They run the adaptive graph
with online noise estimation, the adaptive structure that suite compiles for this target.
A cold build costs 20–60 s on two cores, hence ``slow``; these still run in
CI. They use the default project directories, which the conformance suite's
``cpp_standalone`` runs of the same graph have built already. The checks of
the project directory run before anything is built, so they are fast.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from rrnn_net._files import user_cache_directory
from rrnn_net.backends import run_brian2
from rrnn_net.backends.brian2_targets import standalone_directory
from rrnn_net.errors import UnsafeDirectoryError

from .conformance import continuous_reference

TOLERANCE = 1e-9


def reference_filter(graph, y):
    return continuous_reference(graph, y)


def assert_agrees(result, reference):
    assert np.all(reference.n_psd_repairs == 0)
    assert np.abs(result.mean - reference.mean).max() <= TOLERANCE
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    assert np.abs(result.loglik - reference.loglik).max() <= TOLERANCE
    assert np.abs(result.predicted_obs - reference.predicted_obs).max() <= TOLERANCE


@pytest.mark.slow
def test_cpp_standalone_agrees_and_reruns_new_observations_without_rebuilding(noise_graph, filter_model,
                                                                             observations):
    first = run_brian2(noise_graph, observations, target="cpp_standalone", record="covariance")
    assert_agrees(first, reference_filter(noise_graph, observations))
    fresh = filter_model.simulate(400, batch=2, seed=99)[1]
    fresh[0, 50:60, 2] = np.nan
    second = run_brian2(noise_graph, fresh, target="cpp_standalone", record="covariance")
    assert second.extras["rebuilt"] is False
    assert_agrees(second, reference_filter(noise_graph, fresh))
    # The runtime device is back in charge afterwards.
    numpy_run = run_brian2(noise_graph, fresh[:, :40], record="covariance")
    np.testing.assert_allclose(numpy_run.mean, second.mean[:, :40], rtol=0, atol=TOLERANCE)


@pytest.mark.slow
def test_cpp_standalone_project_directory_follows_the_graph_numbers(noise_graph, observations):
    edited = noise_graph.copy()
    edited.nodes["state:3"]["bias"] -= 0.3  # same structure: same code and directory, new data files
    for graph in (edited, noise_graph):
        result = run_brian2(graph, observations, target="cpp_standalone", record="covariance")
        assert result.extras["rebuilt"] is True
        assert_agrees(result, reference_filter(graph, observations))


@pytest.mark.slow
def test_standalone_projects_and_their_locks_live_in_private_cache_folders(noise_graph, observations):
    run_brian2(noise_graph, observations, target="cpp_standalone", record="covariance")
    projects = user_cache_directory() / "standalone"
    assert not list(projects.glob("*.lock"))  # no lock file beside the projects, where anyone could place one
    for folder in (user_cache_directory(), projects, *projects.iterdir()):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == os.getuid()
    built = [project for project in projects.iterdir() if (project / "rrnn_net_project_key.txt").is_file()]
    assert built and all((project / "rrnn_net_project.lock").is_file() for project in built)


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
