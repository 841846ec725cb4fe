"""The demos' figure style: slide-ready fonts and resolution, checked on what a figure really holds and writes."""

from __future__ import annotations

import matplotlib as mpl
import pytest
from PIL import Image

from rrnn_net.demos.plotting import DPI, MIN_FONT_PT, STYLE, WIDTH, figure, legend_below

FONT_SETTINGS = ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize",
                 "legend.fontsize", "legend.title_fontsize", "figure.titlesize", "figure.labelsize")


def test_inside_a_figure_every_font_is_at_least_14_pt_and_png_is_200_dpi(tmp_path):
    assert MIN_FONT_PT >= 14 and DPI == 200
    with figure(tmp_path / "styled.png") as (fig, ax):
        assert all(mpl.rcParams[name] >= MIN_FONT_PT for name in FONT_SETTINGS)
        assert mpl.rcParams["savefig.dpi"] == DPI
        ax.plot([0, 1], [0, 1], label="a line")
        ax.set_title("a title")
        ax.set_xlabel("time (s)")
        legend_below(fig)
        fig.suptitle("the claim")
    assert mpl.rcParams["font.size"] != STYLE["font.size"]  # the style does not leak out of the block
    with Image.open(tmp_path / "styled.png") as image:
        assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
        assert image.size[0] == pytest.approx(WIDTH * DPI, abs=2)


def test_every_text_of_a_styled_figure_is_at_least_the_minimum(tmp_path):
    with figure(tmp_path / "texts.png", 1, 2) as (fig, axes):
        for ax in axes:
            ax.semilogy([1, 2, 3], [1e-3, 1e-1, 10], label="curve")
            ax.set_ylabel("value (a.u.)")
        legend_below(fig)
        fig.draw_without_rendering()
        sizes = [text.get_fontsize() for text in fig.findobj(mpl.text.Text) if text.get_text().strip()]
    assert len(sizes) > 10 and min(sizes) >= MIN_FONT_PT


def test_a_figure_with_small_text_is_refused_and_not_written(tmp_path):
    with pytest.raises(ValueError, match=r"small\.png: text below 14 pt: 'footnote' at 8 pt"):
        with figure(tmp_path / "small.png") as (_, ax):
            ax.text(0.5, 0.5, "footnote", fontsize=8)
    assert not (tmp_path / "small.png").exists()


def test_the_legend_below_covers_no_axes(tmp_path):
    with figure(tmp_path / "legend.png", 2, 1) as (fig, axes):
        for index, ax in enumerate(axes):
            ax.plot(range(10), label=f"line {index}")
        legend = legend_below(fig, ncol=1)
        fig.draw_without_rendering()
        box = legend.get_window_extent()
        assert not any(box.overlaps(ax.get_window_extent()) for ax in axes)
    assert (tmp_path / "legend.png").exists()
