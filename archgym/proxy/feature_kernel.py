"""The compiled half of :meth:`archgym.proxy.features.FeatureEncoder.encode`.

Once the designs' values are read (category indices and numbers, one array each), one pass
over the designs writes every feature and the out-of-range flag: one-hot entries, the
standardised numeric columns (``log2`` first where the encoder says so) and each numeric
value's level in its one-hot block. The arithmetic is NumPy's: ``(z - mean) / std`` in
float64, stored in ``out``'s dtype.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: ``log2`` of a value at or below this is ``log2(TINY)`` (as ``np.log2(np.maximum(x, TINY))``)
TINY = 1e-300


@njit(cache=True)
def fill_features(
    out: np.ndarray,  # (n, width) zeros, float32 or float64: the features
    outside: np.ndarray,  # (n,) bool: set to whether each design is out of the training range
    cat: np.ndarray,  # (n, categorical params) int64: category index, -1 for an unseen value
    cat_col: np.ndarray,  # (categorical params,) first column of each one-hot block
    x: np.ndarray,  # (n, numeric params) float64 values
    num_col: np.ndarray,  # (numeric params,) the numeric feature's column (its levels follow)
    num_log: np.ndarray,  # (numeric params,) bool: encode log2(value)
    mean: np.ndarray,  # (numeric params,) of the encoded value, in training
    std: np.ndarray,
    low: np.ndarray,  # (numeric params,) smallest and largest training value
    high: np.ndarray,
    levels: np.ndarray,  # every numeric parameter's levels, one after the other
    level_first: np.ndarray,  # (numeric params,) where a parameter's levels start in ``levels``
    level_count: np.ndarray,  # (numeric params,) how many levels it has (0: no one-hot block)
) -> None:
    """Write the features of ``n`` designs into ``out`` and their flags into ``outside``."""
    for i in range(out.shape[0]):
        off = False
        for b in range(cat.shape[1]):
            k = cat[i, b]
            if k >= 0:
                out[i, cat_col[b] + k] = 1.0
            else:
                off = True
        for c in range(x.shape[1]):
            v = x[i, c]
            if not (low[c] <= v <= high[c]) or math.isinf(v):  # NaN fails the comparison
                off = True
            z = v
            if num_log[c]:
                z = np.log2(v if (v > TINY or v != v) else TINY)
            out[i, num_col[c]] = (z - mean[c]) / std[c]
            f = level_first[c]
            for j in range(level_count[c]):
                if levels[f + j] == v:
                    out[i, num_col[c] + 1 + j] = 1.0
                    break
        outside[i] = off
