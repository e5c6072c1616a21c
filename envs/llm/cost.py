"""Network cost, counted as ASTRA-sim's analytical backend counts it.

astra-network-analytical's ``CostModel`` (``src/topology/CostModel.cc`` and
``HierarchicalTopology.cc``) adds, per network dimension, the links its topology needs and
their switches and NICs, at prices from the TeraRack paper: an NVLink-class link $100 (per
25 GB/s), an NVSwitch $5,200 (128 ports), an InfiniBand NIC $1,200. Links per instance of a
dimension of ``n`` NPUs: ``n`` for a bidirectional ``Ring``, ``n (n - 1) / 2`` for
``FullyConnected``, ``n`` plus ``ceil(n / 128)`` switches for a ``Switch``; dimensions beyond the
first (scale-out) add one NIC per NPU. A link faster than 25 GB/s counts as that many 25 GB/s
links (cost grows with bandwidth, as in the backend's bandwidth-scaled link counts).
"""

from __future__ import annotations

import numpy as np

from .collectives import TOPO_FULLY_CONNECTED, TOPO_RING, TOPO_SWITCH

LINK_USD = 100.0
LINK_GBPS = 25.0
SWITCH_USD = 5200.0
SWITCH_RADIX = 128.0
NIC_USD = 1200.0


def network_cost(sizes: np.ndarray, topo: np.ndarray, bw_gbps: np.ndarray) -> np.ndarray:
    """(B,) dollars of the network: ``sizes`` (D,), ``topo`` and ``bw_gbps`` (B, D)."""
    total_npus = float(np.prod(sizes))
    cost = np.zeros(topo.shape[0])
    for d, n in enumerate(sizes):
        if n <= 1:
            continue
        instances = total_npus / n
        links = np.select(
            [topo[:, d] == TOPO_RING, topo[:, d] == TOPO_FULLY_CONNECTED, topo[:, d] == TOPO_SWITCH],
            [n, n * (n - 1) / 2.0, n],
        )
        switches = np.where(topo[:, d] == TOPO_SWITCH, np.ceil(n / SWITCH_RADIX), 0.0)
        per_instance = links * LINK_USD * bw_gbps[:, d] / LINK_GBPS + switches * SWITCH_USD
        cost += instances * per_instance + (total_npus * NIC_USD if d > 0 else 0.0)
    return cost
