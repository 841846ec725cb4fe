"""A layered picture of a compiled graph: sensory → error ↔ state, with the covariance machinery as blocks.

The prediction/error core is drawn unit by unit, each connection coloured by
its kind, its width and opacity growing with |weight| (relative to the largest
of its kind), its head an arrow for a positive weight and a bar for a negative
one; a unit's connection to itself is a loop above it. An edge kind with more
than ``max_drawn_edges`` connections becomes one labelled arrow. The
covariance machinery of an adaptive rRNN has O(N³) connections, so each of its
unit kinds is one block (a grid with one cell per unit, or a filled summary
blob above ``collapse_above`` state units) and each edge kind between blocks
one arrow labelled with its count. Text and sizes follow the demos' figure
style (:mod:`rrnn_net.demos.plotting`): 12 inches wide, no text below 14 pt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerPatch
from matplotlib.lines import Line2D
from matplotlib.patches import ArrowStyle, Circle, ConnectionStyle, FancyArrowPatch, FancyBboxPatch, Rectangle

from .._files import write_atomically
from ..demos.plotting import DPI, MIN_FONT_PT, WIDTH, render_png, style, unreadable_texts, write_png
from ..errors import ParameterError
from .kinds import EDGE_KINDS, NODE_KINDS
from .schema import validate_graph

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.legend import Legend

__all__ = ["draw"]

# Colours, labels, captions and bends are the kinds' draw styles (rrnn_net.graph.kinds); the geometry below
# places the rRNN's and the baseline's kinds. Kinds it does not place (an extension's) are left out.
_WIRING_COLOUR = "#5F5F5F"
_TEXT_PT = MIN_FONT_PT  # every label of the drawing
# Connection heads by the sign of the weight: an arrow excites, a bar inhibits (the wiring-diagram convention).
_EXCITE = ArrowStyle("-|>", head_length=0.5, head_width=0.3)
_INHIBIT = ArrowStyle("-[", widthB=0.7, lengthB=0.0)
_LOOP = ConnectionStyle("arc3", rad=-2.5)  # a short chord on top of a unit, bent far up: a loop
_HEAD_SCALE = 12  # heads of the connections between units, in points
_WIRING_HEAD_SCALE = 16  # heads of the labelled wiring arrows

# A point in data units; where each core unit is drawn, by node id.
_Point = tuple[float, float]
_Positions = dict[str, _Point]


def _colour(kind: str) -> str:
    return NODE_KINDS[kind].draw.colour


def _edge_colour(kind: str) -> str:
    style = EDGE_KINDS[kind].draw
    assert style is not None, f"{kind!r} edges are not drawn one by one"
    return style.colour


def _is_block(kind: str) -> bool:
    return NODE_KINDS[kind].draw.caption is not None


def _is_core_edge(kind: str) -> bool:
    return EDGE_KINDS[kind].draw is not None


# Geometry, in data units (about half an inch each in a drawing of the adaptive rRNN).
_CORE_ROWS = {"rrnn": (("sensory", 0.0), ("error", 1.8), ("state", 3.8)),
              "baseline": (("input", 0.0), ("hidden", 2.0), ("output", 4.0))}
_CORE_WIDTH = 14.0
_EVIDENCE_POSITION = (15.6, 2.8)
_NODE_RADIUS = (0.1, 0.36)  # smallest and largest; a row of few units gets the largest
_LABELLED_RADIUS = 0.3  # units at least this large carry their index
_BLOCK_SIDE = 2.4  # an N×N grid of units
_BLOCK_GAP = 2.8  # between the frames of neighbouring blocks: room for a label of one word a line
_BLOCK_BASE = 6.5  # bottom of the block row
_CAPTION_BAND = 2.1  # room for four caption lines inside a block's frame, above its grid
_BUS_HEIGHT = 5.5  # the line standing for "every state unit"
_GATE_X = 3 * (_BLOCK_SIDE + _BLOCK_GAP) + _BLOCK_SIDE / 2  # where the sensory gate wire rises into the projection
_GATE_Y = -0.8  # the height of the wire collecting the sensory gates


@dataclass(frozen=True)
class _Block:
    """Where one kind of covariance-machinery unit is drawn: a frame holding a caption and a grid of cells."""

    kind: str
    x: float
    y: float
    width: float
    height: float  # of the grid; the frame adds _CAPTION_BAND on top

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    @property
    def top(self) -> float:
        return self.y + self.height + _CAPTION_BAND

    def anchor(self, side: str) -> tuple[float, float]:
        cx, cy = self.centre
        return {"left": (self.x, cy), "right": (self.x + self.width, cy), "top": (cx, self.top),
                "bottom": (cx, self.y)}[side]


def draw(G: nx.DiGraph, path: str | Path, *, collapse_above: int = 30, max_drawn_edges: int = 400,
         title: str | None = None, dpi: int = DPI) -> Path:
    """Draw a compiled graph to an image file (format from the suffix: ``.png``, ``.svg``, ``.pdf``).

    Parameters
    ----------
    G : networkx.DiGraph
        A valid compiled graph (adaptive or fixed rRNN, or baseline).
    path : str or Path
        Output file; its suffix picks the format (``.png`` is added when it
        has none). An existing file is replaced, through a temporary file
        renamed into place.
    collapse_above : int
        With more state (hidden) units than this, covariance blocks become
        filled summary blobs and units are drawn without index labels.
    max_drawn_edges : int
        Core edge kinds with more connections than this are drawn as one
        arrow labelled with the count.
    title : str, optional
        Default: the graph type, mode, sizes and unit/connection counts.
    dpi : int
        Resolution of raster output.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ParameterError
        A suffix matplotlib cannot write (checked before anything is drawn).
    GraphSchemaError
        An invalid graph.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> G = compile_rrnn(GenerativeRNN.oscillator(4, 2, seed=0))
    >>> draw(G, pathlib.Path(tempfile.mkdtemp()) / "rrnn.png").suffix
    '.png'
    """
    path = Path(path)
    if not path.suffix:  # what matplotlib itself would write; named here so that the path returned is the file
        path = path.with_name(f"{path.name}.png")
    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix[1:].lower() not in formats:
        raise ParameterError(f"{path}: matplotlib writes no {path.suffix!r} images; use one of "
                             f"{', '.join('.' + name for name in sorted(formats))}")
    validate_graph(G)
    with style():
        figure = _drawing(G, collapse_above, max_drawn_edges, title)
        # Drawn once: a PNG in memory (or a draw without rendering) makes the tick labels the check reads.
        rendered = None
        if path.suffix.lower() == ".png":
            rendered = render_png(figure, dpi=dpi, bbox_inches="tight")
        else:
            figure.draw_without_rendering()
        if unreadable := unreadable_texts(figure):
            raise AssertionError(f"drawing {path.name}: text below {MIN_FONT_PT:g} pt: {unreadable}")
        if rendered is not None:
            return write_png(rendered, path)
        return write_atomically(path, lambda handle: figure.savefig(handle, format=path.suffix[1:].lower(),
                                                                    dpi=dpi, bbox_inches="tight"))


def _drawing(G: nx.DiGraph, collapse_above: int, max_drawn_edges: int, title: str | None) -> Figure:
    """The figure: the drawing fills the axes, the title above, the legend below, the rows' names at the left."""
    kinds = dict(G.nodes(data="kind"))
    collapsed = G.graph["n_hidden"] > collapse_above
    positions = _core_positions(G, kinds)
    blocks = _machinery_blocks(G, collapsed) if G.graph["gain_mode"] == "adaptive" else {}
    figure = Figure(figsize=(WIDTH, WIDTH / 2))
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_aspect("equal")
    circles = _draw_core_nodes(ax, positions, kinds, collapsed)
    _draw_core_edges(ax, G, positions, circles, max_drawn_edges)
    if blocks:
        _draw_machinery(ax, G, blocks, positions, kinds, collapsed)
    _label_rows(ax, positions, kinds, circles)
    ax.set_title(title or _default_title(G, kinds), pad=12)
    _add_legend(ax, G, kinds, bool(blocks))
    ax.autoscale_view()
    _fit_to_width(figure, ax)
    return figure


def _fit_to_width(figure: Figure, ax: Axes) -> None:
    """Size the figure so that what is saved (the drawing and the text around it) is :data:`WIDTH` inches wide.

    The axes fill the figure at the drawing's own aspect ratio; the rows' names and the legend may reach out of
    them. Text keeps its size in points as the figure is resized, so one correction for that overhang suffices.
    """
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    aspect = (top - bottom) / (right - left)
    width = WIDTH
    for _ in range(2):
        figure.set_size_inches(width, width * aspect)
        width = max(WIDTH - (figure.get_tightbbox().width - width), WIDTH / 2)


def _default_title(G: nx.DiGraph, kinds: dict[str, str]) -> str:
    graph = G.graph
    n_product = sum(1 for kind in kinds.values() if NODE_KINDS[kind].product)
    if graph["graph_type"] == "baseline":
        head = (f"Conventional input-driven RNN: {_count(graph['n_input'], 'input')}, "
                f"{_count(graph['n_hidden'], 'hidden unit')}, {_count(graph['n_output'], 'output')}")
    else:
        mode = "adaptive gain (the full Bayesian filter)" if graph["gain_mode"] == "adaptive" else "fixed gain K"
        head = f"Recognizing RNN, {mode}: N = {graph['n_hidden']} states, m = {graph['n_obs']} channels"
    counts = f"{G.number_of_nodes()} units, {G.number_of_edges()} connections"
    return f"{head}\n{counts}" + (f", {n_product} multiplicative units" if n_product else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# --------------------------------------------------------------- the core
def _core_positions(G: nx.DiGraph, kinds: dict[str, str]) -> _Positions:
    positions: _Positions = {}
    for kind, height in _CORE_ROWS[G.graph["graph_type"]]:
        members = sorted((node for node, node_kind in kinds.items() if node_kind == kind),
                         key=lambda node: G.nodes[node]["index"])
        xs = np.linspace(0, _CORE_WIDTH, len(members) + 2)[1:-1]
        positions.update({node: (float(x), height) for node, x in zip(members, xs, strict=True)})
    if "evidence" in kinds:
        positions["evidence"] = _EVIDENCE_POSITION
    return positions


def _row_heights(G: nx.DiGraph) -> dict[str, float]:
    return dict(_CORE_ROWS[G.graph["graph_type"]])


def _draw_core_nodes(ax: Axes, positions: _Positions, kinds: dict[str, str], collapsed: bool) -> dict[str, Circle]:
    """One circle per core unit (its index inside where it fits); returns them, the ends of the connections."""
    per_kind = Counter(kinds[node] for node in positions)
    circles: dict[str, Circle] = {}
    for node, (x, y) in positions.items():
        kind = kinds[node]
        radius = 0.4 if kind == "evidence" else float(np.clip(3.6 / per_kind[kind], *_NODE_RADIUS))
        circles[node] = Circle((x, y), radius, facecolor=_colour(kind), edgecolor="black", linewidth=1.0, zorder=4)
        ax.add_patch(circles[node])  # kept as made: add_patch is typed to return a plain Patch
        if kind != "evidence" and not collapsed and radius >= _LABELLED_RADIUS:
            ax.annotate(node.split(":")[1], (x, y), ha="center", va="center", fontsize=_TEXT_PT, color="white",
                        fontweight="bold", zorder=5)
    if "evidence" in kinds:
        ax.annotate(r"$\ell$", positions["evidence"], ha="center", va="center", fontsize=20, zorder=5)
    return circles


def _label_rows(ax: Axes, positions: _Positions, kinds: dict[str, str], circles: dict[str, Circle]) -> None:
    """Each row of the core named left of its units: the kind and its symbol (the legend has the full labels)."""
    rows = [node for node in positions if kinds[node] != "evidence"]
    x = min(circles[node].center[0] - circles[node].radius for node in rows) - 0.3
    for kind in dict.fromkeys(kinds[node] for node in rows):
        height = next(positions[node][1] for node in rows if kinds[node] == kind)
        symbol = NODE_KINDS[kind].draw.label.rpartition(" ")[2]
        ax.annotate(f"{kind} {symbol}", (x, height), ha="right", va="center", fontsize=_TEXT_PT + 2,
                    color=_colour(kind), fontweight="bold", annotation_clip=False)


def _draw_core_edges(ax: Axes, G: nx.DiGraph, positions: _Positions, circles: dict[str, Circle],
                     max_drawn_edges: int) -> None:
    kinds = dict(G.nodes(data="kind"))
    edges = [(s, t, d) for s, t, d in G.edges(data=True)
             if _is_core_edge(d["kind"]) and s in positions and t in positions]
    counts = Counter(data["kind"] for _, _, data in edges)
    scale = {kind: max(abs(d["weight"]) for _, _, d in edges if d["kind"] == kind) for kind in counts}
    for source, target, data in edges:
        kind = data["kind"]
        if counts[kind] > max_drawn_edges:
            continue
        strength = abs(data["weight"]) / scale[kind] if scale[kind] else 0.0
        style = _edge_style(kind, data["weight"], strength)
        if source == target:
            ax.add_patch(_self_loop(circles[source], style))
            continue
        # Clipped at the circles, so that the heads end on the units' rims instead of under them.
        ax.add_patch(FancyArrowPatch(positions[source], positions[target], patchA=circles[source],
                                     patchB=circles[target], shrinkA=1, shrinkB=1,
                                     connectionstyle=f"arc3,rad={EDGE_KINDS[kind].bend}", zorder=2, **style))
    summarised = [kind for kind in counts if counts[kind] > max_drawn_edges]
    _draw_summary_edges(ax, G, kinds, summarised, counts)


def _edge_style(kind: str, weight: float, strength: float) -> dict[str, Any]:
    """Colour by kind, width and opacity by |weight| relative to the kind's largest, head by sign."""
    return {"color": _edge_colour(kind), "alpha": 0.25 + 0.7 * strength, "linewidth": 0.6 + 2.6 * strength,
            "linestyle": "--" if kind == "surprise" else "-", "arrowstyle": _EXCITE if weight >= 0 else _INHIBIT,
            "mutation_scale": _HEAD_SCALE}


def _self_loop(circle: Circle, style: dict[str, Any]) -> FancyArrowPatch:
    """A loop from the top of a unit back into it, its head showing the sign as any connection's."""
    (x, y), radius = circle.center, circle.radius
    start, end = (x - 0.7 * radius, y + 0.7 * radius), (x + 0.7 * radius, y + 0.7 * radius)
    return FancyArrowPatch(start, end, connectionstyle=_LOOP, shrinkA=0, shrinkB=0, zorder=2, **style)


def _draw_summary_edges(ax: Axes, G: nx.DiGraph, kinds: dict[str, str], summarised: list[str],
                        counts: Counter[str]) -> None:
    """One labelled arrow per summarised core edge kind, beside the rows it connects."""
    rows = _row_heights(G)
    ends = {kind: next((kinds[s], kinds[t]) for s, t, d in G.edges(data=True) if d["kind"] == kind)
            for kind in summarised}
    between_rows = [kind for kind in summarised if ends[kind][0] != ends[kind][1]]
    for kind in summarised:
        source_kind, target_kind = ends[kind]
        label = f"{kind} ×{counts[kind]}"
        if source_kind == target_kind:
            y = rows[source_kind] - 0.45
            _labelled_arrow(ax, (_CORE_WIDTH * 0.7, y), (_CORE_WIDTH * 0.3, y), label, colour=_edge_colour(kind),
                            bend=-0.15, side="below")
            continue
        # Side by side at the left, each label at its own height: a label reaching over the next arrow
        # (its white box hides that arrow there) never lies on another label.
        position = between_rows.index(kind)
        x = -0.1 - 0.9 * position
        height = (position + 1) / (len(between_rows) + 1)  # of the way up from the lower row
        _labelled_arrow(ax, (x, rows[source_kind]), (x, rows[target_kind]), label, colour=_edge_colour(kind),
                        side="right", at=height if rows[source_kind] < rows[target_kind] else 1.0 - height)


# ---------------------------------------------------------- the machinery
def _machinery_blocks(G: nx.DiGraph, collapsed: bool) -> dict[str, _Block]:
    """Blocks above the state row, in data-flow order: P·u -> state | P -> φ'P -> Z -> λZZ -> back to P."""
    n, m = G.graph["n_hidden"], G.graph["n_obs"]
    side, base, pitch = _BLOCK_SIDE, _BLOCK_BASE, _BLOCK_SIDE + _BLOCK_GAP
    cell = side / n
    z_height = min(m * cell, side)
    columns, rows = _quadratic_grid(m)
    # The m sub-grids of quadratic units, shrunk to at most 1.6 blocks wide.
    shrink = min(1.0, 1.6 * side / ((columns * (n + 1) - 1) * cell))
    q_width, q_height = (columns * (n + 1) - 1) * cell * shrink, (rows * (n + 1) - 1) * cell * shrink
    if collapsed:  # a blob has no grid to fit
        z_height, q_width, q_height = side, side, side
    return {
        "gain_product": _Block("gain_product", 0.0, base, side, side),
        "covariance": _Block("covariance", pitch, base, side, side),
        "scaled_covariance": _Block("scaled_covariance", 2 * pitch, base, side, side),
        "projection": _Block("projection", _GATE_X - side / 2, base + (side - z_height) / 2, side, z_height),
        "quadratic": _Block("quadratic", _GATE_X + side / 2 + _BLOCK_GAP, base + (side - q_height) / 2, q_width,
                            q_height),
    }


def _quadratic_grid(n_obs: int) -> tuple[int, int]:
    """Columns and rows of the m N×N sub-grids of quadratic units."""
    columns = int(np.ceil(np.sqrt(n_obs)))
    return columns, int(np.ceil(n_obs / columns))


def _draw_machinery(ax: Axes, G: nx.DiGraph, blocks: dict[str, _Block], positions: _Positions, kinds: dict[str, str],
                    collapsed: bool) -> None:
    for kind, block in blocks.items():
        _draw_block(ax, block, [data for _, data in G.nodes(data=True) if data["kind"] == kind],
                    G.graph["n_obs"], collapsed)
    counts = Counter((kinds[s], kinds[t], data["kind"]) for s, t, data in G.edges(data=True)
                     if _is_block(kinds[s]) or _is_block(kinds[t]))
    _draw_state_bus(ax, positions, kinds, blocks)
    _draw_gate_wire(ax, positions, kinds)
    gain, cov, scaled = blocks["gain_product"], blocks["covariance"], blocks["scaled_covariance"]
    projection, quadratic = blocks["projection"], blocks["quadratic"]
    arrows = [
        (cov.anchor("left"), gain.anchor("right"), ("covariance", "gain_product", "covariance_read"), "above"),
        (cov.anchor("right"), scaled.anchor("left"), ("covariance", "scaled_covariance", "covariance_read"), "above"),
        (scaled.anchor("right"), projection.anchor("left"), ("scaled_covariance", "projection", "projection"),
         "above"),
        (projection.anchor("right"), quadratic.anchor("left"), ("projection", "quadratic", "quadratic_factor"),
         "above"),
        ((scaled.centre[0], _BUS_HEIGHT), scaled.anchor("bottom"), ("state", "scaled_covariance", "slope"), "right"),
        ((gain.centre[0] + 0.4, _BUS_HEIGHT), (gain.centre[0] + 0.4, gain.y), ("state", "gain_product", "back_error"),
         "right"),
        ((gain.centre[0] - 0.4, gain.y), (gain.centre[0] - 0.4, _BUS_HEIGHT), ("gain_product", "state", "gain"),
         "left"),
        ((_GATE_X, _GATE_Y), projection.anchor("bottom"), ("sensory", "projection", "gate"), "right"),
    ]
    for start, end, key, side in arrows:
        # Between blocks, one word a line fits the gap.
        separator = "\n" if side == "above" else " "
        label = separator.join([*key[2].split("_"), f"×{counts[key]}"]) if side == "above" else \
            f"{key[2]} ×{counts[key]}"
        _labelled_arrow(ax, start, end, label, side=side)
    top = max(block.top for block in blocks.values())
    _u_arrow(ax, (scaled.x + 0.3, scaled.top), (cov.x + cov.width - 0.3, cov.top), top + 0.5,
             f"drift ×{counts[('scaled_covariance', 'covariance', 'drift')]}")
    _u_arrow(ax, (quadratic.x + 0.3, quadratic.top), (cov.x + 0.3, cov.top), top + 1.6,
             f"quadratic ×{counts[('quadratic', 'covariance', 'quadratic')]}")


def _draw_state_bus(ax: Axes, positions: _Positions, kinds: dict[str, str], blocks: dict[str, _Block]) -> None:
    """A line standing for all state units, so machinery arrows need not fan out to each of them."""
    state_xs = [x for node, (x, _) in positions.items() if kinds[node] == "state"]
    state_y = next(y for node, (_, y) in positions.items() if kinds[node] == "state")
    left = min(blocks["gain_product"].centre[0] - 0.4, min(state_xs))
    right = max(blocks["scaled_covariance"].centre[0], max(state_xs))
    ax.plot([left, right], [_BUS_HEIGHT, _BUS_HEIGHT], color=_WIRING_COLOUR, lw=2.4, solid_capstyle="round",
            zorder=2)
    ax.vlines(state_xs, state_y + 0.4, _BUS_HEIGHT, color=_WIRING_COLOUR, lw=0.8, alpha=0.5, zorder=1)
    # Below the bus, clear of the labels of the wiring that rises from it.
    ax.annotate("every state unit", (right, _BUS_HEIGHT), xytext=(0, -4), textcoords="offset points", ha="right",
                va="top", fontsize=_TEXT_PT, color=_WIRING_COLOUR, style="italic")


def _draw_gate_wire(ax: Axes, positions: _Positions, kinds: dict[str, str]) -> None:
    """Dotted wire collecting every sensory unit's gate g_j for the projection block."""
    sensory_xs = [x for node, (x, _) in positions.items() if kinds[node] == "sensory"]
    ax.plot([min(sensory_xs), _GATE_X], [_GATE_Y, _GATE_Y], color=_WIRING_COLOUR, lw=1.2, ls=":", zorder=1)
    ax.vlines(sensory_xs, _GATE_Y, 0.0, color=_WIRING_COLOUR, lw=1.0, ls=":", zorder=1)


def _draw_block(ax: Axes, block: _Block, members: list[dict], n_obs: int, collapsed: bool) -> None:
    colour = _colour(block.kind)
    ax.add_patch(FancyBboxPatch((block.x, block.y), block.width, block.height + _CAPTION_BAND,
                                boxstyle="round,pad=0.08", facecolor=colour if collapsed else "white",
                                edgecolor=colour, linewidth=2.2, zorder=3))
    if not collapsed:
        for x, y, size in _cell_layout(block, members, n_obs):
            ax.add_patch(Rectangle((x, y), size, size, facecolor=colour, edgecolor="none", zorder=4))
    caption = NODE_KINDS[block.kind].draw.caption
    assert caption is not None  # every block kind has one (_is_block)
    name, formula = caption
    # One word a line: a block is about an inch wide.
    ax.annotate(f"{name.replace(' ', chr(10))}\n{formula}\n×{len(members)}", (block.centre[0], block.top - 0.06),
                ha="center", va="top", fontsize=_TEXT_PT, linespacing=1.05, color="white" if collapsed else "black",
                zorder=5)


def _cell_layout(block: _Block, members: list[dict], n_obs: int) -> list[tuple[float, float, float]]:
    """(x, y, size) of one square cell per unit at its (row, col); quadratic units in m sub-grids by ``obs``."""
    rows = 1 + max(data["row"] for data in members)
    cols = 1 + max(data["col"] for data in members)
    if block.kind != "quadratic":
        size = min(block.width / cols, block.height / rows)
        return [(block.x + data["col"] * size, block.y + block.height - (data["row"] + 1) * size, size * 0.88)
                for data in members]
    columns, _ = _quadratic_grid(n_obs)
    size = block.width / (columns * (cols + 1) - 1)
    cells = []
    for data in members:
        grid_row, grid_col = divmod(data["obs"], columns)
        x = block.x + (grid_col * (cols + 1) + data["col"]) * size
        y = block.y + block.height - (grid_row * (rows + 1) + data["row"] + 1) * size
        cells.append((x, y, size * 0.88))
    return cells


def _u_arrow(ax: Axes, start: _Point, end: _Point, height: float, label: str) -> None:
    """Up from ``start`` to ``height``, across, and down into ``end``: wiring that clears the blocks."""
    (x0, y0), (x1, y1) = start, end
    ax.plot([x0, x0, x1], [y0, height, height], color=_WIRING_COLOUR, lw=1.6, zorder=3)
    ax.add_patch(FancyArrowPatch((x1, height), (x1, y1), arrowstyle=_EXCITE, mutation_scale=_WIRING_HEAD_SCALE,
                                 color=_WIRING_COLOUR, lw=1.6, shrinkA=0, shrinkB=3, zorder=3))
    ax.annotate(label, ((x0 + x1) / 2, height), xytext=(0, 3), textcoords="offset points", ha="center",
                va="bottom", fontsize=_TEXT_PT, color=_WIRING_COLOUR)


def _labelled_arrow(ax: Axes, start: _Point, end: _Point, label: str, *, colour: str = _WIRING_COLOUR,
                    bend: float = 0.0, side: str = "above", at: float = 0.5) -> None:
    """An arrow from ``start`` to ``end``, its label beside the point ``at`` of the way (the apex if it bends)."""
    ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={bend}", arrowstyle=_EXCITE,
                                 mutation_scale=_WIRING_HEAD_SCALE, color=colour, lw=1.6, shrinkA=3, shrinkB=3,
                                 zorder=3))
    (x0, y0), (x1, y1) = start, end
    # matplotlib's arc3 control point is mid + rad·(dy, −dx); the curve's apex is halfway to it.
    x, y = x0 + at * (x1 - x0) + bend * (y1 - y0) / 2, y0 + at * (y1 - y0) - bend * (x1 - x0) / 2
    offset, ha, va = {"above": ((0, 4), "center", "bottom"), "below": ((0, -4), "center", "top"),
                      "right": ((5, 0), "left", "center"), "left": ((-5, 0), "right", "center")}[side]
    ax.annotate(label, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va, fontsize=_TEXT_PT,
                color=colour, linespacing=1.0, zorder=6,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


# ------------------------------------------------------------------ legend
def _legend_arrow(legend: Legend, orig_handle: FancyArrowPatch, xdescent: float, ydescent: float, width: float,
                  height: float, fontsize: float) -> FancyArrowPatch:
    """An arrow handle drawn in the legend as the connections are: its head, and a loop where it is one."""
    y = height / 2 - ydescent
    loop = orig_handle.get_connectionstyle() is _LOOP
    # A loop flattened into the handle's box: an arc over its width, bending back down.
    bottom = y - 0.5 * height
    start, end = (((-xdescent + 0.1 * width, bottom), (-xdescent + 0.9 * width, bottom)) if loop
                  else ((-xdescent, y), (-xdescent + width, y)))
    return FancyArrowPatch(start, end, arrowstyle=orig_handle.get_arrowstyle(),
                           connectionstyle="arc3,rad=-0.6" if loop else "arc3,rad=0",
                           mutation_scale=0.8 * orig_handle.get_mutation_scale(), shrinkA=0, shrinkB=0)


def _add_legend(ax: Axes, G: nx.DiGraph, kinds: dict[str, str], with_machinery: bool) -> None:
    """Below the drawing: the core's unit and connection kinds, and how a connection shows its weight.

    The blocks' kinds are not repeated: each block's caption names its kind.
    """
    handles: list[Artist] = [
        Line2D([], [], marker="o", linestyle="", markersize=12, markerfacecolor=_colour(kind), markeredgecolor="black",
               label=NODE_KINDS[kind].draw.label)
        for kind in dict.fromkeys(kinds.values()) if not _is_block(kind)]
    edge_kinds = dict.fromkeys(kind for _, _, kind in G.edges(data="kind") if _is_core_edge(kind))
    handles += [Line2D([], [], color=_edge_colour(kind), lw=3, linestyle="--" if kind == "surprise" else "-",
                       label=f"{kind} connection") for kind in edge_kinds]
    sample: dict[str, Any] = {"color": "black", "lw": 2, "mutation_scale": _HEAD_SCALE}
    handles += [
        FancyArrowPatch((0, 0), (1, 0), arrowstyle=_EXCITE, label="head: weight > 0", **sample),
        FancyArrowPatch((0, 0), (1, 0), arrowstyle=_INHIBIT, label="head: weight < 0", **sample),
        Line2D([], [], color="black", lw=3.2, label="|weight| = the kind's largest"),
        Line2D([], [], color="black", lw=1.25, alpha=0.42, label="|weight| = a quarter of it"),
        FancyArrowPatch((0, 0), (1, 0), arrowstyle=_EXCITE, connectionstyle=_LOOP,
                        label="loop: a unit's self-connection", **sample),
    ]
    if with_machinery:
        handles.append(Line2D([], [], color=_WIRING_COLOUR, lw=2, label="covariance wiring: kind ×connections"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False,
              handler_map={FancyArrowPatch: HandlerPatch(patch_func=_legend_arrow)})
