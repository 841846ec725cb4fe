"""Hypothesis strategies shared by the fuzz suite: junk values, arrays of any dtype and shape, mutated files.

The fuzz tests assert one contract over the public API and the CLI: every
outcome is a valid result (finite where the docs promise finite numbers) or
an :class:`~rrnn_net.errors.RRNNError`; never another exception type.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: Floats a careless or hostile caller passes: signs, zeros, extremes and non-finite values.
SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, 5e-324, 1e200, -1e200, 1e308, np.nan, np.inf, -np.inf]

DTYPES = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_,
                          np.complex128, np.dtype("U3"), np.dtype("datetime64[s]")])


def special_floats() -> st.SearchStrategy[float]:
    """Ordinary floats mixed with the special values above."""
    return st.one_of(st.floats(-3, 3), st.sampled_from(SPECIAL_FLOATS))


def junk() -> st.SearchStrategy[object]:
    """A value of the wrong kind for almost any parameter."""
    return st.one_of(
        st.none(), st.booleans(), st.integers(-(10**20), 10**20), special_floats(), st.text(max_size=4),
        st.complex_numbers(max_magnitude=10), st.lists(special_floats(), max_size=3), st.builds(object),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    )


def any_array() -> st.SearchStrategy[np.ndarray]:
    """An array of any listed dtype with 0 to 3 axes of 0 to 4 entries (elements anything the dtype holds)."""
    return hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


def float_array(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """A float array of exactly ``shape`` whose entries include the special values."""
    return hnp.arrays(np.float64, shape, elements=special_floats())


def argument(valid: object, shape: tuple[int, ...] | None = None) -> st.SearchStrategy[object]:
    """Mostly ``valid``; else a junk value, an array of any kind, or (given ``shape``) special floats in the shape."""
    options = [st.just(valid), st.just(valid), junk(), any_array()]
    if shape is not None:
        options.append(float_array(shape))
    return st.one_of(options)


def mutated(data: bytes) -> st.SearchStrategy[bytes]:
    """``data`` with one region of up to 40 bytes replaced by a token or random bytes, or truncated."""

    @st.composite
    def mutation(draw) -> bytes:
        if draw(st.integers(0, 9)) == 0:
            return data[: draw(st.integers(0, len(data)))]
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 40)))
        insert = draw(st.one_of(st.sampled_from(TOKENS).map(str.encode), st.binary(max_size=12)))
        return data[:start] + insert + data[end:]

    return mutation()


TOKENS = ["", "0", "1", "-1", "2.5", "1e308", "1e999", "nan", "inf", "-0.0", ",", ",,", "\n", "\r\n", "x",
          "'", '"', "<", ">", "&amp;", "{}", "[]", "true", "null", "9" * 30, "\x00", "\ufeff", "é"]
