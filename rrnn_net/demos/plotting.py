r"""The one figure style of the demos and the graph drawings: slide-ready, colours by role, written atomically.

Sizes and fonts are chosen for a slide: figures are :data:`WIDTH` (12) inches
wide and every text is at least :data:`MIN_FONT_PT` (14 pt) at that size, so
a figure shown across a slide keeps its text readable; PNGs are written at
:data:`DPI` (200). Symbols are mathtext (``r"$\mu_i$"``, ``r"$P_{ik}$"``),
so subscripts are set as subscripts. Each role (true state, observation,
the rRNN, its prediction error, the baseline, ...) has one colour in
:data:`COLORS`, the same in every figure; categorical items (movement
classes, channels, models of a bank) take :data:`CATEGORY_COLORS` in order.
Legends go below the axes (:func:`legend_below`), in space the constrained
layout reserves, so they never cover data. PNGs are written with a 256-colour
palette (:func:`write_png`), a third of the size of full colour.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "line.png"
>>> with figure(path) as (fig, ax):
...     _ = ax.plot([0, 1], [0, 1], color=COLORS["rrnn"], label="rRNN")
...     _ = ax.set_xlabel("time (s)")
...     _ = legend_below(fig)
>>> path.exists()
True
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import matplotlib as mpl
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from PIL import Image

from .._files import write_atomically

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.typing import RcKeyType

__all__ = ["CATEGORY_COLORS", "COLORS", "DPI", "MIN_FONT_PT", "STYLE", "WIDTH", "figure", "legend_below",
           "log_ticks", "save", "scientific", "signed", "small_texts", "style", "unreadable_texts",
           "write_metrics", "write_png"]

MIN_FONT_PT = 14.0  # the smallest text in any figure, at its printed size
DPI = 200
WIDTH = 12.0  # inches: a figure shown across a 16:9 slide
HEIGHT = 6.75  # the height of that slide

#: One colour per role, in every demo (Okabe–Ito, plus Tol's wine and olive, and greys).
COLORS = {
    "truth": "#000000",  # the true hidden state or signal
    "observation": "#999999",  # the noisy data y
    "rrnn": "#0072B2",  # the Bayesian rRNN (UKF, the learned bank) and its estimate μ
    "prediction": "#0072B2",  # the rRNN's prediction ŷ: its own colour
    "ekf": "#56B4E9",  # the rRNN's EKF form
    "network": "#009E73",  # the compiled rRNN run as a network (Brian2)
    "fixed_gain": "#999933",  # the rRNN with a fixed, time-averaged gain K
    "online_noise": "#CC79A7",  # the rRNN estimating its observation noise online
    "error": "#D55E00",  # prediction errors ε (as the error units in the graph drawings)
    "baseline": "#E69F00",  # the conventional RNN (echo-state reservoir)
    "open_loop": "#882255",  # the generator run without error feedback
    "reference": "#555555",  # tolerances, chance, thresholds
}
#: Colours of categorical items, in order (Okabe–Ito, then Tol's wine and indigo).
CATEGORY_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#882255", "#332288")

STYLE: dict[RcKeyType, Any] = {
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "font.size": 16.0,
    "axes.titlesize": 16.0,
    "axes.labelsize": 16.0,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT,
    "figure.titlesize": 18.0,
    "figure.labelsize": 16.0,
    "mathtext.fontset": "dejavusans",  # the symbols in the same face as the words around them
    "lines.linewidth": 2.2,
    "lines.markersize": 7.0,
    "axes.linewidth": 1.2,
    "axes.prop_cycle": cycler(color=CATEGORY_COLORS),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


@contextmanager
def style() -> Iterator[None]:
    """Matplotlib's settings under the demo style, for code that builds a figure without :func:`figure`."""
    with mpl.rc_context(STYLE):
        yield


@contextmanager
def figure(path: Path, nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = (WIDTH, HEIGHT),
           mosaic: Any = None, **subplots: Any) -> Iterator[tuple[Figure, Any]]:
    """A figure under the demo style, saved to ``path`` when the ``with`` block ends without an error.

    Everything drawn inside the block takes the style (matplotlib reads most
    settings when an artist is made, not when it is drawn).

    Parameters
    ----------
    path : Path
        The PNG to write.
    nrows, ncols : int
        The grid of axes (``Figure.subplots``).
    size : (float, float)
        Width and height in inches.
    mosaic : list or str, optional
        A layout for ``Figure.subplot_mosaic`` instead of the grid; the axes
        then come as a dict by label.
    **subplots
        Passed to ``Figure.subplots`` or ``Figure.subplot_mosaic`` (``sharex``, ``gridspec_kw``, ...).

    Yields
    ------
    (Figure, Axes, array of Axes or dict of Axes)
    """
    # The axes are typed Any: which of the three they are depends on the arguments (as for Figure.subplots);
    # so is mosaic, which subplot_mosaic's overloads take either as a str or as a list, not as their union.
    with style():
        fig = Figure(figsize=size, layout="constrained")
        axes = fig.subplots(nrows, ncols, **subplots) if mosaic is None else fig.subplot_mosaic(mosaic, **subplots)
        yield fig, axes
        save(fig, path)


def legend_below(fig: Figure, handles: Iterable[Artist] | None = None, labels: Iterable[str] | None = None, *,
                 ncol: int = 2, source: Axes | None = None) -> Legend:
    """A figure legend under the axes, in space the constrained layout reserves, so that it covers no data.

    ``handles``/``labels`` default to those of ``source`` (an Axes), or of every
    axes of ``fig`` without repeats.
    """
    handles, labels = _entries(fig, handles, labels, source)
    return fig.legend(handles, labels, loc="outside lower center", ncol=ncol)


def _entries(fig: Figure, handles: Iterable[Artist] | None, labels: Iterable[str] | None,
             source: Axes | None) -> tuple[list[Artist], list[str]]:
    if handles is not None:
        # Artist.get_label is typed object; set_label stores labels as str.
        return list(handles), list(labels if labels is not None
                                   else (cast(str, handle.get_label()) for handle in handles))
    found: dict[str, Artist] = {}
    for ax in [source] if source is not None else fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    return list(found.values()), list(found)


def small_texts(fig: Figure) -> list[Text]:
    """The visible, non-empty texts of ``fig`` smaller than :data:`MIN_FONT_PT`."""
    return [text for text in fig.findobj(Text)
            if text.get_visible() and text.get_text().strip() and _points(text) < MIN_FONT_PT]


def _points(text: Text) -> float:
    """The font size of ``text`` in points (typed ``float | str`` in matplotlib's stubs, a float at runtime)."""
    return cast(float, text.get_fontsize())


def unreadable_texts(fig: Figure) -> str:
    """The texts of ``fig`` below :data:`MIN_FONT_PT` with their sizes (the first five), or "" when there are none.

    Call it after drawing (``fig.draw_without_rendering()``), which makes the tick labels.
    """
    return "; ".join(f"{text.get_text()!r} at {text.get_fontsize():g} pt" for text in small_texts(fig)[:5])


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at :data:`DPI` (see :func:`write_png`).

    Raises
    ------
    ValueError
        Some text of ``fig`` is smaller than :data:`MIN_FONT_PT`: the figure would not read on a slide
        (nothing is written).
    """
    rendered = render_png(fig)  # drawing makes the tick labels, so that they are checked too
    if unreadable := unreadable_texts(fig):
        raise ValueError(f"{path.name}: text below {MIN_FONT_PT:g} pt: {unreadable}")
    return write_png(rendered, path)


def render_png(fig: Figure, *, dpi: int = DPI, **savefig: Any) -> Image.Image:
    """``fig`` drawn once, as a 256-colour image (``savefig`` is passed to ``Figure.savefig``: ``bbox_inches``, ...).

    A plot's flat colours and their anti-aliased edges fit a palette of 256
    without visible loss, in about a third of the bytes of full colour.
    """
    rendered = io.BytesIO()
    fig.savefig(rendered, format="png", dpi=dpi, **savefig)
    # The fast octree and zlib's default effort: ~6x quicker than median cut with optimize=True, and smaller.
    palette = Image.open(rendered).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE,
                                                           dither=Image.Dither.NONE)
    palette.info["dpi"] = (dpi, dpi)
    return palette


def write_png(image: Image.Image, path: Path) -> Path:
    """Write a rendered figure (:func:`render_png`) to ``path`` through a temporary file renamed into place."""
    dpi = image.info.get("dpi", (DPI, DPI))
    return write_atomically(path, lambda handle: image.save(handle, format="png", dpi=dpi))


def log_ticks(axis: Axis) -> None:
    """Tick a log-scaled axis at 1, 2 and 5 times powers of ten, labelled as plain numbers (0.05, not 5×10⁻²).

    Call it after the last ``loglog``/``semilogy`` call: each resets the axis' tickers.
    """
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def scientific(value: float, digits: int = 2) -> str:
    """``value`` in mathtext scientific notation with ``digits`` significant digits: 3.3×10⁻⁶, not 3.3e-06."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return rf"${mantissa}\times 10^{{{int(exponent)}}}$"


def signed(value: float, spec: str = "g") -> str:
    """``value`` formatted by ``spec`` with a typographic minus sign, as on the axes' tick labels."""
    return format(value, spec).replace("-", "\N{MINUS SIGN}")


def write_metrics(metrics: dict[str, Any], path: Path) -> Path:
    """Write metrics as sorted, indented JSON (atomically); a demo writes them last, marking its run complete."""
    return write_atomically(path, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
