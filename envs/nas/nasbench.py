"""Tabular accuracy of NAS-Bench-201 cells from the published benchmark files.

Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture
Search", ICLR 2020, trained all 15,625 cells of :mod:`.cell_space` (``C=16, N=5``) on
CIFAR-10, CIFAR-100 and ImageNet16-120 with two schedules (12 and 200 epochs); Dong et
al., "NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology and Size", TPAMI
2021, re-released the same topology results ("tss"). :class:`NB201Evaluator` looks a cell
up in the file the user already has -- nothing is downloaded -- through the official API
packages (``pip install 'archgym[nasbench]'``):

* ``NAS-Bench-201-v1_0-e61699.pth`` / ``NAS-Bench-201-v1_1-096897.pth`` (a ``torch.save``
  of ``{"meta_archs", "arch2infos", "evaluated_indexes"}``) through ``nas_201_api``;
* ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` (one bz2 pickle) or its ``-simple`` / ``-full``
  directory (``meta.pickle.pbz2`` plus one ``<index>.pickle.pbz2`` per cell, read lazily)
  through ``nats_bench``.

Metrics, averaged over the file's training seeds (deterministic):

* ``accuracy`` -- validation accuracy in ``[0, 1]`` (what a search may look at): CIFAR-10
  from the ``cifar10-valid`` run (trained on the 25k train half, ``x-valid``), CIFAR-100 and
  ImageNet16-120 on their ``x-valid`` split;
* ``test_accuracy`` -- test accuracy in ``[0, 1]`` (CIFAR-10: ``ori-test`` after training on
  train+valid; the others: ``x-test``), for reporting, not for searching;
* ``train_time_s`` -- the benchmark's measured training time for the whole schedule.

The cell's key is NAS-Bench-201's architecture string (:func:`.cell_space.arch_string`),
which is exactly what both files index, so every design of :class:`~.cell_space.CellSpace`
maps to one record whatever macro settings (``channels``, ``cells_per_stage``) the space
uses for its own networks.
"""

from __future__ import annotations

import contextlib
import io
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archgym.errors import InputFormatError

from .cache import ArchCache
from .cell_space import CellSpace, arch_string
from .search_space import NetworkSpace

#: datasets of the benchmark, as the files name them
NB201_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
#: epoch budgets (the files' ``hp`` keys)
NB201_EPOCHS: tuple[int, ...] = (12, 200)
_INSTALL_HINT = "pip install 'archgym[nasbench]' (the nas-bench-201 and nats_bench packages)"


class BenchmarkFileError(InputFormatError):
    """A benchmark file is missing, unreadable or not of a supported version."""


def _import(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(f"reading NAS-Bench-201 / NATS-Bench files needs {_INSTALL_HINT}") from exc


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call one of the APIs, which print progress lines even with ``verbose=False``."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def _check_topology(api: Any, path: Path) -> None:
    """Reject files of another search space (e.g. NATS-Bench's size space ``sss``)."""
    sample = api.meta_archs[0] if len(api.meta_archs) else ""
    if not (isinstance(sample, str) and sample.startswith("|") and sample.count("+") == 2):
        raise BenchmarkFileError(
            f"{path}: architectures look like {sample!r}, not NAS-Bench-201 cell strings; "
            "only the topology benchmark (NAS-Bench-201 / NATS-Bench 'tss') is supported"
        )


def open_benchmark(path: str | Path) -> Any:
    """An API object for a NAS-Bench-201 ``.pth`` or NATS-Bench topology file or directory.

    Raises:
        BenchmarkFileError: the path does not exist, or is not one of the supported files.
        ImportError: the ``nasbench`` extra is not installed.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise BenchmarkFileError(
            f"benchmark file {p} does not exist; point benchmark_path at NAS-Bench-201-v1_[01]-*.pth, "
            "NATS-tss-v1_0-3ffb9.pickle.pbz2 or its NATS-tss-v1_0-3ffb9-simple directory"
        )
    if p.is_dir() or p.name.endswith(".pbz2"):
        nats_bench = _import("nats_bench")
        if p.is_dir() and not (p / "meta.pickle.pbz2").is_file():
            raise BenchmarkFileError(f"{p}: a NATS-Bench archive directory needs meta.pickle.pbz2")
        try:
            api = _quiet(nats_bench.create, str(p), "tss", fast_mode=p.is_dir(), verbose=False)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError) as exc:
            raise BenchmarkFileError(f"{p}: not a readable NATS-Bench topology file ({exc})") from exc
    else:
        torch = _import("torch")
        nas_201_api = _import("nas_201_api")
        try:
            # the file is the user's own benchmark download (a pickle of plain containers);
            # torch.load's weights_only mode rejects the numpy scalars some releases hold
            raw = torch.load(str(p), map_location="cpu", weights_only=False)
        except Exception as exc:
            raise BenchmarkFileError(f"{p}: not a readable NAS-Bench-201 .pth file ({exc})") from exc
        if not isinstance(raw, dict) or not {"meta_archs", "arch2infos", "evaluated_indexes"} <= set(raw):
            keys = sorted(raw)[:6] if isinstance(raw, dict) else type(raw).__name__
            raise BenchmarkFileError(
                f"{p}: not a NAS-Bench-201 file (expected keys meta_archs, arch2infos, evaluated_indexes; "
                f"found {keys})"
            )
        try:
            api = _quiet(nas_201_api.NASBench201API, raw, verbose=False)
        except (AssertionError, KeyError, ValueError, TypeError) as exc:
            raise BenchmarkFileError(f"{p}: NAS-Bench-201 API rejected the file ({exc})") from exc
        api.filename = p.name
        del raw
    _check_topology(api, p)
    return api


def _split_names(dataset: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """``((run, split) of the validation accuracy, (run, split) of the test accuracy)``."""
    if dataset == "cifar10":
        return ("cifar10-valid", "x-valid"), ("cifar10", "ori-test")
    return (dataset, "x-valid"), (dataset, "x-test")


class NB201Evaluator:
    """Accuracy and training time of cells from a NAS-Bench-201 / NATS-Bench topology file.

    Args:
        space: a :class:`~.cell_space.CellSpace` (designs are its edge dicts).
        path: the benchmark file or NATS-Bench archive directory (see the module docstring).
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"``.
        epochs: 12 or 200 (the two training schedules of the benchmark).
        api: an already opened API object (for sharing one loaded file); ``path`` is then only
            used in messages.
    """

    def __init__(
        self,
        space: NetworkSpace,
        path: str | Path,
        dataset: str = "cifar10",
        epochs: int = 200,
        api: Any = None,
    ) -> None:
        if not isinstance(space, CellSpace):
            raise ValueError(f"the nb201 evaluator needs the cell space, not {space.name!r}")
        if dataset not in NB201_DATASETS:
            raise ValueError(f"benchmark dataset must be one of {', '.join(NB201_DATASETS)}, got {dataset!r}")
        if int(epochs) not in NB201_EPOCHS:
            raise ValueError(f"benchmark epochs must be 12 or 200, got {epochs!r}")
        self.space = space
        self.path = Path(path)
        self.dataset = dataset
        self.epochs = int(epochs)
        self.api = api if api is not None else open_benchmark(path)
        self.cache: ArchCache[dict[str, float]] = ArchCache()

    def index(self, design: Mapping[str, Any]) -> int:
        """The benchmark's index of a cell design."""
        arch = arch_string(self.space.space.validate(design))
        idx = int(self.api.query_index_by_arch(arch))
        if idx < 0:
            raise KeyError(f"{arch} is not in the benchmark file {self.path}")
        return idx

    def __call__(self, design: Mapping[str, Any]) -> dict[str, float]:
        """``{"accuracy", "test_accuracy", "train_time_s"}`` of one cell."""
        key = (arch_string(self.space.space.validate(design)), self.dataset, self.epochs)
        return dict(self.cache.get_or_compute(key, lambda: self._lookup(design)))

    def _lookup(self, design: Mapping[str, Any]) -> dict[str, float]:
        idx = self.index(design)
        (val_run, _), (test_run, _) = _split_names(self.dataset)
        hp = str(self.epochs)
        try:
            val = _quiet(self.api.get_more_info, idx, val_run, hp=hp, is_random=False)
        except (KeyError, ValueError) as exc:
            raise KeyError(
                f"{self.path}: no {self.epochs}-epoch results of {self.dataset} for architecture {idx} "
                f"({exc}); "
                "NAS-Bench-201 v1_0 has 12-epoch results for CIFAR-10 only"
            ) from exc
        try:
            test = (
                val
                if test_run == val_run
                else _quiet(self.api.get_more_info, idx, test_run, hp=hp, is_random=False)
            )
        except (KeyError, ValueError):
            test = val  # v1_0's 12-epoch CIFAR-10: the test split of the train-half run only
        test_acc = test.get("test-accuracy")
        return {
            "accuracy": float(val["valid-accuracy"]) / 100.0,
            "test_accuracy": float(test_acc) / 100.0 if test_acc is not None else float("nan"),
            "train_time_s": float(val["train-all-time"])
            if val.get("train-all-time") is not None
            else float("nan"),
        }


__all__ = [
    "NB201_DATASETS",
    "NB201_EPOCHS",
    "BenchmarkFileError",
    "NB201Evaluator",
    "open_benchmark",
]
