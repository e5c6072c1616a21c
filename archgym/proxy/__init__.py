"""Proxy cost models: learn a simulator's metrics from a dataset, then use them as a simulator.

* :mod:`archgym.proxy.features` — design parameters to features (one-hot, log2, standardised)
* :mod:`archgym.proxy.models` — LightGBM boosted trees and forest, GP (GPyTorch), MLP ensemble
  (torch), each with a predictive standard deviation
* :mod:`archgym.proxy.core` — training table, train/score, safe save/load (:class:`ProxyModel`)
* :mod:`archgym.proxy.simulator` — :class:`ProxySimulator` and the ``proxy`` simulator factory
* :mod:`archgym.proxy.in_loop` — :class:`ProxyInLoopAgent`: search on the proxy, the real
  simulator checks the most promising designs
* :mod:`archgym.proxy.cli` — ``archgym proxy train|eval|info``
"""

from archgym.errors import ProxyDataError
from archgym.proxy.core import ProxyModel, score, train_proxy, training_table
from archgym.proxy.models import MODELS
from archgym.proxy.simulator import ProxySimulator, check_compatible, proxy_simulator

__all__ = [
    "MODELS",
    "ProxyDataError",
    "ProxyModel",
    "ProxySimulator",
    "check_compatible",
    "proxy_simulator",
    "score",
    "train_proxy",
    "training_table",
]
