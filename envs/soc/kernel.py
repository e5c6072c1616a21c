"""The phase-driven schedule of a mapped task graph (compiled with numba).

Between two events the set of running computations and active transfers is fixed (a
*phase*); every transfer moves at the rate its most loaded resource allows: each bus and each
memory on its path splits its bandwidth equally among the transfers crossing it. Events: a
transfer ends, a computation ends. A task, once its PE is free and all its producers are done,

1. reads each input edge from its producer's memory (the reads run concurrently),
2. computes for its fixed time on its PE,
3. writes its output (all out-edge bytes) to its own memory,

holding its PE throughout (one task at a time per PE; among ready tasks a PE takes the first
in topological order). With ``overlap`` (FARSI's model: a task streams its inputs, computes and
streams its output at once) the three run concurrently and the task ends when all three have.
Pseudo tasks (no PE) finish as soon as their producers are done; a pseudo source's data is in
memory at time 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: a transfer with fewer bytes left than this has ended (absorbs rounding of rate x time)
_EPS_BYTES = 1e-6


# one function on purpose (like envs/dram/controller.py): numba helper calls with arrays are costly
@njit(cache=True)
def run_schedule(  # noqa: C901
    task_pe: np.ndarray,  # (T,) int64: PE of each task, -1 for pseudo tasks
    compute_s: np.ndarray,  # (T,) float64
    n_preds: np.ndarray,  # (T,) int64: number of producers (dependency edges)
    succ_ptr: np.ndarray,  # (T+1,) int64 CSR of successors
    succ_idx: np.ndarray,
    rd_ptr: np.ndarray,  # (T+1,) int64 CSR of each task's read transfers
    rd_bytes: np.ndarray,  # float64
    rd_path: np.ndarray,  # int64: path id of each read
    wr_bytes: np.ndarray,  # (T,) float64
    wr_path: np.ndarray,  # (T,) int64
    path_ptr: np.ndarray,  # (n_paths+1,) int64 CSR of resources per path
    path_res: np.ndarray,  # int64 resource ids (buses then memories)
    bandwidth: np.ndarray,  # (R,) float64 bytes/s
    n_pe: int,
    overlap: bool,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Start and finish time (s) of every task, and the number of phases simulated."""
    n = task_pe.shape[0]
    start = np.zeros(n)
    finish = np.full(n, -1.0)
    # 0 waiting, 1 ready, 2 reading, 3 computing, 4 writing, 5 done, 6 overlapped (all three at once)
    state = np.zeros(n, np.int64)
    parts_left = np.zeros(n, np.int64)  # overlapped: reads + computation + write still running
    left = n_preds.copy()
    reads_left = np.zeros(n, np.int64)
    compute_end = np.zeros(n)
    pe_task = np.full(n_pe, -1, np.int64)
    cap = rd_bytes.shape[0] + n
    tr_rem = np.zeros(cap)
    tr_path = np.zeros(cap, np.int64)
    tr_task = np.zeros(cap, np.int64)
    tr_is_write = np.zeros(cap, np.bool_)
    tr_rate = np.zeros(cap)
    n_tr = 0
    n_res = bandwidth.shape[0]
    load = np.zeros(n_res, np.int64)
    now = 0.0
    done = 0
    phases = 0
    # release the tasks without producers
    for t in range(n):
        if left[t] == 0:
            state[t] = 1
    while done < n:
        # pseudo tasks that are ready finish now and release their successors (cascading)
        progress = True
        while progress:
            progress = False
            for t in range(n):
                if state[t] == 1 and task_pe[t] < 0:
                    state[t] = 5
                    start[t] = now
                    finish[t] = now
                    done += 1
                    progress = True
                    for k in range(succ_ptr[t], succ_ptr[t + 1]):
                        s = succ_idx[k]
                        left[s] -= 1
                        if left[s] == 0:
                            state[s] = 1
        # idle PEs take their first ready task
        for p in range(n_pe):
            if pe_task[p] >= 0:
                continue
            for t in range(n):
                if state[t] == 1 and task_pe[t] == p:
                    pe_task[p] = t
                    start[t] = now
                    state[t] = 2
                    reads_left[t] = 0
                    for k in range(rd_ptr[t], rd_ptr[t + 1]):
                        if rd_bytes[k] > 0.0:
                            tr_rem[n_tr] = rd_bytes[k]
                            tr_path[n_tr] = rd_path[k]
                            tr_task[n_tr] = t
                            tr_is_write[n_tr] = False
                            n_tr += 1
                            reads_left[t] += 1
                    if overlap:
                        state[t] = 6
                        compute_end[t] = now + compute_s[t]
                        parts_left[t] = reads_left[t] + 1
                        if wr_bytes[t] > 0.0:
                            tr_rem[n_tr] = wr_bytes[t]
                            tr_path[n_tr] = wr_path[t]
                            tr_task[n_tr] = t
                            tr_is_write[n_tr] = True
                            n_tr += 1
                            parts_left[t] += 1
                    elif reads_left[t] == 0:
                        state[t] = 3
                        compute_end[t] = now + compute_s[t]
                    break
        if done >= n:
            break
        # rates of this phase
        for r in range(n_res):
            load[r] = 0
        for i in range(n_tr):
            for k in range(path_ptr[tr_path[i]], path_ptr[tr_path[i] + 1]):
                load[path_res[k]] += 1
        dt = np.inf
        for i in range(n_tr):
            rate = np.inf
            for k in range(path_ptr[tr_path[i]], path_ptr[tr_path[i] + 1]):
                r = path_res[k]
                share = bandwidth[r] / load[r]
                if share < rate:
                    rate = share
            tr_rate[i] = rate
            if tr_rem[i] / rate < dt:
                dt = tr_rem[i] / rate
        for p in range(n_pe):
            t = pe_task[p]
            if t >= 0 and (state[t] == 3 or state[t] == 6) and now <= compute_end[t] < now + dt:
                dt = compute_end[t] - now
        if dt == np.inf:
            return start, finish, -1  # nothing can progress: a task waits on a PE that never frees
        if dt < 0.0:
            dt = 0.0
        now += dt
        phases += 1
        # advance transfers; remove the finished ones (compacting the list)
        i = 0
        while i < n_tr:
            tr_rem[i] -= tr_rate[i] * dt
            if tr_rem[i] <= _EPS_BYTES:
                t = tr_task[i]
                if state[t] == 6:
                    parts_left[t] -= 1
                    if parts_left[t] == 0:
                        state[t] = 5
                elif tr_is_write[i]:
                    state[t] = 5
                else:
                    reads_left[t] -= 1
                    if reads_left[t] == 0:
                        state[t] = 3
                        compute_end[t] = now + compute_s[t]
                n_tr -= 1
                tr_rem[i] = tr_rem[n_tr]
                tr_path[i] = tr_path[n_tr]
                tr_task[i] = tr_task[n_tr]
                tr_is_write[i] = tr_is_write[n_tr]
                tr_rate[i] = tr_rate[n_tr]
                if state[t] == 5:
                    finish[t] = now
                continue
            i += 1
        # computations that ended start writing (or finish when there is nothing to write)
        for p in range(n_pe):
            t = pe_task[p]
            ended = t >= 0 and compute_end[t] >= 0.0 and compute_end[t] <= now * (1.0 + 1e-12) + 1e-18
            if ended and state[t] == 6:
                compute_end[t] = -1.0  # counted once
                parts_left[t] -= 1
                if parts_left[t] == 0:
                    state[t] = 5
                    finish[t] = now
            elif ended and state[t] == 3:
                if wr_bytes[t] > 0.0:
                    state[t] = 4
                    tr_rem[n_tr] = wr_bytes[t]
                    tr_path[n_tr] = wr_path[t]
                    tr_task[n_tr] = t
                    tr_is_write[n_tr] = True
                    n_tr += 1
                else:
                    state[t] = 5
                    finish[t] = now
        # finished tasks free their PE and release their successors
        for p in range(n_pe):
            t = pe_task[p]
            if t >= 0 and state[t] == 5:
                pe_task[p] = -1
                done += 1
                for k in range(succ_ptr[t], succ_ptr[t + 1]):
                    s = succ_idx[k]
                    left[s] -= 1
                    if left[s] == 0:
                        state[s] = 1
    return start, finish, phases
