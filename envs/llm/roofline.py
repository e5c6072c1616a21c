"""Time of one GPU kernel: a roofline with one efficiency curve, shared by training and serving.

A kernel doing ``F`` FLOPs and moving ``Q`` bytes of HBM takes

    t = max(F / (peak x GEMM_EFFICIENCY), Q / (hbm x HBM_EFFICIENCY)) + KERNEL_OVERHEAD_S

that is, the roofline of Williams et al. (CACM 2009) at the fractions of peak a tuned library
reaches, plus a fixed cost per kernel (launch, the ramp-up and tail of its last wave). The
overhead term is the efficiency curve by size: a GEMM's achieved fraction of peak is
``GEMM_EFFICIENCY / (1 + KERNEL_OVERHEAD_S x peak x GEMM_EFFICIENCY / F)``, close to the
asymptote for the billions of FLOPs of a large model's layers and far below it for small ones.

The three constants are the only efficiency figures in the model, the same for every GPU and
workload (never fitted per published row):

* ``GEMM_EFFICIENCY = 0.80``: large BF16 GEMMs in cuBLAS reach about 80 % of the dense tensor
  peak on A100 and H100 (NVIDIA, "Matrix Multiplication Background User's Guide", the
  achieved-TFLOP/s figures for large M=N=K; Calculon's A100 system file allows 0.9-0.95);
* ``HBM_EFFICIENCY = 0.85``: memory-bound kernels stream at about 85 % of HBM's datasheet rate
  (STREAM-like copy and elementwise kernels on A100/H100);
* ``KERNEL_OVERHEAD_S = 5e-6``: a kernel launch and its wave tail cost a few microseconds
  (CUDA launch latency is 3-5 us).
"""

from __future__ import annotations

import numpy as np

GEMM_EFFICIENCY = 0.80
HBM_EFFICIENCY = 0.85
KERNEL_OVERHEAD_S = 5e-6
BF16_BYTES = 2.0
#: a per-design array or a number the same for every design
Num = np.ndarray | float


def kernel_time(flops: Num, bytes_moved: Num, peak_flops: Num, hbm_bps: float) -> np.ndarray:
    """Seconds of one kernel (roofline at the library's efficiency, plus the per-kernel overhead)."""
    compute = flops / (peak_flops * GEMM_EFFICIENCY)
    memory = bytes_moved / (hbm_bps * HBM_EFFICIENCY)
    return np.maximum(compute, memory) + KERNEL_OVERHEAD_S


def gemm_time(
    m: Num,
    n: Num,
    k: Num,
    peak_flops: Num,
    hbm_bps: float,
    batch: Num = 1.0,
    weight_bytes: Num = BF16_BYTES,
) -> np.ndarray:
    """Seconds of ``batch`` GEMMs ``(m x k) @ (k x n)`` in BF16 (the ``k x n`` operand stored at
    ``weight_bytes`` per element: 1 or 0.5 for 8- or 4-bit weights)."""
    flops = 2.0 * m * n * k * batch
    moved = batch * (BF16_BYTES * (m * k + m * n) + weight_bytes * k * n)
    return kernel_time(flops, moved, peak_flops, hbm_bps)


def memory_time(bytes_moved: Num, hbm_bps: float, kernels: float = 1.0) -> np.ndarray:
    """Seconds of memory-bound (elementwise) kernels moving ``bytes_moved`` in total."""
    return (
        np.asarray(bytes_moved, dtype=np.float64) / (hbm_bps * HBM_EFFICIENCY) + kernels * KERNEL_OVERHEAD_S
    )
