"""Proxy prediction as arrays: ``ProxyModel.predict_arrays`` / ``ProxySimulator.evaluate_arrays``
give the same numbers as the per-design dicts, from design dicts, a frame or columns, and the
plain-Python encoding of a few designs equals the vectorised one."""

import numpy as np
import pytest
from conftest import make_test_env

from archgym.dataset import load_dataset
from archgym.generate import generate_dataset
from archgym.proxy import ProxySimulator, train_proxy, training_table
from archgym.proxy.features import SMALL_BATCH


@pytest.fixture(scope="module")
def mlp_proxy(tmp_path_factory):
    out = tmp_path_factory.mktemp("quad") / "gen"
    generate_dataset(make_test_env(), out, 120, "sobol", seed=2, progress=False)
    table = training_table(load_dataset(out))
    return train_proxy(table, "mlp", seed=0, epochs=10, hidden=16, layers=2, ensemble=2), table


def test_arrays_equal_dicts_from_every_input_form(mlp_proxy):
    model, table = mlp_proxy
    frame = table.designs.iloc[:50]
    dicts = frame.to_dict("records")
    arrays = model.predict_arrays(dicts)
    names = (*model.metric_names, *(m + "_std" for m in model.metric_names), "out_of_range")
    assert tuple(arrays) == names and all(a.shape == (50,) for a in arrays.values())
    rows = ProxySimulator(model).evaluate_many(dicts, None)
    for k in names:
        np.testing.assert_array_equal(arrays[k], [r[k] for r in rows])
    for other in (model.predict_arrays(frame), model.predict_arrays({c: frame[c].to_numpy() for c in frame})):
        for k in names:
            np.testing.assert_array_equal(other[k], arrays[k])
    y, std, _ = model.predict_dist(dicts)
    np.testing.assert_array_equal(arrays[model.metric_names[0]], y[:, 0])
    assert np.all(std > 0) and not arrays["out_of_range"].any()


def test_few_designs_encode_as_many(mlp_proxy):
    model, table = mlp_proxy
    enc = model.encoder
    dicts = table.designs.iloc[:40].to_dict("records")
    dicts[3] = {**dicts[3], "mode": "never-seen"}  # unseen category: zeros, out of range
    num = next(f.name for f in enc.features if f.kind != "onehot")
    dicts[5] = {**dicts[5], num: 1e9}  # beyond the training range
    dicts[6] = {**dicts[6], num: float("nan")}
    x_many, out_many = enc.encode(dicts)
    for i in range(0, 40, SMALL_BATCH):
        x_few, out_few = enc.encode(dicts[i : i + SMALL_BATCH])
        np.testing.assert_array_equal(x_few, x_many[i : i + SMALL_BATCH])
        np.testing.assert_array_equal(out_few, out_many[i : i + SMALL_BATCH])
    assert out_many[[3, 5, 6]].all() and out_many.sum() == 3
    with pytest.raises(KeyError, match="lack parameter"):
        enc.encode([{k: v for k, v in dicts[0].items() if k != num}])


def test_single_evaluation_matches_the_batch(mlp_proxy):
    model, table = mlp_proxy
    sim = ProxySimulator(model)
    dicts = table.designs.iloc[:100].to_dict("records")
    batch = sim.evaluate_many(dicts, None)
    for i in (0, 17, 99):
        one = sim.evaluate(dicts[i], None)
        assert one.keys() == batch[i].keys()
        np.testing.assert_allclose(list(one.values()), list(batch[i].values()), rtol=1e-6)


def test_memo_and_compiled_encoding_match_plain_python(mlp_proxy):
    """Design dicts go through the memo of categorical combinations and the compiled fill; a
    second call (every combination remembered) and a frame give the same features, and values
    equal to a category only after ``str`` (1, 1.0, True) are never conflated by the memo."""
    model, table = mlp_proxy
    enc = model.encoder
    dicts = table.designs.iloc[:60].to_dict("records")
    cat = next(f for f in enc.features if f.kind == "onehot")
    dicts[1] = {**dicts[1], cat.name: 12345}  # a number: str(12345) is no category either
    first, again = enc.encode(dicts), enc.encode(dicts)
    few = [enc.encode(dicts[i : i + SMALL_BATCH]) for i in range(0, 60, SMALL_BATCH)]
    for got in (
        again,
        enc.encode(table.designs.iloc[:60].assign(**{cat.name: [d[cat.name] for d in dicts]})),
    ):
        np.testing.assert_array_equal(got[0], first[0])
        np.testing.assert_array_equal(got[1], first[1])
    np.testing.assert_array_equal(np.concatenate([x for x, _ in few]), first[0])
    assert first[1][1] and first[1].sum() == 1
    assert all(type(v) is str for key in enc._memo.rows for v in (key if isinstance(key, tuple) else (key,)))


def test_large_batches_match_the_torch_networks(mlp_proxy):
    """A batch large enough for the fused SiLU predicts what the torch networks do, and what
    one design at a time (NumPy SiLU) does, to float32 precision."""
    import torch

    model, table = mlp_proxy
    dicts = (table.designs.to_dict("records") * 3)[:320]  # 320 x 16 hidden >= SILU_TORCH
    arrays = model.predict_arrays(dicts)
    x = torch.as_tensor(model.encoder.transform(dicts), dtype=torch.float32)
    with torch.inference_mode():
        z = torch.stack([net(x) for net in model.regressor.nets]).mean(0).double().numpy()
    ref = model.scaler.inverse(z)
    one = np.array([model.predict([d])[0] for d in dicts[::40]])
    for j, name in enumerate(model.metric_names):
        np.testing.assert_allclose(arrays[name], ref[:, j], rtol=2e-6)
        np.testing.assert_allclose(arrays[name][::40], one[:, j], rtol=2e-6)
