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
from numba import njit

#: FARSI's power collection period, ``settings/config.py`` ``PCP``
POWER_COLLECTION_PERIOD_S = 0.01


@njit(cache=True)
def phase_energy(
    start: np.ndarray, finish: np.ndarray, task_energy_j: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Durations (s) and energies (J) of the phases between consecutive task events.

    A zero-duration task (a pseudo task) puts its energy, if any, in the phase it ends."""
    times = np.unique(np.concatenate((start, finish, np.zeros(1))))
    n_ph = times.size - 1
    dur = times[1:] - times[:-1]
    energy = np.zeros(n_ph)
    for t in range(start.size):
        run = finish[t] - start[t]
        if task_energy_j[t] == 0.0:
            continue
        if run <= 0.0:
            if n_ph > 0:
                energy[min(max(np.searchsorted(times, finish[t]) - 1, 0), n_ph - 1)] += task_energy_j[t]
            continue
        power = task_energy_j[t] / run
        for i in range(np.searchsorted(times, start[t]), n_ph):
            if times[i] >= finish[t]:
                break
            energy[i] += power * (min(finish[t], times[i + 1]) - max(start[t], times[i]))
    return dur, energy


def peak_window_power(
    start: np.ndarray,
    finish: np.ndarray,
    task_energy_j: np.ndarray,
    period_s: float = POWER_COLLECTION_PERIOD_S,
) -> float:
    """FARSI's power (W): the highest energy / duration over its collection windows."""
    dur, energy = phase_energy(start, finish, task_energy_j)
    return _peak_of_windows(dur, energy, period_s)


@njit(cache=True)
def _peak_of_windows(dur: np.ndarray, energy: np.ndarray, period_s: float) -> float:
    """FARSI's window rule over phases (zero-length phases skipped): a phase longer than what is
    left of the period closes the window it ends; the last window takes the remaining phases."""
    peak, budget, w_e, w_t = 0.0, period_s, 0.0, 0.0
    for i in range(dur.size):
        t = dur[i]
        if t <= 0.0:
            continue
        w_e += energy[i]
        w_t += t
        if t > budget:
            peak = max(peak, w_e / w_t)
            budget, w_e, w_t = period_s, 0.0, 0.0
        else:
            budget -= t
    if w_t > 0.0:
        peak = max(peak, w_e / w_t)
    return peak
