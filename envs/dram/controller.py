"""The event-driven memory-controller core (compiled with numba).

The whole simulation of one design on one trace is a single call to :func:`run_kernel`
over plain NumPy arrays. Time is kept in device clock cycles (int64) and advances from
event to event, never cycle by cycle. Events, in priority order at equal times:

1. **D** a response is delivered to the initiator (frees one active transaction);
2. **E** a refresh interval elapses on a channel (one more refresh is owed);
3. **A** the initiator sends the next trace request and the arbiter accepts it;
4. **B** a channel controller takes the head of its arbiter queue into its scheduler buffer
   (only when the buffer partition for that request has room);
5. **C** a channel issues one DRAM command (ACT, PRE, RD/RDA, WR/WRA, REF).

For C, every bank with buffered requests proposes one command: the scheduler picks the
request (Fifo: oldest; FrFcfs: oldest row hit, else oldest; FrFcfsGrp: like FrFcfs but among
hits prefers the direction of the last column command), and the bank state gives the command
(hit -> RD/WR, other row open -> PRE, closed -> ACT). Its earliest legal cycle is the max of all
timing constraints (bank, bank group, rank, four-activate window, data bus, command bus). The
channel issues the proposal with the earliest cycle; ties go to refresh, then to the oldest
request (DRAMSys' "Oldest" command multiplexer).

Performance notes (profiled): each bank caches its proposal (kind, bank-local earliest cycle,
request) until its queue or state changes; a channel caches its best command and, after a
request is accepted into one bank, only folds that bank's new proposal in. Helpers that take
arrays are written inline in the kernel on purpose: a numba call with array arguments costs
two atomic reference-count operations per array, which was a third of the run time.

Design knobs arrive as small integer codes (see the ``*_CODES`` tables).
"""

from __future__ import annotations

import numpy as np
from numba import njit

INF = np.int64(1) << np.int64(62)

PAGE_CODES = {"Open": 0, "OpenAdaptive": 1, "Closed": 2, "ClosedAdaptive": 3}
SCHEDULER_CODES = {"Fifo": 0, "FrFcfs": 1, "FrFcfsGrp": 2}
BUFFER_CODES = {"Bankwise": 0, "ReadWrite": 1, "Shared": 2}
RESPQ_CODES = {"Fifo": 0, "Reorder": 1}
REFRESH_CODES = {"NoRefresh": 0, "AllBank": 1, "PerBank": 2, "SameBank": 3}
ARBITER_CODES = {"Simple": 0, "Fifo": 1, "Reorder": 2}

# config vector layout
C_PAGE, C_SCHED, C_BUF, C_RESP, C_REF, C_POSTPONE, C_PULLIN, C_ARB, C_BUFSIZE, C_MAXACT = range(10)
N_CFG = 10
# geometry vector layout
G_CHANNELS, G_BANKS, G_BPG = range(3)
# timing vector layout (cycles)
(
    T_CL,
    T_CWL,
    T_RCD,
    T_RP,
    T_RAS,
    T_RC,
    T_CCDS,
    T_CCDL,
    T_RRDS,
    T_RRDL,
    T_FAW,
    T_WR,
    T_WTRS,
    T_WTRL,
    T_RTP,
    T_RFC,
    T_RFCPB,
    T_RFCSB,
    T_REFI,
    T_RTW,
    T_BURST,
    T_DFW,
    T_DBW,
) = range(23)
N_TIM = 23
TIMING_ORDER = (
    "CL",
    "CWL",
    "RCD",
    "RP",
    "RAS",
    "RC",
    "CCD_S",
    "CCD_L",
    "RRD_S",
    "RRD_L",
    "FAW",
    "WR",
    "WTR_S",
    "WTR_L",
    "RTP",
    "RFC",
    "RFCpb",
    "RFCsb",
    "REFI",
    "RTW_EXTRA",
)
# statistics vector layout
(
    S_ACT,
    S_PRE,
    S_RD,
    S_WR,
    S_REFAB,
    S_REFUNIT,
    S_ACTIVE,
    S_TEND,
    S_TFIRST,
    S_ERR,
    S_APRE,
    S_NUNITS,
    S_REFBANKCYC,
    S_EVENTS,
    S_RECOMP,
    S_TURN,
    S_REFOWED,
) = range(17)
N_STATS = 17

# command kinds
K_NONE, K_ACT, K_PRE, K_RD, K_WR, K_REFPRE, K_REF = 0, 1, 2, 3, 4, 5, 6


@njit(cache=True)
def _grow(a):
    """A copy of ``a`` with twice the length (the tail zero)."""
    out = np.zeros(2 * a.shape[0], a.dtype)
    out[: a.shape[0]] = a
    return out


@njit(cache=True, inline="always")
def _in_unit(policy, u, b, bpg):
    """Is bank ``b`` part of refresh unit ``u`` (AllBank: all; PerBank: bank u; SameBank: index u)?"""
    if policy == 1:
        return True
    if policy == 2:
        return b == u
    return (b % bpg) == u


@njit(cache=True)
def run_kernel(arrival, chan, bank, row, is_write, cfg, geo, tim):
    """Simulate one design on one decoded trace.

    Args:
        arrival: int64 arrival cycle per request (non-decreasing).
        chan, bank, row: int64 channel, bank (``group * banks_per_group + bank``), row.
        is_write: bool per request.
        cfg, geo, tim: int64 vectors (layouts ``C_*``, ``G_*``, ``T_*``).

    Returns:
        ``(t_send, t_resp, t_cas, stats)``: per request the cycle the initiator sent it, the
        cycle its response reached the initiator and the cycle of its column command, and
        the ``S_*`` statistics vector.
    """
    n = arrival.shape[0]
    C = geo[G_CHANNELS]
    NB = geo[G_BANKS]
    BPG = geo[G_BPG]
    G = NB // BPG
    page = cfg[C_PAGE]
    sched = cfg[C_SCHED]
    buforg = cfg[C_BUF]
    respq = cfg[C_RESP]
    refpol = cfg[C_REF]
    arb = cfg[C_ARB]
    bufsize = cfg[C_BUFSIZE]
    maxact = cfg[C_MAXACT]
    if arb == 0:
        maxact = n + 1  # the Simple arbiter does not limit active transactions
    CL = tim[T_CL]
    CWL = tim[T_CWL]
    RCD = tim[T_RCD]
    RP = tim[T_RP]
    RAS = tim[T_RAS]
    RC = tim[T_RC]
    CCDS = tim[T_CCDS]
    CCDL = tim[T_CCDL]
    RRDS = tim[T_RRDS]
    RRDL = tim[T_RRDL]
    FAW = tim[T_FAW]
    WRt = tim[T_WR]
    WTRS = tim[T_WTRS]
    WTRL = tim[T_WTRL]
    RTP = tim[T_RTP]
    BURST = tim[T_BURST]
    RTW = CL + BURST + tim[T_RTW] - CWL
    DFW = tim[T_DFW]
    DBW = tim[T_DBW]

    # refresh units
    if refpol == 1:
        n_units = 1
        unit_size = NB
        ref_dur = tim[T_RFC]
    elif refpol == 2:
        n_units = NB
        unit_size = 1
        ref_dur = tim[T_RFCPB]
    elif refpol == 3:
        n_units = BPG
        unit_size = G
        ref_dur = tim[T_RFCSB]
    else:
        n_units = 1
        unit_size = 0
        ref_dur = 0
    ref_interval = tim[T_REFI] // n_units
    max_post = cfg[C_POSTPONE] * n_units
    max_pull = cfg[C_PULLIN] * n_units

    NBt = C * NB
    QCAP = 2 * bufsize if buforg == 1 else bufsize
    # bank state
    open_row = np.full(NBt, -1, np.int64)
    act_ok = np.zeros(NBt, np.int64)
    rdwr_ok = np.zeros(NBt, np.int64)
    pre_ok = np.zeros(NBt, np.int64)
    bank_int = np.full(NBt, -1, np.int64)
    q = np.zeros((NBt, QCAP), np.int64)
    qlen = np.zeros(NBt, np.int64)
    sel = np.full(NBt, -1, np.int64)  # scheduler's pick (queue position); -1 = recompute
    bk_kind = np.zeros(NBt, np.int64)  # per-bank proposal: command kind,
    bk_t = np.zeros(NBt, np.int64)  # its bank-local earliest cycle,
    bk_age = np.zeros(NBt, np.int64)  # and its request (age)
    bgrp = np.zeros(NB, np.int64)
    for b in range(NB):
        bgrp[b] = b // BPG
    # channel / bank-group state
    cnt_rd = np.zeros(C, np.int64)
    cnt_wr = np.zeros(C, np.int64)
    last_cmd = np.full(C, -1, np.int64)
    ch_act_ok = np.zeros(C, np.int64)
    ch_rd_ok = np.zeros(C, np.int64)
    ch_wr_ok = np.zeros(C, np.int64)
    data_free = np.zeros(C, np.int64)
    # bank-group constraints by command kind (rows K_ACT, K_RD, K_WR; other rows stay 0)
    bgc = np.zeros((K_REF + 1, C * G), np.int64)
    chv = np.zeros(K_REF + 1, np.int64)
    faw = np.full((C, 4), -FAW - 1, np.int64)
    faw_i = np.zeros(C, np.int64)
    last_dir = np.full(C, -1, np.int64)
    ref_owed = np.zeros(C, np.int64)
    ref_next = np.full(C, ref_interval if refpol != 0 else INF, np.int64)
    ref_ptr = np.zeros(C, np.int64)
    ref_commit = np.zeros(C, np.bool_)  # a refresh has started precharging its banks: finish it
    ref_chain = np.zeros(C, np.bool_)  # just refreshed with the unit idle: may pull in another
    # cached best command per channel
    valid = np.zeros(C, np.bool_)
    best_t = np.full(C, INF, np.int64)
    best_k = np.zeros(C, np.int64)
    best_b = np.zeros(C, np.int64)
    best_age = np.zeros(C, np.int64)
    inc_b = np.full(C, -1, np.int64)
    # front end
    AQCAP = 1
    if arb != 0:
        AQCAP = min(maxact, n) + 1
    aq = np.zeros((C, AQCAP), np.int64)
    aq_head = np.zeros(C, np.int64)
    aq_len = np.zeros(C, np.int64)
    aq_total = 0
    x_acc = np.zeros(n, np.int64)
    t_send = np.zeros(n, np.int64)
    t_cas = np.full(n, -1, np.int64)
    done = np.full(n, -1, np.int64)
    rel = np.full(n, -1, np.int64)
    t_resp = np.full(n, -1, np.int64)
    heap = np.zeros(n + 1, np.int64)  # min-heap of delivery cycles (active transactions)
    heap_n = 0
    pend = np.zeros(n + 1, np.int64)  # deliveries that became known during this event
    pend_n = 0
    active = 0
    nxt = 0
    front_free = np.int64(0)
    # response ordering
    nxt_same = np.full(n, -1, np.int64)
    rel_ptr = np.full(C, -1, np.int64)
    last_in_ch = np.full(C, -1, np.int64)
    for i in range(n):
        c = chan[i]
        if last_in_ch[c] >= 0:
            nxt_same[last_in_ch[c]] = i
        else:
            rel_ptr[c] = i
        last_in_ch[c] = i
    last_rel = np.zeros(C, np.int64)
    g_ptr = 0
    last_deliv = np.int64(0)
    # background intervals (bank open or refreshing), in start order
    int_s = np.zeros(n + 64, np.int64)
    int_e = np.zeros(n + 64, np.int64)
    int_c = np.zeros(n + 64, np.int64)
    n_int = 0

    stats = np.zeros(N_STATS, np.int64)
    stats[S_NUNITS] = n_units
    n_cas = 0
    now = np.int64(0)
    tb_valid = False
    t_B = INF
    b_c = -1
    if n > 0:
        stats[S_TFIRST] = arrival[0]

    while n_cas < n:
        # ---------------------------------------------------------- next events
        t_D = INF
        if arb != 0 and heap_n > 0:
            t_D = heap[0]
        t_E = INF
        e_c = -1
        if refpol != 0:
            for c in range(C):
                if ref_next[c] < t_E:
                    t_E = ref_next[c]
                    e_c = c
        t_A = INF
        if nxt < n:
            if arb == 0:
                if aq_total == 0:
                    t_A = max(max(arrival[nxt], front_free), now)
            elif active < maxact:
                t_A = max(max(arrival[nxt], front_free), now)
        if not tb_valid:  # recomputed only after events that change queues or buffers
            t_B = INF
            b_c = -1
            for c in range(C):
                if aq_len[c] > 0:
                    h = aq[c, aq_head[c]]
                    cb = c * NB + bank[h]
                    room = False
                    if buforg == 0:
                        room = qlen[cb] < bufsize
                    elif buforg == 1:
                        if is_write[h]:
                            room = cnt_wr[c] < bufsize
                        else:
                            room = cnt_rd[c] < bufsize
                    else:
                        room = cnt_rd[c] + cnt_wr[c] < bufsize
                    if room:
                        tb = max(x_acc[h] + DFW, now)
                        if tb < t_B:
                            t_B = tb
                            b_c = c
            tb_valid = True
        # command proposals
        t_C = INF
        c_c = -1
        for c in range(C):
            if not valid[c] or inc_b[c] >= 0:
                # ---- recompute the channel's best command (all banks), or fold one bank's new
                # proposal into the cached best (after a request was accepted into that bank)
                base = c * NB
                tmin = max(now, last_cmd[c] + 1)
                if valid[c]:
                    b_lo = inc_b[c]
                    b_hi = b_lo + 1
                    bt = best_t[c]
                    bk = best_k[c]
                    bb = best_b[c]
                    bage = best_age[c]
                    forced = False
                else:
                    stats[S_RECOMP] += 1
                    b_lo = 0
                    b_hi = NB
                    bt = INF
                    bk = K_NONE
                    bb = -1
                    bage = INF
                    forced = False
                    if refpol != 0:
                        u = ref_ptr[c]
                        owed = ref_owed[c]
                        forced = owed > max_post or ref_commit[c]
                        want = forced
                        if not want and (owed > 0 or (ref_chain[c] and owed > -max_pull)):
                            idle = True
                            for b in range(NB):
                                if qlen[base + b] > 0 and _in_unit(refpol, u, b, BPG):
                                    idle = False
                                    break
                            want = idle
                        if want:
                            t_ref = tmin
                            if refpol != 1:
                                t_ref = max(t_ref, ch_act_ok[c])
                            any_open = False
                            for b in range(NB):
                                if not _in_unit(refpol, u, b, BPG):
                                    continue
                                cb = base + b
                                if open_row[cb] >= 0:
                                    tp = max(pre_ok[cb], tmin)
                                    if not any_open or tp < bt:
                                        bt = tp
                                        bk = K_REFPRE
                                        bb = b
                                    any_open = True
                                elif act_ok[cb] > t_ref:
                                    t_ref = act_ok[cb]
                            if not any_open:
                                bt = t_ref
                                bk = K_REF
                                bb = u
                            bage = -1
                chv[K_ACT] = max(ch_act_ok[c], faw[c, faw_i[c]] + FAW)
                chv[K_RD] = max(ch_rd_ok[c], data_free[c] - CL)
                chv[K_WR] = max(ch_wr_ok[c], data_free[c] - CWL)
                gb = c * G
                for b in range(b_lo, b_hi):
                    cb = base + b
                    ql = qlen[cb]
                    if ql == 0:
                        continue
                    if forced and _in_unit(refpol, ref_ptr[c], b, BPG):
                        continue
                    if sel[cb] < 0:
                        # the bank scheduler's pick: Fifo oldest; FrFcfs oldest hit; FrFcfsGrp
                        # oldest hit in the last direction, else oldest hit; else oldest
                        orow = open_row[cb]
                        p = 0
                        if sched != 0 and orow >= 0:
                            fh = -1
                            fd = -1
                            ld = last_dir[c]
                            for pp in range(ql):
                                r = q[cb, pp]
                                if row[r] == orow:
                                    if fh < 0:
                                        fh = pp
                                    if sched == 1 or ld < 0 or is_write[r] == (ld == 1):
                                        fd = pp
                                        break
                            if fd >= 0:
                                p = fd
                            elif fh >= 0:
                                p = fh
                        sel[cb] = p
                        r = q[cb, p]
                        bk_age[cb] = r
                        if orow == row[r]:
                            bk_kind[cb] = K_WR if is_write[r] else K_RD
                            bk_t[cb] = rdwr_ok[cb]
                        elif orow >= 0:
                            bk_kind[cb] = K_PRE
                            bk_t[cb] = pre_ok[cb]
                        else:
                            bk_kind[cb] = K_ACT
                            bk_t[cb] = act_ok[cb]
                    t = bk_t[cb]
                    if t > bt:
                        continue  # cannot beat the best so far: constraints only add to it
                    k = bk_kind[cb]
                    t = max(max(t, tmin), max(chv[k], bgc[k, gb + bgrp[b]]))
                    a = bk_age[cb]
                    if (t < bt) | ((t == bt) & (a < bage)):
                        bt = t
                        bk = k
                        bb = b
                        bage = a
                best_t[c] = bt
                best_k[c] = bk
                best_b[c] = bb
                best_age[c] = bage
                valid[c] = True
                inc_b[c] = -1
            if best_t[c] < t_C:
                t_C = best_t[c]
                c_c = c

        t_next = min(min(t_D, t_E), min(min(t_A, t_B), t_C))
        if t_next >= INF:
            stats[S_ERR] = 1  # deadlock: nothing can ever happen (a bug)
            break
        now = t_next
        stats[S_EVENTS] += 1

        # ---------------------------------------------------------- D: delivery
        if t_D == t_next:
            heap_n -= 1  # pop the heap's minimum
            heap[0] = heap[heap_n]
            i = 0
            while True:
                lft = 2 * i + 1
                if lft >= heap_n:
                    break
                m = lft
                if lft + 1 < heap_n and heap[lft + 1] < heap[lft]:
                    m = lft + 1
                if heap[i] <= heap[m]:
                    break
                tmp = heap[m]
                heap[m] = heap[i]
                heap[i] = tmp
                i = m
            active -= 1
            continue
        # ---------------------------------------------------------- E: refresh tick
        if t_E == t_next:
            ref_owed[e_c] += 1
            ref_next[e_c] += ref_interval
            valid[e_c] = False
            continue
        # ---------------------------------------------------------- A: send + arbiter accept
        if t_A == t_next:
            i = nxt
            t_send[i] = max(arrival[i], front_free)  # BEGIN_REQ; accepted (END_REQ) at t_next
            x_acc[i] = t_next
            c = chan[i]
            aq[c, (aq_head[c] + aq_len[c]) % AQCAP] = i
            aq_len[c] += 1
            aq_total += 1
            active += 1
            tb_valid = False
            nxt += 1
            if arb != 0:
                front_free = t_next + 1
            continue
        # ---------------------------------------------------------- B: channel accept
        if t_B == t_next:
            c = b_c
            h = aq[c, aq_head[c]]
            aq_head[c] = (aq_head[c] + 1) % AQCAP
            aq_len[c] -= 1
            aq_total -= 1
            tb_valid = False
            cb = c * NB + bank[h]
            q[cb, qlen[cb]] = h
            qlen[cb] += 1
            if is_write[h]:
                cnt_wr[c] += 1
            else:
                cnt_rd[c] += 1
            sel[cb] = -1
            ref_chain[c] = False
            bk = best_k[c]
            if (
                valid[c]
                and inc_b[c] < 0
                and bk != K_REF
                and bk != K_REFPRE
                and best_b[c] != bank[h]
                and ref_owed[c] <= max_post
                and not ref_commit[c]
            ):
                inc_b[c] = bank[h]  # only this bank's proposal changed: fold it into the cached best
            else:
                valid[c] = False
                inc_b[c] = -1
            if arb == 0:
                front_free = t_next + 1
            continue
        # ---------------------------------------------------------- C: command
        c = c_c
        t = t_next
        k = best_k[c]
        b = best_b[c]
        base = c * NB
        last_cmd[c] = t
        valid[c] = False
        if k == K_REF:
            u = b
            for bb in range(NB):
                if _in_unit(refpol, u, bb, BPG):
                    cb = base + bb
                    sel[cb] = -1
                    if act_ok[cb] < t + ref_dur:
                        act_ok[cb] = t + ref_dur
            if refpol == 1:
                stats[S_REFAB] += 1
            else:
                stats[S_REFUNIT] += 1
                if ch_act_ok[c] < t + RRDS:
                    ch_act_ok[c] = t + RRDS
            stats[S_REFBANKCYC] += ref_dur * unit_size
            ref_owed[c] -= 1
            ref_commit[c] = False
            ref_chain[c] = True
            ref_ptr[c] = (ref_ptr[c] + 1) % n_units
            if n_int == int_s.shape[0]:
                int_s = _grow(int_s)
                int_e = _grow(int_e)
                int_c = _grow(int_c)
            int_s[n_int] = t
            int_e[n_int] = t + ref_dur
            int_c[n_int] = c
            n_int += 1
            continue
        cb = base + b
        if k == K_REFPRE:
            ref_commit[c] = True
        if k == K_PRE or k == K_REFPRE:
            open_row[cb] = -1
            if act_ok[cb] < t + RP:
                act_ok[cb] = t + RP
            int_e[bank_int[cb]] = t
            sel[cb] = -1
            stats[S_PRE] += 1
            continue
        g = c * G + b // BPG
        p = sel[cb]
        r = q[cb, p]
        if k == K_ACT:
            open_row[cb] = row[r]
            rdwr_ok[cb] = t + RCD
            if pre_ok[cb] < t + RAS:
                pre_ok[cb] = t + RAS
            if act_ok[cb] < t + RC:
                act_ok[cb] = t + RC
            if ch_act_ok[c] < t + RRDS:
                ch_act_ok[c] = t + RRDS
            if bgc[K_ACT, g] < t + RRDL:
                bgc[K_ACT, g] = t + RRDL
            faw[c, faw_i[c]] = t
            faw_i[c] = (faw_i[c] + 1) & 3
            sel[cb] = -1
            stats[S_ACT] += 1
            if n_int == int_s.shape[0]:
                int_s = _grow(int_s)
                int_e = _grow(int_e)
                int_c = _grow(int_c)
            int_s[n_int] = t
            int_e[n_int] = INF
            int_c[n_int] = c
            bank_int[cb] = n_int
            n_int += 1
            continue
        # ---- column command (RD / WR), possibly with auto-precharge
        ql = qlen[cb]
        for pp in range(p, ql - 1):
            q[cb, pp] = q[cb, pp + 1]
        qlen[cb] = ql - 1
        sel[cb] = -1
        tb_valid = False
        wr = k == K_WR
        if wr:
            cnt_wr[c] -= 1
            stats[S_WR] += 1
            d_end = t + CWL + BURST
            if ch_wr_ok[c] < t + CCDS:
                ch_wr_ok[c] = t + CCDS
            if bgc[K_WR, g] < t + CCDL:
                bgc[K_WR, g] = t + CCDL
            if ch_rd_ok[c] < d_end + WTRS:
                ch_rd_ok[c] = d_end + WTRS
            if bgc[K_RD, g] < d_end + WTRL:
                bgc[K_RD, g] = d_end + WTRL
            tp = max(pre_ok[cb], d_end + WRt)
        else:
            cnt_rd[c] -= 1
            stats[S_RD] += 1
            d_end = t + CL + BURST
            if ch_rd_ok[c] < t + CCDS:
                ch_rd_ok[c] = t + CCDS
            if bgc[K_RD, g] < t + CCDL:
                bgc[K_RD, g] = t + CCDL
            if ch_wr_ok[c] < t + RTW:
                ch_wr_ok[c] = t + RTW
            tp = max(pre_ok[cb], t + RTP)
        pre_ok[cb] = tp
        data_free[c] = d_end
        dirn = 1 if wr else 0
        if last_dir[c] != dirn:
            if last_dir[c] >= 0:
                stats[S_TURN] += 1  # read/write turnaround on the data bus
            if sched == 2:
                for bb in range(NB):
                    sel[base + bb] = -1
        last_dir[c] = dirn
        # page policy: auto-precharge?
        ap = False
        if page == 2:
            ap = True
        elif page == 1 or page == 3:
            orow = open_row[cb]
            nrem = qlen[cb]
            all_miss = True
            for pp in range(nrem):
                if row[q[cb, pp]] == orow:
                    all_miss = False
                    break
            if page == 1:
                ap = nrem > 0 and all_miss
            else:
                ap = all_miss
        if ap:
            open_row[cb] = -1
            if act_ok[cb] < tp + RP:
                act_ok[cb] = tp + RP
            int_e[bank_int[cb]] = tp
            stats[S_APRE] += 1
        # response path
        n_cas += 1
        t_cas[r] = t
        done[r] = d_end
        if respq == 0:
            rel[r] = d_end
            if arb != 2:
                t_resp[r] = d_end + DBW
                if arb != 0:
                    pend[pend_n] = t_resp[r]
                    pend_n += 1
        else:
            j = rel_ptr[c]
            while j >= 0 and done[j] >= 0:
                v = max(done[j], last_rel[c])
                last_rel[c] = v
                rel[j] = v
                if arb != 2:
                    t_resp[j] = v + DBW
                    if arb != 0:
                        pend[pend_n] = t_resp[j]
                        pend_n += 1
                j = nxt_same[j]
            rel_ptr[c] = j
        if arb == 2:
            while g_ptr < n and rel[g_ptr] >= 0:
                v = max(rel[g_ptr] + DBW, last_deliv)
                last_deliv = v
                t_resp[g_ptr] = v
                pend[pend_n] = v
                pend_n += 1
                g_ptr += 1
        for pi in range(pend_n):  # push the newly known deliveries onto the heap
            i = heap_n
            heap[i] = pend[pi]
            heap_n += 1
            while i > 0:
                par = (i - 1) >> 1
                if heap[par] <= heap[i]:
                    break
                tmp = heap[par]
                heap[par] = heap[i]
                heap[i] = tmp
                i = par
        pend_n = 0

    # ---------------------------------------------------------- finish
    t_end = np.int64(0)
    for i in range(n):
        if t_resp[i] > t_end:
            t_end = t_resp[i]
    stats[S_TEND] = t_end
    if refpol != 0:
        for c in range(C):
            if ref_owed[c] > 0:
                stats[S_REFOWED] += ref_owed[c]  # postponed refreshes still owed at the end
    # union of busy intervals per channel, clipped to [t_first, t_end]
    t0 = stats[S_TFIRST]
    cur_s = np.full(C, -1, np.int64)
    cur_e = np.full(C, -1, np.int64)
    total = np.int64(0)
    for kk in range(n_int):
        c = int_c[kk]
        s = max(int_s[kk], t0)
        e = min(int_e[kk], t_end)
        if e <= s:
            continue
        if cur_e[c] < 0 or s > cur_e[c]:
            if cur_e[c] > 0:
                total += cur_e[c] - cur_s[c]
            cur_s[c] = s
            cur_e[c] = e
        elif e > cur_e[c]:
            cur_e[c] = e
    for c in range(C):
        if cur_e[c] > 0:
            total += cur_e[c] - cur_s[c]
    stats[S_ACTIVE] = total
    return t_send, t_resp, t_cas, stats
