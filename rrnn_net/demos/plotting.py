"""Figure helpers shared by the demos: a consistent, talk-ready style, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # demos write files; never need a screen
import matplotlib.pyplot as plt

from .._files import write_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}

COLORS = {"truth": "black", "ukf": "#1f77b4", "ekf": "#2ca02c", "continuous": "#9467bd",
          "open_loop": "#d62728", "baseline": "#ff7f0e", "brian2": "#8c564b", "observation": "0.6"}


def figure(*args: Any, **kwargs: Any) -> tuple[Figure, Any]:
    """``plt.subplots`` under the demo style."""
    with plt.rc_context(STYLE):
        return plt.subplots(*args, **kwargs)


def save(fig: Figure, path: Path, *, rect: tuple[float, float, float, float] = (0, 0, 1, 1)) -> Path:
    """Save ``fig`` as PNG (through a temporary file renamed into place) and close it.

    ``rect`` keeps room for figure-level legends.
    """
    with plt.rc_context(STYLE):
        fig.tight_layout(rect=rect)
        write_atomically(path, lambda handle: fig.savefig(handle, format="png"))
    plt.close(fig)
    return path


def write_metrics(metrics: dict, path: Path) -> Path:
    """Write metrics as sorted, indented JSON (atomically); a demo writes them last, marking its run complete."""
    return write_atomically(path, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
