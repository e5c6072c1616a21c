"""The regressors a proxy can use, all behind ``fit(X, Z)`` / ``predict(X)``.

Inputs are encoded features, outputs standardised targets (one column per metric); see
:mod:`archgym.proxy.features`. Each model can be saved as a plain state (``state()``) and
rebuilt from it (``from_state``), so a proxy file holds no pickled torch modules.

=======  ======================================================================
``rf``   random forest (scikit-learn), one multi-output forest
``gbt``  gradient-boosted trees (scikit-learn ``HistGradientBoostingRegressor``), one per metric
``gp``   exact Gaussian process (GPyTorch), Matern-5/2 ARD kernel, one per metric; trained
         on at most ``max_train`` rows (default 1000; exact GPs scale as n^3)
``mlp``  multilayer perceptron (torch), all metrics at once; early stopping on a validation
         split carved from the training rows, optionally an ensemble of seeds
=======  ======================================================================
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np


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


class Regressor:
    """Base class: a multi-output regressor on standardised data."""

    kind: ClassVar[str] = ""

    def __init__(self, seed: int = 0, **params: Any) -> None:
        self.seed = int(seed)
        self.params = params

    def fit(self, x: np.ndarray, z: np.ndarray, progress: bool = False) -> Regressor:
        raise NotImplementedError

    def predict(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """Everything needed to rebuild the fitted model (picklable, no torch modules)."""
        raise NotImplementedError

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Regressor:
        raise NotImplementedError


class RandomForest(Regressor):
    """scikit-learn random forest; ``n_estimators`` (100), ``min_samples_leaf`` (1), ``max_features`` (1.0)."""

    kind = "rf"

    def fit(self, x, z, progress=False):
        from sklearn.ensemble import RandomForestRegressor

        p = {"n_estimators": 100, "min_samples_leaf": 1, "max_features": 1.0, **self.params}
        self.model = RandomForestRegressor(random_state=self.seed, n_jobs=-1, **p).fit(x, z)
        self.model.set_params(n_jobs=1)  # prediction of small batches is faster single-threaded
        return self

    def predict(self, x):
        return self.model.predict(x).reshape(len(x), -1)

    def state(self):
        return {"seed": self.seed, "params": self.params, "model": self.model}

    @classmethod
    def from_state(cls, state):
        obj = cls(state["seed"], **state["params"])
        obj.model = state["model"]
        return obj


class GradientBoosting(Regressor):
    """scikit-learn ``HistGradientBoostingRegressor`` per metric; ``max_iter`` (1000), ``learning_rate`` (0.1), ``max_leaf_nodes`` (31)."""

    kind = "gbt"

    def fit(self, x, z, progress=False):
        from sklearn.ensemble import HistGradientBoostingRegressor

        p = {
            "max_iter": 1000,
            "learning_rate": 0.1,
            "max_leaf_nodes": 31,
            "early_stopping": False,
            **self.params,
        }
        self.models = [
            HistGradientBoostingRegressor(random_state=self.seed, **p).fit(x, z[:, i])
            for i in range(z.shape[1])
        ]
        return self

    def predict(self, x):
        return np.column_stack([m.predict(x) for m in self.models])

    def state(self):
        return {"seed": self.seed, "params": self.params, "models": self.models}

    @classmethod
    def from_state(cls, state):
        obj = cls(state["seed"], **state["params"])
        obj.models = state["models"]
        return obj


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

    def fit(self, x, z, progress=False):
        import gpytorch
        import torch
        from tqdm.auto import tqdm

        p = {"max_train": 1000, "iterations": 60, "lr": 0.1, **self.params}
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

        self.models = []
        for i, st in enumerate(self.states):
            lik = gpytorch.likelihoods.GaussianLikelihood(
                noise_constraint=gpytorch.constraints.GreaterThan(1e-6)
            ).double()
            model = _exact_gp(self.train_x, self.train_z[:, i], lik).double()
            model.load_state_dict(st)
            model.eval()
            lik.eval()
            self.models.append(model)

    def predict(self, x):
        import gpytorch
        import torch

        tx = torch.as_tensor(x, dtype=torch.float64)
        with torch.no_grad(), gpytorch.settings.fast_pred_var(), gpytorch.settings.skip_posterior_variances():
            return np.column_stack([m(tx).mean.numpy() for m in self.models])

    def state(self):
        return {
            "seed": self.seed,
            "params": self.params,
            "train_x": self.train_x.numpy(),
            "train_z": self.train_z.numpy(),
            "states": [{k: v.numpy() for k, v in s.items()} for s in self.states],
        }

    @classmethod
    def from_state(cls, state):
        import torch

        obj = cls(state["seed"], **state["params"])
        obj.train_x = torch.as_tensor(state["train_x"])
        obj.train_z = torch.as_tensor(state["train_z"])
        obj.states = [{k: torch.as_tensor(v) for k, v in s.items()} for s in state["states"]]
        obj._build()
        return obj


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

    ``hidden`` (384), ``layers`` (4), ``epochs`` (400), ``lr`` (3e-3, one-cycle schedule),
    ``batch_size`` (128), ``weight_decay`` (1e-5), ``val_fraction`` (0.1: rows carved from the
    *training* set to pick the epoch with the lowest validation loss, whose weights are kept;
    0 keeps the last epoch), ``ensemble`` (1: the mean of that many networks trained from
    different seeds; each costs a full training and a full forward pass).
    """

    kind = "mlp"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden": 384,
        "layers": 4,
        "epochs": 400,
        "lr": 3e-3,
        "batch_size": 128,
        "weight_decay": 1e-5,
        "val_fraction": 0.1,
        "ensemble": 1,
    }

    def fit(self, x, z, progress=False):
        import torch
        from tqdm.auto import tqdm

        p = {**self.defaults, **self.params}
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
        return self

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

    def predict(self, x):
        import torch

        with torch.inference_mode():
            h = torch.as_tensor(x, dtype=torch.float32)
            if len(self._w[0]) == 1:  # one network: plain matmuls
                for i, (w, b) in enumerate(zip(self._w, self._b)):
                    h = torch.addmm(b[0], h, w[0])
                    if i < len(self._w) - 1:
                        h = torch.nn.functional.silu(h)
                return h.double().numpy()
            h = h.expand(len(self._w[0]), *h.shape)
            for i, (w, b) in enumerate(zip(self._w, self._b)):
                h = torch.baddbmm(b, h, w)
                if i < len(self._w) - 1:
                    h = torch.nn.functional.silu(h)
            return h.mean(dim=0).double().numpy()

    def state(self):
        return {
            "seed": self.seed,
            "params": self.params,
            "arch": self.arch,
            "members": [{k: v.numpy() for k, v in net.state_dict().items()} for net in self.nets],
        }

    @classmethod
    def from_state(cls, state):
        import torch

        obj = cls(state["seed"], **state["params"])
        obj.arch = tuple(state["arch"])
        members = (
            state["members"] if "members" in state else [state["weights"]]
        )  # "weights": one net (older files)
        obj.nets = []
        for weights in members:
            net = _mlp(*obj.arch)
            net.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})
            obj.nets.append(net.eval())
        obj._stack()
        return obj


MODELS: dict[str, type[Regressor]] = {
    c.kind: c for c in (RandomForest, GradientBoosting, GaussianProcess, MLP)
}


def make_regressor(kind: str, seed: int = 0, **params: Any) -> Regressor:
    """A regressor by kind (``rf``, ``gbt``, ``gp``, ``mlp``)."""
    if kind not in MODELS:
        raise ValueError(f"unknown proxy model {kind!r}; allowed: {', '.join(MODELS)}")
    return MODELS[kind](seed, **params)
