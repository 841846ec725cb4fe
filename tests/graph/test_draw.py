"""draw: writes a real PNG for every graph type, collapsed or not."""

from __future__ import annotations

import pytest
from matplotlib.image import imread
from PIL import Image

from rrnn_net import GenerativeRNN, ParameterError
from rrnn_net.demos.plotting import DPI, WIDTH
from rrnn_net.graph import GraphSchemaError, compile_rrnn, draw, drawing
from rrnn_net.graph.examples import example_graphs


@pytest.mark.parametrize("name", ["rrnn_adaptive", "rrnn_fixed", "baseline"])
def test_draw_writes_a_png(tmp_path, name):
    path = draw(example_graphs([name])[name], tmp_path / f"{name}.png", dpi=60)
    image = imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 400
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_draw_collapses_large_graphs(tmp_path):
    G = compile_rrnn(GenerativeRNN.oscillator(6, 2, seed=0))
    expanded = draw(G, tmp_path / "expanded.png", dpi=60)
    collapsed = draw(G, tmp_path / "collapsed.png", collapse_above=4, max_drawn_edges=10, dpi=60)
    # filled blobs instead of white grids: more coloured pixels in the block row
    assert imread(collapsed)[..., :3].mean() < imread(expanded)[..., :3].mean()


@pytest.mark.parametrize("gain_mode", ["fixed", "adaptive"])
def test_labels_of_summarised_connections_between_two_rows_do_not_overlap(gain_mode):
    # prediction (state -> error) and its way back (fixed_gain, or feedback) are summarised side by side.
    G = compile_rrnn(GenerativeRNN.oscillator(6, 3, seed=0), gain_mode=gain_mode)
    with drawing.style():
        figure = drawing._drawing(G, collapse_above=4, max_drawn_edges=10, title=None)
        figure.draw_without_rendering()
    boxes = [text.get_window_extent() for text in figure.axes[0].texts if "×" in text.get_text()]
    assert len(boxes) >= 2
    assert not any(a.overlaps(b) for index, a in enumerate(boxes) for b in boxes[index + 1:])


def test_draw_refuses_an_invalid_graph(tmp_path, model):
    G = compile_rrnn(model)
    G.nodes["state:0"]["kind"] = "exec"
    with pytest.raises(GraphSchemaError):
        draw(G, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_draw_without_suffix_writes_a_png_and_returns_that_path(tmp_path):
    path = draw(example_graphs(["baseline"])["baseline"], tmp_path / "picture", dpi=40)
    assert path == tmp_path / "picture.png" and imread(path).shape[0] > 100
    assert [entry.name for entry in tmp_path.iterdir()] == ["picture.png"]


def test_draw_refuses_a_format_matplotlib_cannot_write_before_drawing(tmp_path):
    with pytest.raises(ParameterError, match=r"x\.xyz: matplotlib writes no '\.xyz' images; use one of .*\.png"):
        draw(example_graphs(["baseline"])["baseline"], tmp_path / "x.xyz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["rrnn_adaptive", "baseline"])
def test_draw_is_slide_sized_at_200_dpi(tmp_path, name):
    path = draw(example_graphs([name])[name], tmp_path / f"{name}.png")
    with Image.open(path) as image:
        assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
        # The drawing with its labels and legend is the style's width (plus the saved margin), whatever the graph.
        assert image.size[0] / DPI == pytest.approx(WIDTH, abs=0.5)


def test_draw_shows_the_sign_of_each_weight_by_its_head(monkeypatch, tmp_path):
    heads = []
    style_of = drawing._edge_style

    def recorded(kind, weight, strength):
        style = style_of(kind, weight, strength)
        heads.append((weight, style["arrowstyle"]))
        return style

    monkeypatch.setattr(drawing, "_edge_style", recorded)
    draw(example_graphs(["rrnn_fixed"])["rrnn_fixed"], tmp_path / "fixed.png")
    assert {weight > 0 for weight, _ in heads} == {True, False}  # the example holds both signs
    assert all(head is (drawing._EXCITE if weight >= 0 else drawing._INHIBIT) for weight, head in heads)
