"""The regressors a proxy can use, all behind ``fit(X, Z)`` / ``predict(X)`` / ``predict_std(X)``.

Inputs are encoded features, outputs standardised targets (one column per metric); see
:mod:`archgym.proxy.features`. Every model also gives a predictive standard deviation
(``predict_std``), and saves itself as a :class:`Payload` — JSON-able settings, NumPy arrays
(stored as safetensors) and the libraries' own text model formats — so a proxy file holds
no pickled objects and loading one runs no code from it (see :mod:`archgym.proxy.core`).

=======  ======================================================================
``gbt``  gradient-boosted trees (LightGBM), one model per metric; a seed ensemble of
         ``ensemble`` (5) bagged members whose spread is the predictive std
``rf``   random forest (LightGBM ``boosting="rf"``), one per metric; the spread of the
         trees' predictions is the predictive std
``gp``   exact Gaussian process (GPyTorch), Matern-5/2 ARD kernel, one per metric; the
         posterior predictive std; trained on at most ``max_train`` rows (default 1000;
         exact GPs scale as n^3)
``mlp``  multilayer perceptron (torch), all metrics at once; early stopping on a validation
         split carved from the training rows; an ensemble of ``ensemble`` (4) seeds whose
         spread, scaled to the ensemble's error on the validation rows, is the predictive std
=======  ======================================================================
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

#: SiLU of at least this many activations runs in torch (below, calling it costs more than it saves)
SILU_TORCH = 4096


@contextlib.contextmanager
def limited_threads(n: int = 1, controller: Any = None) -> Iterator[None]:
    """Run a block with at most ``n`` OpenMP/BLAS and torch threads, then restore the previous settings.

    Small models train and predict several times faster single-threaded, especially on a
    machine shared with other jobs (threads that spin-wait for busy cores). Pass a cached
    ``threadpoolctl.ThreadpoolController`` to skip its library scan (~ms) on hot paths.
    """
    import torch
    from threadpoolctl import ThreadpoolController

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with (controller or ThreadpoolController()).limit(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Payload:
    """A fitted model as plain data: ``config`` (JSON-able), ``arrays`` and text ``blobs``."""

    config: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    blobs: dict[str, str] = field(default_factory=dict)


class Regressor:
    """Base class: a multi-output regressor on standardised data."""

    kind: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    #: the dtype :meth:`predict` computes in (features are encoded in it)
    input_dtype: ClassVar[Any] = np.float64

    def __init__(self, seed: int = 0, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"unknown {self.kind} proxy parameter(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(self.defaults))}"
            )
        self.seed = int(seed)
        self.params = params
        self.p = {**self.defaults, **params}

    def fit(self, x: np.ndarray, z: np.ndarray, progress: bool = False) -> Regressor:
        raise NotImplementedError

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Mean prediction, shape ``(n, n metrics)``."""
        return self.predict_std(x)[0]

    def predict_std(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and predictive standard deviation, each ``(n, n metrics)``."""
        raise NotImplementedError

    def payload(self) -> Payload:
        """The fitted model as plain data (see :class:`Payload`)."""
        raise NotImplementedError

    @classmethod
    def from_payload(cls, payload: Payload) -> Regressor:
        raise NotImplementedError

    def _base_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "params": self.params}


# ----------------------------------------------------------------------------- LightGBM
def _lgb_params(p: Mapping[str, Any], seed: int) -> dict[str, Any]:
    return {
        "objective": "regression",
        "verbosity": -1,
        "num_threads": 1,
        "deterministic": True,
        "force_row_wise": True,
        "seed": seed,
        "num_leaves": int(p["num_leaves"]),
        "learning_rate": float(p["learning_rate"]),
        "min_data_in_leaf": int(p["min_child_samples"]),
        "bagging_fraction": float(p["subsample"]),
        "bagging_freq": 1 if float(p["subsample"]) < 1 else 0,
        "feature_fraction": float(p["colsample"]),
        "lambda_l2": float(p["reg_lambda"]),
    }


def _booster(text: str) -> Any:
    import lightgbm as lgb

    return lgb.Booster(model_str=text)


class GradientBoosting(Regressor):
    """LightGBM boosted trees per metric, a seed ensemble of bagged members.

    ``n_estimators`` (1500), ``learning_rate`` (0.04), ``num_leaves`` (31),
    ``min_child_samples`` (5, lowered automatically for tiny training sets), ``subsample`` (0.8),
    ``colsample`` (0.8), ``reg_lambda`` (0), ``ensemble`` (5 members, each with its own seed;
    their mean is the prediction, their spread the std).
    """

    kind = "gbt"
    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 1500,
        "learning_rate": 0.04,
        "num_leaves": 31,
        "min_child_samples": 5,
        "subsample": 0.8,
        "colsample": 0.8,
        "reg_lambda": 0.0,
        "ensemble": 5,
    }

    def fit(self, x, z, progress=False):
        import lightgbm as lgb
        from tqdm.auto import tqdm

        p = dict(self.p)
        p["min_child_samples"] = max(1, min(int(p["min_child_samples"]), len(x) // 8))
        members = max(1, int(p["ensemble"]))
        self.boosters: list[list[Any]] = []
        bar = tqdm(total=z.shape[1] * members, desc=self.kind, disable=not progress, leave=False)
        for i in range(z.shape[1]):
            row = []
            for m in range(members):
                ds = lgb.Dataset(x, z[:, i], params={"verbosity": -1, "min_data_in_bin": 1})
                row.append(
                    lgb.train(
                        _lgb_params(p, self.seed + 7919 * m + i), ds, num_boost_round=int(p["n_estimators"])
                    )
                )
                bar.update(1)
            self.boosters.append(row)
        bar.close()
        return self

    def predict_std(self, x):
        preds = np.stack(
            [np.column_stack([b.predict(x, num_threads=1) for b in row]) for row in self.boosters], axis=1
        )  # (n, metrics, members)
        return preds.mean(axis=2), preds.std(axis=2)

    def payload(self):
        return Payload(
            {**self._base_config(), "shape": [len(self.boosters), len(self.boosters[0])]},
            blobs={
                f"lightgbm-{i}-{m}.txt": b.model_to_string()
                for i, row in enumerate(self.boosters)
                for m, b in enumerate(row)
            },
        )

    @classmethod
    def from_payload(cls, payload):
        c = payload.config
        obj = cls(c["seed"], **c["params"])
        n_metrics, members = c["shape"]
        obj.boosters = [
            [_booster(payload.blobs[f"lightgbm-{i}-{m}.txt"]) for m in range(members)]
            for i in range(n_metrics)
        ]
        return obj


class RandomForest(Regressor):
    """LightGBM random forest (``boosting="rf"``) per metric.

    ``n_estimators`` (300), ``num_leaves`` (255), ``min_child_samples`` (2), ``subsample``
    (0.632, the bootstrap's share of rows), ``colsample`` (0.8), ``reg_lambda`` (0). The
    prediction is the trees' mean, the std their spread.
    """

    kind = "rf"
    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 300,
        "num_leaves": 255,
        "min_child_samples": 2,
        "subsample": 0.632,
        "colsample": 0.8,
        "reg_lambda": 0.0,
    }

    def fit(self, x, z, progress=False):
        import lightgbm as lgb

        p = {**self.p, "learning_rate": 1.0}
        self.boosters = []
        for i in range(z.shape[1]):
            params = {**_lgb_params(p, self.seed + i), "boosting": "rf"}
            ds = lgb.Dataset(x, z[:, i], params={"verbosity": -1, "min_data_in_bin": 1})
            self.boosters.append(lgb.train(params, ds, num_boost_round=int(p["n_estimators"])))
        self._leaf_tables()
        return self

    def _leaf_tables(self) -> None:
        """Per booster, a (trees, leaves) table of leaf values, to get every tree's prediction at once."""
        self._leaves = []
        for b in self.boosters:
            trees = b.dump_model()["tree_info"]
            table = np.zeros((len(trees), max(t["num_leaves"] for t in trees)))
            for t, tree in enumerate(trees):
                stack = [tree["tree_structure"]]
                while stack:
                    node = stack.pop()
                    if "leaf_index" in node:
                        table[t, node["leaf_index"]] = node["leaf_value"]
                    elif "left_child" in node:
                        stack += [node["left_child"], node["right_child"]]
                    else:  # a single-leaf tree
                        table[t, 0] = node.get("leaf_value", 0.0)
            self._leaves.append(table)

    def predict_std(self, x):
        means, stds = [], []
        for b, table in zip(self.boosters, self._leaves):
            leaf = np.asarray(b.predict(x, pred_leaf=True, num_threads=1), dtype=np.int64).reshape(len(x), -1)
            per_tree = table[np.arange(table.shape[0]), leaf]  # (n, trees)
            means.append(per_tree.mean(axis=1))
            stds.append(per_tree.std(axis=1))
        return np.column_stack(means), np.column_stack(stds)

    def payload(self):
        return Payload(
            self._base_config(),
            blobs={f"lightgbm-{i}.txt": b.model_to_string() for i, b in enumerate(self.boosters)},
        )

    @classmethod
    def from_payload(cls, payload):
        obj = cls(payload.config["seed"], **payload.config["params"])
        n = len(payload.blobs)
        obj.boosters = [_booster(payload.blobs[f"lightgbm-{i}.txt"]) for i in range(n)]
        obj._leaf_tables()
        return obj


# ---------------------------------------------------------------------------- GPyTorch
def _exact_gp(train_x, train_y, likelihood):
    import gpytorch

    class ExactGP(gpytorch.models.ExactGP):
        def __init__(self):
            super().__init__(train_x, train_y, likelihood)
            self.mean_module = gpytorch.means.ConstantMean()
            self.covar_module = gpytorch.kernels.ScaleKernel(
                gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=train_x.shape[1])
            )

        def forward(self, x):
            return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))

    return ExactGP()


class GaussianProcess(Regressor):
    """GPyTorch exact GP per metric; ``max_train`` (1000 rows), ``iterations`` (60), ``lr`` (0.1)."""

    kind = "gp"
    defaults: ClassVar[dict[str, Any]] = {"max_train": 1000, "iterations": 60, "lr": 0.1}

    def fit(self, x, z, progress=False):
        import gpytorch
        import torch
        from tqdm.auto import tqdm

        p = self.p
        rng = np.random.default_rng(self.seed)
        idx = rng.permutation(len(x))[: int(p["max_train"])]
        self.n_fit = len(idx)  # rows the GP actually conditions on
        torch.manual_seed(self.seed)
        self.train_x = torch.as_tensor(x[idx], dtype=torch.float64)
        self.train_z = torch.as_tensor(z[idx], dtype=torch.float64)
        self.states = []
        bar = tqdm(
            total=z.shape[1] * int(p["iterations"]), desc="gp", unit="it", disable=not progress, leave=False
        )
        for i in range(z.shape[1]):
            lik = gpytorch.likelihoods.GaussianLikelihood(
                noise_constraint=gpytorch.constraints.GreaterThan(1e-6)
            ).double()
            model = _exact_gp(self.train_x, self.train_z[:, i], lik).double()
            model.train()
            lik.train()
            opt = torch.optim.Adam(model.parameters(), lr=float(p["lr"]))
            mll = gpytorch.mlls.ExactMarginalLogLikelihood(lik, model)
            for _ in range(int(p["iterations"])):
                opt.zero_grad()
                loss = -mll(model(self.train_x), self.train_z[:, i])
                loss.backward()
                opt.step()
                bar.update(1)
            self.states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        bar.close()
        self._build()
        return self

    def _build(self) -> None:
        import gpytorch

        self.models, self.likelihoods = [], []
        for i, st in enumerate(self.states):
            lik = gpytorch.likelihoods.GaussianLikelihood(
                noise_constraint=gpytorch.constraints.GreaterThan(1e-6)
            ).double()
            model = _exact_gp(self.train_x, self.train_z[:, i], lik).double()
            model.load_state_dict(st)
            model.eval()
            lik.eval()
            self.models.append(model)
            self.likelihoods.append(lik)

    def predict(self, x):
        import gpytorch
        import torch

        tx = torch.as_tensor(x, dtype=torch.float64)
        with torch.no_grad(), gpytorch.settings.fast_pred_var(), gpytorch.settings.skip_posterior_variances():
            return np.column_stack([m(tx).mean.numpy() for m in self.models])

    def predict_std(self, x):
        import gpytorch
        import torch

        tx = torch.as_tensor(x, dtype=torch.float64)
        means, stds = [], []
        with torch.no_grad(), gpytorch.settings.fast_pred_var():
            for m, lik in zip(self.models, self.likelihoods):
                post = lik(m(tx))  # predictive: posterior of f plus the fitted noise
                means.append(post.mean.numpy())
                stds.append(post.variance.clamp_min(0).sqrt().numpy())
        return np.column_stack(means), np.column_stack(stds)

    def payload(self):
        arrays = {"train_x": self.train_x.numpy(), "train_z": self.train_z.numpy()}
        for i, s in enumerate(self.states):
            arrays.update({f"gp.{i}.{k}": v.numpy() for k, v in s.items()})
        return Payload({**self._base_config(), "n_fit": self.n_fit, "n_metrics": len(self.states)}, arrays)

    @classmethod
    def from_payload(cls, payload):
        import torch

        c = payload.config
        obj = cls(c["seed"], **c["params"])
        obj.n_fit = int(c["n_fit"])
        obj.train_x = torch.as_tensor(payload.arrays["train_x"])
        obj.train_z = torch.as_tensor(payload.arrays["train_z"])
        obj.states = []
        for i in range(int(c["n_metrics"])):
            prefix = f"gp.{i}."
            obj.states.append(
                {
                    k[len(prefix) :]: torch.as_tensor(v)
                    for k, v in payload.arrays.items()
                    if k.startswith(prefix)
                }
            )
        obj._build()
        return obj


# --------------------------------------------------------------------------------- torch
def _mlp(n_in: int, n_out: int, hidden: int, layers: int):
    import torch.nn as nn

    mods: list[Any] = []
    width = n_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.SiLU()]
        width = hidden
    mods.append(nn.Linear(width, n_out))
    return nn.Sequential(*mods)


class MLP(Regressor):
    """torch MLP, all metrics at once.

    ``hidden`` (256), ``layers`` (3), ``epochs`` (300), ``lr`` (3e-3, one-cycle schedule),
    ``batch_size`` (128), ``weight_decay`` (1e-5), ``val_fraction`` (0.1: rows carved from the
    *training* set to pick the epoch with the lowest validation loss, whose weights are kept;
    0 keeps the last epoch), ``ensemble`` (4: the mean of that many networks trained from
    different seeds, their spread — calibrated on the validation rows — the std; each costs a
    full training, and all run in one batched forward pass).
    """

    kind = "mlp"
    input_dtype = np.float32
    defaults: ClassVar[dict[str, Any]] = {
        "hidden": 256,
        "layers": 3,
        "epochs": 300,
        "lr": 3e-3,
        "batch_size": 128,
        "weight_decay": 1e-5,
        "val_fraction": 0.1,
        "ensemble": 4,
    }

    def fit(self, x, z, progress=False):
        import torch
        from tqdm.auto import tqdm

        p = self.p
        self.arch = (x.shape[1], z.shape[1], int(p["hidden"]), int(p["layers"]))
        epochs, bs, members = int(p["epochs"]), int(p["batch_size"]), max(1, int(p["ensemble"]))
        rng = np.random.default_rng(self.seed)
        n_val = int(round(len(x) * float(p["val_fraction"]))) if len(x) >= 20 else 0
        perm = rng.permutation(len(x))
        val, fit_rows = perm[:n_val], perm[n_val:]
        tx, tz = (
            torch.as_tensor(x[fit_rows], dtype=torch.float32),
            torch.as_tensor(z[fit_rows], dtype=torch.float32),
        )
        vx, vz = torch.as_tensor(x[val], dtype=torch.float32), torch.as_tensor(z[val], dtype=torch.float32)
        self.nets, self.best_epochs = [], []
        bar = tqdm(total=members * epochs, desc="mlp", unit="epoch", disable=not progress, leave=False)
        for m in range(members):
            seed = self.seed + 1000 * m
            gen = torch.Generator().manual_seed(seed)
            torch.manual_seed(seed)
            net = _mlp(*self.arch)
            opt = torch.optim.AdamW(
                net.parameters(), lr=float(p["lr"]), weight_decay=float(p["weight_decay"])
            )
            steps = epochs * math.ceil(len(tx) / bs)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=float(p["lr"]), total_steps=steps)
            best, best_state, best_epoch = math.inf, None, epochs - 1
            for epoch in range(epochs):
                net.train()
                order = torch.randperm(len(tx), generator=gen)
                for s in range(0, len(tx), bs):
                    b = order[s : s + bs]
                    opt.zero_grad()
                    loss = torch.nn.functional.mse_loss(net(tx[b]), tz[b])
                    loss.backward()
                    opt.step()
                    sched.step()
                if n_val:
                    with torch.inference_mode():
                        v = float(torch.nn.functional.mse_loss(net(vx), vz))
                    if v < best:
                        best, best_epoch = v, epoch
                        best_state = {k: t.detach().clone() for k, t in net.state_dict().items()}
                bar.update(1)
            if best_state is not None:
                net.load_state_dict(best_state)
            self.nets.append(net.eval())
            self.best_epochs.append(best_epoch)
        bar.close()
        self._stack()
        self._calibrate(x[val], z[val])
        return self

    def _calibrate(self, vx: np.ndarray, vz: np.ndarray) -> None:
        """Scale the ensemble's spread so that it matches the ensemble's RMSE on the validation rows.

        Members trained on the same rows agree more than they are right (their spread is a
        fraction of the actual error); one factor per metric, fitted on rows no member saw,
        corrects that. One member has no spread: its std is the validation RMSE. Without a
        validation split the factor is 1 (and one member's std is 1, the targets' std).
        """
        import torch

        self.std_scale = np.ones(vz.shape[1])
        if not len(vx):
            return
        with torch.inference_mode():
            h = self._members(vx).double().numpy()
        rmse = np.sqrt(((h.mean(axis=0) - vz) ** 2).mean(axis=0))
        spread = np.sqrt((h.std(axis=0) ** 2).mean(axis=0)) if len(h) > 1 else np.ones(vz.shape[1])
        self.std_scale = np.where(spread > 0, rmse / np.maximum(spread, 1e-300), 1.0)

    def _stack(self) -> None:
        """Layer weights of every member stacked, for one batched forward pass (``predict``)."""
        import torch

        linears = [[mod for mod in net if isinstance(mod, torch.nn.Linear)] for net in self.nets]
        self._w = [
            torch.stack([ls[i].weight.detach().T for ls in linears]).contiguous()
            for i in range(len(linears[0]))
        ]
        self._b = [
            torch.stack([ls[i].bias.detach() for ls in linears]).unsqueeze(1).contiguous()
            for i in range(len(linears[0]))
        ]
        # NumPy float32 copies for prediction: the first layer of all members side by side
        # (one matmul), the others per member, stacked
        w = [t.numpy().astype(np.float32) for t in self._w]
        b = [t.numpy().astype(np.float32) for t in self._b]
        self._np_first = (np.concatenate(list(w[0]), axis=1), b[0][:, 0, :].reshape(-1))
        self._np_w = [np.ascontiguousarray(v) for v in w[1:]]
        self._np_b = b[1:]

    def _members(self, x: np.ndarray) -> Any:
        """Every member's output, shape ``(members, n, metrics)`` (a torch tensor; training only)."""
        import torch

        h = torch.as_tensor(x, dtype=torch.float32)
        if len(self._w[0]) == 1:  # one network: plain matmuls
            for i, (w, b) in enumerate(zip(self._w, self._b)):
                h = torch.addmm(b[0], h, w[0])
                if i < len(self._w) - 1:
                    h = torch.nn.functional.silu(h)
            return h.unsqueeze(0)
        h = h.expand(len(self._w[0]), *h.shape)
        for i, (w, b) in enumerate(zip(self._w, self._b)):
            h = torch.baddbmm(b, h, w)
            if i < len(self._w) - 1:
                h = torch.nn.functional.silu(h)
        return h

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """Every member's output, ``(members, n, metrics)``, in float32: NumPy matmuls (the
        first layer of all members as one, the others batched), bias and SiLU in place."""
        w_in, b_in = self._np_first
        n, members = len(x), len(self.nets)
        h = np.asarray(x, dtype=np.float32) @ w_in  # (n, members * hidden)
        h += b_in
        with np.errstate(over="ignore"):  # exp(-h) of a very negative h: inf, and h / inf = -0
            _silu(h)
            h = h.reshape(n, members, -1).transpose(1, 0, 2)  # (members, n, hidden), a view
            for i, (w, b) in enumerate(zip(self._np_w, self._np_b)):
                h = np.matmul(h, w)
                h += b
                if i < len(self._np_w) - 1:
                    _silu(h)
        return h

    def predict(self, x):
        h = self._forward(x)
        return (h[0] if len(h) == 1 else h.mean(axis=0)).astype(np.float64)

    def predict_std(self, x):
        h = self._forward(x)
        if len(h) == 1:
            mean = h[0].astype(np.float64)
            return mean, np.broadcast_to(self.std_scale, mean.shape).copy()
        h = h.astype(np.float64)
        return h.mean(axis=0), h.std(axis=0) * self.std_scale

    def payload(self):
        arrays = {"std_scale": np.asarray(self.std_scale, dtype=np.float64)}
        for m, net in enumerate(self.nets):
            arrays.update({f"mlp.{m}.{k}": v.numpy() for k, v in net.state_dict().items()})
        return Payload({**self._base_config(), "arch": list(self.arch), "members": len(self.nets)}, arrays)

    @classmethod
    def from_payload(cls, payload):
        import torch

        c = payload.config
        obj = cls(c["seed"], **c["params"])
        n_in, n_out, hidden, layers = (int(v) for v in c["arch"])
        obj.arch = (n_in, n_out, hidden, layers)
        obj.std_scale = payload.arrays["std_scale"]
        obj.nets = []
        for m in range(int(c["members"])):
            prefix = f"mlp.{m}."
            net = _mlp(*obj.arch)
            net.load_state_dict(
                {
                    k[len(prefix) :]: torch.as_tensor(v)
                    for k, v in payload.arrays.items()
                    if k.startswith(prefix)
                }
            )
            obj.nets.append(net.eval())
        obj._stack()
        return obj


def _silu(h: np.ndarray) -> None:
    """``h *= sigmoid(h)`` in place: torch's fused kernel for a large contiguous ``h`` (one pass,
    3x NumPy's), else NumPy (``h / (1 + exp(-h))``, with one temporary)."""
    if h.size >= SILU_TORCH and h.flags.c_contiguous:
        import torch

        torch.nn.functional.silu(torch.from_numpy(h), inplace=True)
        return
    t = np.negative(h)
    np.exp(t, out=t)
    t += 1.0
    np.divide(h, t, out=h)


MODELS: dict[str, type[Regressor]] = {
    c.kind: c for c in (GradientBoosting, RandomForest, GaussianProcess, MLP)
}


def make_regressor(kind: str, seed: int = 0, **params: Any) -> Regressor:
    """A regressor by kind (``gbt``, ``rf``, ``gp``, ``mlp``)."""
    if kind not in MODELS:
        raise ValueError(f"unknown proxy model {kind!r}; allowed: {', '.join(MODELS)}")
    return MODELS[kind](seed, **params)
