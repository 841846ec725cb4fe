"""A layered picture of a compiled graph: sensory → error ↔ state, with the covariance machinery as blocks.

The prediction/error core is drawn unit by unit, its connections coloured by
kind with width and opacity growing with |weight|; an edge kind with more than
``max_drawn_edges`` connections becomes one labelled arrow. The covariance
machinery of an adaptive rRNN has O(N³) connections, so each of its unit kinds
is one block (a grid with one cell per unit, or a filled summary blob above
``collapse_above`` state units) and each edge kind between blocks one arrow
labelled with its count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from .._files import write_atomically
from ..errors import ParameterError
from .kinds import EDGE_KINDS, NODE_KINDS
from .schema import validate_graph

__all__ = ["draw"]

# Colours, labels, captions and bends are the kinds' draw styles (rrnn_net.graph.kinds); the geometry below
# places the rRNN's and the baseline's kinds. Kinds it does not place (an extension's) are left out.
_WIRING_COLOUR = "#5F5F5F"

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


# Geometry, in data units.
_CORE_ROWS = {"rrnn": (("sensory", 0.0), ("error", 1.5), ("state", 3.4)),
              "baseline": (("input", 0.0), ("hidden", 1.8), ("output", 3.6))}
_CORE_WIDTH = 12.0
_EVIDENCE_POSITION = (13.0, 2.45)
_BLOCK_SIDE = 2.0  # an N×N grid of units
_BLOCK_BASE = 5.9  # bottom of the block row
_CAPTION_BAND = 0.9  # room for the three caption lines inside a block's frame, above its grid
_BUS_HEIGHT = 5.0  # the line standing for "every state unit"
_GATE_X = 14.4  # where the sensory gate wire rises into the projection block


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
         title: str | None = None, dpi: int = 150) -> Path:
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
    kinds = dict(G.nodes(data="kind"))
    collapsed = G.graph["n_hidden"] > collapse_above
    positions = _core_positions(G, kinds)
    blocks = _machinery_blocks(G, collapsed) if G.graph["gain_mode"] == "adaptive" else {}
    figure = Figure(figsize=(16, 9) if blocks else (13, 6.5))
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    _draw_core_edges(ax, G, positions, kinds, max_drawn_edges)
    _draw_core_nodes(ax, positions, kinds, collapsed)
    if blocks:
        _draw_machinery(ax, G, blocks, positions, kinds, collapsed)
    _add_legend(ax, G, kinds, bool(blocks))
    ax.set_title(title or _default_title(G, kinds), fontsize=14)
    ax.autoscale_view()
    return write_atomically(path, lambda handle: figure.savefig(handle, format=path.suffix[1:].lower(), dpi=dpi,
                                                                facecolor="white", bbox_inches="tight"))


def _default_title(G: nx.DiGraph, kinds: dict[str, str]) -> str:
    graph = G.graph
    n_product = sum(1 for kind in kinds.values() if NODE_KINDS[kind].product)
    if graph["graph_type"] == "baseline":
        head = (f"Conventional input-driven RNN: {graph['n_input']} inputs, {graph['n_hidden']} hidden units, "
                f"{graph['n_output']} outputs")
    else:
        mode = "adaptive gain (the full Bayesian filter)" if graph["gain_mode"] == "adaptive" else "fixed gain K"
        head = f"Recognizing RNN, {mode}: N = {graph['n_hidden']} states, m = {graph['n_obs']} channels"
    counts = f"{G.number_of_nodes()} units, {G.number_of_edges()} connections"
    return f"{head}\n{counts}" + (f", {n_product} multiplicative units" if n_product else "")


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


def _draw_core_nodes(ax: Axes, positions: _Positions, kinds: dict[str, str], collapsed: bool) -> None:
    per_kind = Counter(kinds[node] for node in positions)
    for node, (x, y) in positions.items():
        kind = kinds[node]
        radius = 0.32 if kind == "evidence" else float(np.clip(2.6 / per_kind[kind], 0.06, 0.2))
        ax.add_patch(Circle((x, y), radius, facecolor=_colour(kind), edgecolor="black", linewidth=0.8,
                            zorder=4))
        if kind != "evidence" and not collapsed and per_kind[kind] <= 16:
            ax.annotate(node.split(":")[1], (x, y), ha="center", va="center", fontsize=7, color="white",
                        fontweight="bold", zorder=5)
    if "evidence" in kinds:
        ax.annotate("ℓ", positions["evidence"], ha="center", va="center", fontsize=13, zorder=5)
    for kind in dict.fromkeys(kinds[node] for node in positions):
        if kind != "evidence":
            height = next(y for node, (_, y) in positions.items() if kinds[node] == kind)
            ax.annotate(NODE_KINDS[kind].draw.label, (-0.4, height), ha="right", va="center", fontsize=11,
                        color=_colour(kind), fontweight="bold", annotation_clip=False)


def _draw_core_edges(ax: Axes, G: nx.DiGraph, positions: _Positions, kinds: dict[str, str],
                     max_drawn_edges: int) -> None:
    edges = [(s, t, d) for s, t, d in G.edges(data=True)
             if _is_core_edge(d["kind"]) and s in positions and t in positions]
    counts = Counter(data["kind"] for _, _, data in edges)
    scale = {kind: max(abs(d["weight"]) for _, _, d in edges if d["kind"] == kind) for kind in counts}
    for source, target, data in edges:
        kind = data["kind"]
        if counts[kind] > max_drawn_edges:
            continue
        strength = abs(data["weight"]) / scale[kind] if scale[kind] else 0.0
        colour, alpha, width = _edge_colour(kind), 0.2 + 0.7 * strength, 0.4 + 2.2 * strength
        if source == target:
            x, y = positions[source]
            ax.add_patch(Circle((x, y + 0.38), 0.13, fill=False, edgecolor=colour, alpha=alpha, linewidth=width,
                                zorder=2))
            continue
        ax.add_patch(FancyArrowPatch(positions[source], positions[target], arrowstyle="-|>", mutation_scale=7,
                                     connectionstyle=f"arc3,rad={EDGE_KINDS[kind].bend}", shrinkA=6, shrinkB=6,
                                     linestyle="--" if kind == "surprise" else "-", zorder=2, color=colour,
                                     alpha=alpha, lw=width))
    summarised = [kind for kind in counts if counts[kind] > max_drawn_edges]
    _draw_summary_edges(ax, G, kinds, summarised, counts)


def _draw_summary_edges(ax: Axes, G: nx.DiGraph, kinds: dict[str, str], summarised: list[str],
                        counts: Counter[str]) -> None:
    """One labelled arrow per summarised core edge kind, beside the rows it connects."""
    rows = _row_heights(G)
    ends = {kind: next((kinds[s], kinds[t]) for s, t, d in G.edges(data=True) if d["kind"] == kind)
            for kind in summarised}
    for position, kind in enumerate(summarised):
        source_kind, target_kind = ends[kind]
        label = f"{kind} ×{counts[kind]}"
        if source_kind == target_kind:
            y = rows[source_kind] - 0.45
            _labelled_arrow(ax, (_CORE_WIDTH * 0.7, y), (_CORE_WIDTH * 0.3, y), label, colour=_edge_colour(kind),
                            bend=-0.15, side="below")
            continue
        x = -0.1 - 0.9 * position
        _labelled_arrow(ax, (x, rows[source_kind]), (x, rows[target_kind]), label, colour=_edge_colour(kind),
                        side="right")


# ---------------------------------------------------------- the machinery
def _machinery_blocks(G: nx.DiGraph, collapsed: bool) -> dict[str, _Block]:
    """Blocks above the state row, in data-flow order: P·u -> state | P -> φ'P -> Z -> λZZ -> back to P."""
    n, m = G.graph["n_hidden"], G.graph["n_obs"]
    side, base = _BLOCK_SIDE, _BLOCK_BASE
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
        "covariance": _Block("covariance", 4.4, base, side, side),
        "scaled_covariance": _Block("scaled_covariance", 8.8, base, side, side),
        "projection": _Block("projection", _GATE_X - side / 2, base + (side - z_height) / 2, side, z_height),
        "quadratic": _Block("quadratic", _GATE_X + side / 2 + 2.6, base + (side - q_height) / 2, q_width, q_height),
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
        ((_GATE_X, -0.6), projection.anchor("bottom"), ("sensory", "projection", "gate"), "right"),
    ]
    for start, end, key, side in arrows:
        separator = "\n" if side == "above" else " "
        _labelled_arrow(ax, start, end, f"{key[2]}{separator}×{counts[key]}", side=side)
    top = max(block.top for block in blocks.values())
    _u_arrow(ax, (scaled.x + 0.25, scaled.top), (cov.x + cov.width - 0.25, cov.top), top + 0.45,
             f"drift ×{counts[('scaled_covariance', 'covariance', 'drift')]}")
    _u_arrow(ax, (quadratic.x + 0.25, quadratic.top), (cov.x + 0.25, cov.top), top + 1.1,
             f"quadratic ×{counts[('quadratic', 'covariance', 'quadratic')]}")


def _draw_state_bus(ax: Axes, positions: _Positions, kinds: dict[str, str], blocks: dict[str, _Block]) -> None:
    """A line standing for all state units, so machinery arrows need not fan out to each of them."""
    state_xs = [x for node, (x, _) in positions.items() if kinds[node] == "state"]
    state_y = next(y for node, (_, y) in positions.items() if kinds[node] == "state")
    left = min(blocks["gain_product"].centre[0] - 0.4, min(state_xs))
    right = max(blocks["scaled_covariance"].centre[0], max(state_xs))
    ax.plot([left, right], [_BUS_HEIGHT, _BUS_HEIGHT], color=_WIRING_COLOUR, lw=2.4, solid_capstyle="round",
            zorder=2)
    ax.vlines(state_xs, state_y + 0.3, _BUS_HEIGHT, color=_WIRING_COLOUR, lw=0.6, alpha=0.5, zorder=1)
    ax.annotate("every state unit", (right + 0.15, _BUS_HEIGHT), ha="left", va="center", fontsize=8,
                color=_WIRING_COLOUR, style="italic")


def _draw_gate_wire(ax: Axes, positions: _Positions, kinds: dict[str, str]) -> None:
    """Dotted wire collecting every sensory unit's gate g_j for the projection block."""
    sensory_xs = [x for node, (x, _) in positions.items() if kinds[node] == "sensory"]
    ax.plot([min(sensory_xs), _GATE_X], [-0.6, -0.6], color=_WIRING_COLOUR, lw=1.0, ls=":", zorder=1)
    ax.vlines(sensory_xs, -0.6, 0.0, color=_WIRING_COLOUR, lw=0.8, ls=":", zorder=1)


def _draw_block(ax: Axes, block: _Block, members: list[dict], n_obs: int, collapsed: bool) -> None:
    colour = _colour(block.kind)
    ax.add_patch(FancyBboxPatch((block.x, block.y), block.width, block.height + _CAPTION_BAND,
                                boxstyle="round,pad=0.08", facecolor=colour if collapsed else "white",
                                edgecolor=colour, linewidth=1.8, zorder=3))
    if not collapsed:
        for x, y, size in _cell_layout(block, members, n_obs):
            ax.add_patch(Rectangle((x, y), size, size, facecolor=colour, edgecolor="none", zorder=4))
    caption = NODE_KINDS[block.kind].draw.caption
    assert caption is not None  # every block kind has one (_is_block)
    name, formula = caption
    ax.annotate(f"{name}\n{formula}\n×{len(members)}", (block.centre[0], block.top - 0.04), ha="center", va="top",
                fontsize=7.5, linespacing=1.1, color="white" if collapsed else "black", zorder=5)


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
    ax.plot([x0, x0, x1], [y0, height, height], color=_WIRING_COLOUR, lw=1.4, zorder=3)
    ax.add_patch(FancyArrowPatch((x1, height), (x1, y1), arrowstyle="-|>", mutation_scale=12, color=_WIRING_COLOUR,
                                 lw=1.4, shrinkA=0, shrinkB=3, zorder=3))
    ax.annotate(label, ((x0 + x1) / 2, height), xytext=(0, 3), textcoords="offset points", ha="center",
                va="bottom", fontsize=8, color=_WIRING_COLOUR)


def _labelled_arrow(ax: Axes, start: _Point, end: _Point, label: str, *, colour: str = _WIRING_COLOUR,
                    bend: float = 0.0, side: str = "above") -> None:
    ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>",
                                 mutation_scale=12, color=colour, lw=1.4, shrinkA=3, shrinkB=3, zorder=3))
    (x0, y0), (x1, y1) = start, end
    # matplotlib's arc3 control point is mid + rad·(dy, −dx); the curve's apex is halfway to it.
    x, y = (x0 + x1) / 2 + bend * (y1 - y0) / 2, (y0 + y1) / 2 - bend * (x1 - x0) / 2
    offset, ha, va = {"above": ((0, 4), "center", "bottom"), "below": ((0, -4), "center", "top"),
                      "right": ((5, 0), "left", "center"), "left": ((-5, 0), "right", "center")}[side]
    ax.annotate(label, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va, fontsize=8, color=colour,
                zorder=6, bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none",
                                "alpha": 0.85})


# ------------------------------------------------------------------ legend
def _add_legend(ax: Axes, G: nx.DiGraph, kinds: dict[str, str], with_machinery: bool) -> None:
    handles = [Line2D([], [], marker="s" if _is_block(kind) else "o", linestyle="", markersize=8,
                      markerfacecolor=_colour(kind), markeredgecolor="black", label=NODE_KINDS[kind].draw.label)
               for kind in dict.fromkeys(kinds.values())]
    edge_kinds = dict.fromkeys(kind for _, _, kind in G.edges(data="kind") if _is_core_edge(kind))
    handles += [Line2D([], [], color=_edge_colour(kind), lw=2, linestyle="--" if kind == "surprise" else "-",
                       label=f"{kind} connection") for kind in edge_kinds]
    if with_machinery:
        handles.append(Line2D([], [], color=_WIRING_COLOUR, lw=1.5, label="covariance wiring (× connections)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False,
              title="units and connections", title_fontsize=10)
