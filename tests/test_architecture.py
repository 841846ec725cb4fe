"""docs/architecture.md's worked examples (adding a node kind, adding a backend) run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ARCHITECTURE = Path(__file__).parents[1] / "docs" / "architecture.md"


@pytest.mark.slow
def test_worked_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", ARCHITECTURE.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) == 2
    # A fresh interpreter: the examples register kinds and a backend for good, as a user's code would.
    completed = subprocess.run([sys.executable, "-c", "\n".join(blocks)], capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
