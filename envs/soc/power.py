"""Peak power as FARSI defines it: the highest average power over its power-collection windows.

FARSI (``design_utils/design.py``, ``calc_SOC_power``; ``common_design_utils.py``,
``slice_phases_with_PWP``) reports a design's power as the maximum, over consecutive windows of
simulation phases, of the window's energy over its duration. A window gathers phases until one
no longer fits in what is left of the power collection period (``config.PCP`` = 10 ms); that
phase closes the window, and the next window starts with a full period. A run shorter than one
period is one window, whose power is energy / latency.

Here a phase is the span between two consecutive task start or finish times, and a task's
energy (its computation and the traffic it moves) is spread evenly over its run, as FARSI
advances all of a task's blocks at one bottleneck-normalised rate.
"""

from __future__ import annotations

import numpy as np

#: FARSI's power collection period, ``settings/config.py`` ``PCP``
POWER_COLLECTION_PERIOD_S = 0.01


def phase_energy(
    start: np.ndarray, finish: np.ndarray, task_energy_j: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Durations (s) and energies (J) of the phases between consecutive task events.

    A zero-duration task (a pseudo task) puts its energy, if any, in the phase it ends."""
    times = np.unique(np.concatenate([start, finish, [0.0]]))
    lo, hi = times[:-1], times[1:]
    dur = hi - lo
    run = finish - start
    timed = run > 0
    overlap = np.clip(
        np.minimum(finish[timed, None], hi[None, :]) - np.maximum(start[timed, None], lo[None, :]), 0.0, None
    )
    energy = (task_energy_j[timed] / run[timed]) @ overlap if timed.any() else np.zeros(dur.size)
    instant = ~timed & (task_energy_j > 0)
    if instant.any() and dur.size:
        idx = np.clip(np.searchsorted(hi, finish[instant]), 0, dur.size - 1)
        np.add.at(energy, idx, task_energy_j[instant])
    return dur, energy


def peak_window_power(
    start: np.ndarray,
    finish: np.ndarray,
    task_energy_j: np.ndarray,
    period_s: float = POWER_COLLECTION_PERIOD_S,
) -> float:
    """FARSI's power (W): the highest energy / duration over its collection windows."""
    dur, energy = phase_energy(start, finish, task_energy_j)
    keep = dur > 0
    dur, energy = dur[keep], energy[keep]
    if dur.size == 0:
        return 0.0
    peak, budget, w_e, w_t = 0.0, period_s, 0.0, 0.0
    for t, e in zip(dur.tolist(), energy.tolist()):
        w_e += e
        w_t += t
        if t > budget:  # this phase overruns the period: it closes the window
            peak = max(peak, w_e / w_t)
            budget, w_e, w_t = period_s, 0.0, 0.0
        else:
            budget -= t
    if w_t > 0:
        peak = max(peak, w_e / w_t)
    return peak
