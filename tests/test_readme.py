"""The README's Python example runs as written, in a fresh interpreter, without this package's deprecated names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


@pytest.mark.slow
def test_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks, "the README shows Python code"
    deprecated_names_fail = ["-W", "error:.* is deprecated; use:DeprecationWarning"]
    completed = subprocess.run([sys.executable, *deprecated_names_fail, "-c", "\n".join(blocks)], capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]


def test_the_two_commands_are_the_ci_command_and_the_main_job():
    text = README.read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.*?)\n```", text, flags=re.DOTALL)
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci, "`.ci/run` runs the README's test command"
    assert commands[0].endswith("rrnn demo kinematics --out out/kinematics")


def test_every_image_the_readme_shows_is_in_the_repository():
    text = README.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text) + re.findall(r"<img[^>]+src=\"([^\"]+)\"", text)
    assert len(images) >= 2, "the README shows the demos' figures"
    for image in images:
        path = README.parent / image
        assert path.is_file(), f"README.md shows {image}, which is not in the repository"
        assert path.stat().st_size < 300_000, f"{image} is {path.stat().st_size:,} bytes: keep figures small"
