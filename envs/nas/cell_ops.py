"""NAS-Bench-201's cell vocabulary: operations, edges and the cell's design space (a light
module, so the design space is read without loading torch; :mod:`.cell_space` builds the networks).

Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture Search", ICLR 2020.
"""

from __future__ import annotations

from archgym.design_space import Categorical, DesignSpace

#: the five operations, in the order of the design space's choices
OPS: tuple[str, ...] = ("none", "skip", "conv1x1", "conv3x3", "avgpool3x3")
#: NAS-Bench-201's names of :data:`OPS`
NB201_NAMES: dict[str, str] = {
    "none": "none",
    "skip": "skip_connect",
    "conv1x1": "nor_conv_1x1",
    "conv3x3": "nor_conv_3x3",
    "avgpool3x3": "avg_pool_3x3",
}
#: the six edges ``(from, to)`` in NAS-Bench-201's string order (grouped by target node)
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_NODES = 4


def edge_name(i: int, j: int) -> str:
    """Design-parameter name of the edge from node ``i`` into node ``j``."""
    return f"edge_{i}_{j}"


def cell_design_space() -> DesignSpace:
    """One categorical knob per edge, choosing among :data:`OPS`."""
    return DesignSpace([Categorical(edge_name(i, j), OPS) for i, j in EDGES])
