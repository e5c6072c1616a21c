import math

import numpy as np
import pytest

from archgym.design_space import Categorical, DesignSpace, Integer, InvalidDesignError, Ordinal, Real


def test_index_round_trip_covers_every_design(space):
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in space.nvec], indexing="ij"), -1).reshape(
        -1, len(space)
    )
    assert len(grid) == space.size == 3 * 16 * 8 * 4
    seen = set()
    for idx in grid:
        d = space.from_indices(idx)
        assert np.array_equal(space.to_indices(d), idx)
        seen.add(tuple(d.values()))
    assert len(seen) == space.size


def test_unit_and_box_round_trip(space):
    rng = np.random.default_rng(1)
    for _ in range(200):
        d = space.sample(rng)
        u = space.to_unit(d)
        assert np.all((u >= 0) & (u <= 1))
        assert space.from_unit(u) == d
        assert space.from_box(space.to_box(d)) == d


def test_real_parameter_unit_is_exact_and_index_is_nearest(real_space):
    d = {"x": 1.0, "n": 3}
    u = real_space.to_unit(d)
    assert math.isclose(u[0], 0.5)  # log scale: 1 is the geometric middle of 0.1..10
    assert math.isclose(real_space.from_unit(u)["x"], 1.0)
    assert real_space.size == math.inf
    x_back = real_space.from_indices(real_space.to_indices(d))["x"]
    assert abs(math.log(x_back)) <= (math.log(100) / 63) / 2 + 1e-12


def test_log2_integer_values():
    p = Integer("m", 1, 128, log2=True)
    assert p.values == (1, 2, 4, 8, 16, 32, 64, 128)
    with pytest.raises(ValueError):
        Integer("m", 3, 128, log2=True)


@pytest.mark.parametrize(
    "design, fragment",
    [
        (
            {"mode": "z", "units": 1, "buffer": 1, "freq": 1.0},
            "parameter 'mode': invalid value 'z'; allowed: a, b, c",
        ),
        (
            {"mode": "a", "units": 17, "buffer": 1, "freq": 1.0},
            "parameter 'units': invalid value 17; allowed: integers 1..16",
        ),
        (
            {"mode": "a", "units": 1, "buffer": 3, "freq": 1.0},
            "parameter 'buffer': invalid value 3; allowed: powers of two 1, 2, 4",
        ),
        (
            {"mode": "a", "units": 1, "buffer": 1, "freq": 0.7},
            "parameter 'freq': invalid value 0.7; allowed: 0.5, 1.0, 1.5, 2.0",
        ),
        ({"mode": "a", "units": 1, "buffer": 1}, "missing parameter(s): freq"),
        ({"mode": "a", "units": 1, "buffer": 1, "freq": 1.0, "bogus": 2}, "unknown parameter(s) 'bogus'"),
    ],
)
def test_validate_names_parameter_value_and_allowed(space, design, fragment):
    with pytest.raises(InvalidDesignError) as err:
        space.validate(design)
    assert fragment in str(err.value)


def test_validate_canonicalises_integral_floats(space):
    d = space.validate({"mode": "b", "units": 4.0, "buffer": 8, "freq": 2})
    assert d == {"mode": "b", "units": 4, "buffer": 8, "freq": 2}
    assert isinstance(d["units"], int)


def test_neighbour_moves_exactly_one_parameter_within_bounds(space):
    rng = np.random.default_rng(0)
    idx = space.sample_indices(rng)
    for _ in range(500):
        nb = space.neighbour(idx, rng, step=3)
        changed = np.flatnonzero(nb != idx)
        assert len(changed) == 1
        j = changed[0]
        assert 0 <= nb[j] < space.nvec[j]
        if not space.params[j].is_categorical:
            assert abs(nb[j] - idx[j]) <= 3
        idx = nb


def test_gymnasium_views(space):
    assert list(space.multidiscrete_space().nvec) == [3, 16, 8, 4]
    box = space.box_space()
    assert box.shape == (4,) and float(box.low.min()) == -1.0 and float(box.high.max()) == 1.0
    assert set(space.dict_space().spaces) == set(space.names)


def test_construction_errors():
    with pytest.raises(ValueError):
        DesignSpace([Integer("a", 1, 2), Integer("a", 1, 3)])
    with pytest.raises(ValueError):
        Categorical("c", ("x", "x"))
    with pytest.raises(ValueError):
        Ordinal("o", (3, 1))
    with pytest.raises(ValueError):
        Real("r", 1.0, 1.0)


@pytest.mark.parametrize("low, high, log", [(0.1, 10.0, True), (1e-3, 7.0, True), (0.1, 0.7, False)])
def test_real_grid_ends_decode_inside_the_bounds(low, high, log):
    """exp/log rounding once gave 10.000000000000007 for the top of [0.1, 10] (log), a design
    the space then rejected; every grid point and both unit ends must validate."""
    p = Real("x", low, high, log=log)
    for i in range(p.n):
        assert p.validate(p.from_index(i)) == p.from_index(i)
    for u in (0.0, 1.0):
        assert p.validate(p.from_unit(u)) == pytest.approx(low if u == 0 else high, rel=1e-12)
