"""The co-design env's joint design space: network knobs (``net.*``) then accelerator knobs
(``hw.*``) (a light module, read by ``archgym envs`` without loading torch)."""

from __future__ import annotations

import copy

from archgym.design_space import DesignSpace, Parameter

NET_PREFIX = "net."
HW_PREFIX = "hw."


def _prefixed(param: Parameter, prefix: str) -> Parameter:
    """A copy of ``param`` under the name ``prefix + name``."""
    p = copy.copy(param)
    object.__setattr__(p, "name", prefix + param.name)
    return p


def joint_space(net: DesignSpace, hw: DesignSpace) -> DesignSpace:
    """``net.*`` parameters followed by ``hw.*`` parameters."""
    return DesignSpace(
        [_prefixed(p, NET_PREFIX) for p in net.params] + [_prefixed(p, HW_PREFIX) for p in hw.params]
    )
