"""Tests of the demos: each runs its demo's fast version once and checks the claims it makes."""

from rrnn_net.demos import HEADLINES, summary


def assert_one_line_summary(name: str, metrics: dict) -> None:
    """``rrnn demo NAME`` prints one line naming each of the demo's headline metrics."""
    line = summary(name, metrics)
    assert "\n" not in line and all(path in line for path in HEADLINES[name]), line
