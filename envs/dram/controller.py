"""The event-driven memory-controller core (compiled with numba).

The whole simulation of one design on one trace is a single call to :func:`run_kernel`
over plain NumPy arrays. Time is kept in device clock cycles (int64) and advances from
event to event, never cycle by cycle. Events, in priority order at equal times:

1. **D** a response is delivered to the initiator (frees one active transaction);
2. **E** a refresh interval elapses on a rank (one more refresh is owed);
3. **A** the initiator sends the next trace request and the arbiter accepts it;
4. **B** a channel controller takes the head of its arbiter queue into its scheduler buffer
   (only when the buffer partition for that request has room);
5. **C** a channel issues one DRAM command (ACT, PRE, RD/RDA, WR/WRA, REF).

For C, every bank with buffered requests proposes one command: the scheduler picks the
request (Fifo: oldest; FrFcfs: oldest row hit, else oldest; FrFcfsGrp: like FrFcfs but among
hits prefers the direction of the last column command; GrpFrFcfs: hits of the last direction,
other hits, oldest of the last direction, oldest; GrpFrFcfsWm: FR-FCFS over the reads only or,
in write mode, the writes only, with write mode entered at the high and left at the low
watermark), and the bank state gives the command (hit -> RD/WR, other row open -> PRE, closed
-> ACT). Its earliest legal cycle is the max of all timing constraints (bank, bank group, rank,
four-activate window, data bus with rank switching, command bus, power-down exit). The channel
issues the proposal with the earliest cycle; ties go to refresh, then to the oldest request
(DRAMSys' ``Oldest`` command multiplexer). ``Strict`` issues column commands in the order the
requests entered the channel (ACT/PRE for younger requests may still go ahead).

Performance notes (profiled): each bank caches its proposal (kind, bank-local earliest cycle,
request) until its queue or state changes; the banks whose proposal changed are queued
(``_mark``) and picked anew before the channel's next fold. A channel caches its best command
and, after a request is accepted into one bank, only folds that bank's new proposal in. A full
fold over many proposals builds a small table of each command kind's floor in each bank group
(``_floor_table``) and reduces over the banks without data-dependent branches (``_fold_many``,
vectorised: indices made unsigned with ``_u`` so numba emits no wrap-around selects); with few
proposals it goes bank by bank. Inline helpers that take arrays are branch-free or loop-only
on purpose: numba increments and decrements an array argument's reference count (atomic
operations) unless its pruning pass can pair them, which it does within a block or a plain
loop but not around early exits (a scheduler-pick helper with breaks and returns was 20 %
slower), and no array is reassigned inside the hot loop (the interval arrays grow between
stretches of it).

Design knobs arrive as small integer codes (see the ``*_CODES`` tables).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .devices import TIMING_NAMES

INF = np.int64(1) << np.int64(62)

# ------------------------------------------------------------------ policy codes
PAGE_OPEN, PAGE_OPEN_ADAPTIVE, PAGE_CLOSED, PAGE_CLOSED_ADAPTIVE = range(4)
SCHED_FIFO, SCHED_FRFCFS, SCHED_FRFCFS_GRP, SCHED_GRP_FRFCFS, SCHED_GRP_FRFCFS_WM = range(5)
BUF_BANKWISE, BUF_READWRITE, BUF_SHARED = range(3)
RESPQ_FIFO, RESPQ_REORDER = range(2)
REF_NONE, REF_ALLBANK, REF_PERBANK, REF_SAMEBANK = range(4)
ARB_SIMPLE, ARB_FIFO, ARB_REORDER = range(3)
CMDMUX_OLDEST, CMDMUX_STRICT = range(2)
PD_NONE, PD_STAGGERED = range(2)

PAGE_CODES = {
    "Open": PAGE_OPEN,
    "OpenAdaptive": PAGE_OPEN_ADAPTIVE,
    "Closed": PAGE_CLOSED,
    "ClosedAdaptive": PAGE_CLOSED_ADAPTIVE,
}
SCHEDULER_CODES = {
    "Fifo": SCHED_FIFO,
    "FrFcfs": SCHED_FRFCFS,
    "FrFcfsGrp": SCHED_FRFCFS_GRP,
    "GrpFrFcfs": SCHED_GRP_FRFCFS,
    "GrpFrFcfsWm": SCHED_GRP_FRFCFS_WM,
}
BUFFER_CODES = {"Bankwise": BUF_BANKWISE, "ReadWrite": BUF_READWRITE, "Shared": BUF_SHARED}
RESPQ_CODES = {"Fifo": RESPQ_FIFO, "Reorder": RESPQ_REORDER}
REFRESH_CODES = {
    "NoRefresh": REF_NONE,
    "AllBank": REF_ALLBANK,
    "PerBank": REF_PERBANK,
    "SameBank": REF_SAMEBANK,
}
ARBITER_CODES = {"Simple": ARB_SIMPLE, "Fifo": ARB_FIFO, "Reorder": ARB_REORDER}
CMDMUX_CODES = {"Oldest": CMDMUX_OLDEST, "Strict": CMDMUX_STRICT}
POWERDOWN_CODES = {"NoPowerDown": PD_NONE, "Staggered": PD_STAGGERED}

# config vector layout
(
    C_PAGE,
    C_SCHED,
    C_BUF,
    C_RESP,
    C_REF,
    C_POSTPONE,
    C_PULLIN,
    C_ARB,
    C_BUFSIZE,
    C_MAXACT,
    C_CMDMUX,
    C_HIGHWM,
    C_LOWWM,
    C_HITCAP,
    C_PD,
    C_PDTIMEOUT,
) = range(16)
N_CFG = 16
# geometry vector layout: channels, banks per rank, banks per group, ranks per channel
G_CHANNELS, G_BANKS, G_BPG, G_RANKS = range(4)
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
    T_CCDLWR,
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
    T_REFIPB,
    T_REFISB,
    T_RTW,
    T_RTRS,
    T_XP,
    T_BURST,
    T_DFW,
    T_DBW,
) = range(28)
N_TIM = 28
#: device timing names in the order of the ``T_*`` slots above (the last three are set apart):
#: the device table's own order, so the two cannot drift apart
TIMING_ORDER: tuple[str, ...] = TIMING_NAMES
assert len(TIMING_ORDER) == N_TIM - 3
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
    S_HIT,
    S_MISS,
    S_CONF,
    S_PDA,
    S_PDP,
    S_PDN,
    S_RANKSW,
) = range(24)
N_STATS = 24

# command kinds
K_NONE, K_ACT, K_PRE, K_RD, K_WR, K_REFPRE, K_REF = 0, 1, 2, 3, 4, 5, 6
#: up to this many proposals a channel's fold goes bank by bank, above it by vector reductions
FEW_PROPOSALS = 4
# a bank's scheduler pick (``sel``): a queue position, or one of these
SEL_DIRTY, SEL_NONE = -1, -2


@njit(cache=True)
def _grow(a):
    """A copy of ``a`` with twice the length (the tail zero)."""
    out = np.zeros(2 * a.shape[0], a.dtype)
    out[: a.shape[0]] = a
    return out


@njit(cache=True, inline="always")
def _in_unit(policy, u, b, bpg):
    """Is bank ``b`` (of a rank) in refresh unit ``u`` (AllBank: all; PerBank: bank u; SameBank: index u)?"""
    if policy == REF_ALLBANK:
        return True
    if policy == REF_PERBANK:
        return b == u
    return (b % bpg) == u


@njit(cache=True, inline="always")
def _write_mode(m, n_wr, n_rd, hiw, low):
    """GrpFrFcfsWm's next mode (True: write drain) from the current one and the channel's
    buffered writes and reads: enter at the high watermark (or with no reads), leave at the low
    one with reads waiting (or with no writes). Scalars only: no reference counting."""
    if not m:
        return n_wr >= hiw or (n_rd == 0 and n_wr > 0)
    return not (n_wr == 0 or (n_wr <= low and n_rd > 0))


@njit(cache=True, inline="always")
def _u(i):
    """``i`` (known >= 0) as an unsigned index: numba then skips its negative-index wrap-around,
    which keeps loops over arrays free of per-element selects (so they vectorise)."""
    return np.uint64(i)


@njit(cache=True, inline="always")
def _floor_table(fl, chv, bgc, tmin, c, n_ranks, gpr, ngc, ngt):
    """Fill ``fl[kind * ngc + group]``, channel ``c``'s earliest cycle of each command kind in
    each of its bank groups: the rank's floor ``chv``, the group's ``bgc`` and the command bus
    ``tmin`` (contiguous loads: they vectorise)."""
    for rk in range(n_ranks):
        for k in range(K_ACT, K_WR + 1):
            f = max(chv[rk, k], tmin)
            fo = k * ngc + rk * gpr
            bo = k * ngt + c * ngc + rk * gpr
            for j in range(gpr):
                fl[_u(fo + j)] = max(f, bgc[_u(bo + j)])


@njit(cache=True, inline="always")
def _fold_many(bk_t, bk_slot, bk_age, fl, tt, base, nbc):
    """The earliest cycle over the banks ``base .. base + nbc - 1`` of a channel (each bank's
    own earliest cycle raised to its kind's floor in its group, ``fl[bk_slot]``; a bank without
    a proposal points at an INF row) and the oldest request at that cycle: two reductions
    without data-dependent branches, which vectorise (``tt``: scratch)."""
    m = INF
    for b in range(nbc):
        t = max(bk_t[_u(base + b)], fl[_u(bk_slot[_u(base + b)])])
        tt[b] = t
        m = min(m, t)
    ma = INF
    for b in range(nbc):
        ma = min(ma, bk_age[_u(base + b)] if tt[b] == m else INF)
    return m, ma


@njit(cache=True, inline="always")
def _send(i, t, arrival, front_free, chan, t_send, x_acc, aq, aq_head, aq_len, aqcap):
    """The initiator sends request ``i`` (BEGIN_REQ at its arrival, or when the front end is
    free); the arbiter accepts it at cycle ``t`` (END_REQ) into its channel's queue."""
    t_send[i] = max(arrival[i], front_free)
    x_acc[i] = t
    c = chan[i]
    tail = aq_head[c] + aq_len[c]
    aq[c, tail - aqcap * (tail >= aqcap)] = i
    aq_len[c] += 1


@njit(cache=True, inline="always")
def _mark(sel, dirty, n_dirty, c, cb, dbase):
    """Queue bank ``cb`` of channel ``c`` for a new scheduler pick (``sel`` SEL_DIRTY: once only).
    Branch-free (a bank already queued rewrites the spare slot after the queue), so numba's
    reference-count pruning removes the array arguments' increments."""
    new = sel[cb] != SEL_DIRTY
    sel[cb] = SEL_DIRTY
    dirty[dbase + n_dirty[c]] = cb
    n_dirty[c] += new


@njit(cache=True, inline="always")
def _charge_power_down(stats, open_row, R, nbr, cycles):
    """Count ``cycles`` of power-down on rank ``R``: active (a bank of it open) or precharged.
    (Reached only with a power-down policy, off the hot path.)"""
    any_open = False
    for b in range(nbr):
        if open_row[R * nbr + b] >= 0:
            any_open = True
            break
    if any_open:
        stats[S_PDA] += cycles
    else:
        stats[S_PDP] += cycles


@njit(cache=True, error_model="numpy")
def run_kernel(arrival, chan, bank, row, is_write, cfg, geo, tim):
    """Simulate one design on one decoded trace.

    Args:
        arrival: int64 arrival cycle per request (non-decreasing).
        chan, bank, row: int64 channel, bank within the channel
            (``(rank * bank_groups + group) * banks_per_group + bank``), row.
        is_write: bool per request.
        cfg, geo, tim: int64 vectors (layouts ``C_*``, ``G_*``, ``T_*``).

    Returns:
        ``(t_send, t_acc, t_resp, t_cas, stats)``: per request the cycle the initiator sent
        it, the cycle the channel controller accepted it into its scheduler buffer, the cycle
        its response reached the initiator and the cycle of its column command, and the
        ``S_*`` statistics vector.
    """
    n = arrival.shape[0]
    C = geo[G_CHANNELS]
    NBR = geo[G_BANKS]
    BPG = geo[G_BPG]
    RK = geo[G_RANKS]
    NBC = NBR * RK
    NR = C * RK
    page = cfg[C_PAGE]
    sched = cfg[C_SCHED]
    buforg = cfg[C_BUF]
    respq = cfg[C_RESP]
    refpol = cfg[C_REF]
    arb = cfg[C_ARB]
    bufsize = cfg[C_BUFSIZE]
    maxact = cfg[C_MAXACT]
    strict = cfg[C_CMDMUX] == CMDMUX_STRICT
    hitcap = cfg[C_HITCAP]
    pdpol = cfg[C_PD]
    pdto = cfg[C_PDTIMEOUT]
    if arb == ARB_SIMPLE:
        maxact = n + 1  # the Simple arbiter does not limit active transactions
    CL = tim[T_CL]
    CWL = tim[T_CWL]
    RCD = tim[T_RCD]
    RP = tim[T_RP]
    RAS = tim[T_RAS]
    RC = tim[T_RC]
    CCDS = tim[T_CCDS]
    CCDL = tim[T_CCDL]
    CCDLWR = tim[T_CCDLWR]
    RRDS = tim[T_RRDS]
    RRDL = tim[T_RRDL]
    FAW = tim[T_FAW]
    WRt = tim[T_WR]
    WTRS = tim[T_WTRS]
    WTRL = tim[T_WTRL]
    RTP = tim[T_RTP]
    BURST = tim[T_BURST]
    RTW = CL + BURST + tim[T_RTW] - CWL
    RTRS = tim[T_RTRS]
    XP = tim[T_XP]
    DFW = tim[T_DFW]
    DBW = tim[T_DBW]

    # write-drain watermarks (GrpFrFcfsWm), in entries of the channel's write buffer
    wcap = bufsize
    if buforg == BUF_BANKWISE:
        wcap = bufsize * NBC
    hiw = max(1, min(cfg[C_HIGHWM], wcap))
    low = min(cfg[C_LOWWM], hiw - 1)

    # refresh units (per rank)
    if refpol == REF_ALLBANK:
        n_units = 1
        unit_size = NBR
        ref_dur = tim[T_RFC]
        ref_round = tim[T_REFI]
    elif refpol == REF_PERBANK:
        n_units = NBR
        unit_size = 1
        ref_dur = tim[T_RFCPB]
        ref_round = tim[T_REFIPB]
    elif refpol == REF_SAMEBANK:
        n_units = BPG
        unit_size = NBR // BPG
        ref_dur = tim[T_RFCSB]
        ref_round = tim[T_REFISB]
    else:
        n_units = 1
        unit_size = 0
        ref_dur = 0
        ref_round = tim[T_REFI]
    ref_interval = max(1, ref_round // n_units)
    max_post = cfg[C_POSTPONE] * n_units
    max_pull = cfg[C_PULLIN] * n_units

    NBt = C * NBC
    QCAP = 2 * bufsize if buforg == BUF_READWRITE else bufsize
    # bank state (global bank index cb = channel * NBC + bank; rank index R = cb // NBR)
    open_row = np.full(NBt, -1, np.int64)
    act_ok = np.zeros(NBt, np.int64)
    rdwr_ok = np.zeros(NBt, np.int64)
    pre_ok = np.zeros(NBt, np.int64)
    bank_int = np.full(NBt, -1, np.int64)
    streak = np.zeros(NBt, np.int64)  # column accesses since the row was opened (row-hit cap)
    q = np.zeros((NBt, QCAP), np.int64)
    qlen = np.zeros(NBt, np.int64)
    sel = np.full(NBt, SEL_NONE, np.int64)  # scheduler's pick (queue position) or SEL_*
    DQ = NBC + 1  # per channel: banks queued for a new pick, then a spare slot
    dirty = np.zeros(C * DQ, np.int64)
    n_dirty = np.zeros(C, np.int64)
    bk_kind = np.zeros(NBt, np.int64)  # per-bank proposal: command kind (K_NONE: none),
    bk_t = np.zeros(NBt, np.int64)  # its bank-local earliest cycle,
    bk_age = np.full(NBt, INF, np.int64)  # and its request (age; INF: none)
    n_prop = np.zeros(C, np.int64)  # banks of the channel with a proposal
    tt = np.zeros(NBC, np.int64)  # the fold's earliest cycle per bank
    bk_slot = np.zeros(NBt, np.int64)  # its kind's row and group in ``fl`` (kind * NGC + group)
    gidx = np.arange(NBt) // BPG  # bank -> global bank-group index (no division in the hot loop)
    rank_of = np.arange(NBt) // NBR  # bank -> global rank index
    rk_of = np.arange(NBC) // NBR  # bank of a channel -> its rank within the channel
    NGC = NBC // BPG  # bank groups per channel (all ranks)
    GPR = NBR // BPG  # bank groups per rank
    glb = np.arange(NBC) // BPG  # bank of a channel -> its bank group within the channel
    # earliest cycle of each command kind in each bank group of the channel being folded
    # (all constraints but the bank's own, and the command bus); K_NONE's row never issues
    fl = np.zeros((K_REF + 1) * NGC, np.int64)  # [kind * NGC + group]
    fl[K_NONE * NGC : (K_NONE + 1) * NGC] = INF
    # rank state
    rk_act_ok = np.zeros(NR, np.int64)
    rk_rd_ok = np.zeros(NR, np.int64)
    rk_wr_ok = np.zeros(NR, np.int64)
    rk_wake = np.zeros(NR, np.int64)  # no command before this cycle (power-down exit, tXP)
    faw = np.full((NR, 4), -FAW - 1, np.int64)
    faw_i = np.zeros(NR, np.int64)
    rk_cnt = np.zeros(NR, np.int64)  # buffered requests
    busy_until = np.zeros(NR, np.int64)  # last cycle a command keeps the rank busy
    idle_from = np.full(NR, -1, np.int64)  # >= 0: idle (no buffered request) since then
    ref_owed = np.zeros(NR, np.int64)
    ref_next = np.full(NR, INF, np.int64)
    if refpol != REF_NONE:
        for R in range(NR):
            ref_next[R] = ref_interval + ((R % RK) * ref_interval) // RK  # staggered over ranks
    ref_ptr = np.zeros(NR, np.int64)
    ref_commit = np.zeros(NR, np.bool_)  # a refresh has started precharging its banks: finish it
    ref_chain = np.zeros(NR, np.bool_)  # just refreshed with the unit idle: may pull in another
    forced_r = np.zeros(RK, np.bool_)
    chv = np.zeros((RK, K_REF + 1), np.int64)
    # channel state
    cnt_rd = np.zeros(C, np.int64)
    cnt_wr = np.zeros(C, np.int64)
    last_cmd = np.full(C, -1, np.int64)
    ch_wr_ok = np.zeros(C, np.int64)
    data_free = np.zeros(C, np.int64)
    data_rank = np.full(C, -1, np.int64)
    wmode = np.zeros(C, np.bool_)
    # bank-group constraints by command kind (rows K_ACT, K_RD, K_WR; other rows stay 0)
    NGT = NBt // BPG  # bank groups in all
    bgc = np.zeros((K_REF + 1) * NGT, np.int64)  # [kind * NGT + global bank group]
    last_dir = np.full(C, -1, np.int64)
    # cached best command per channel
    valid = np.zeros(C, np.bool_)
    best_t = np.full(C, INF, np.int64)
    best_k = np.zeros(C, np.int64)
    best_b = np.zeros(C, np.int64)
    best_age = np.zeros(C, np.int64)
    inc_b = np.full(C, -1, np.int64)
    # front end
    AQCAP = 1
    if arb != ARB_SIMPLE:
        AQCAP = min(maxact, n) + 1
    aq = np.zeros((C, AQCAP), np.int64)
    aq_head = np.zeros(C, np.int64)
    aq_len = np.zeros(C, np.int64)
    x_acc = np.zeros(n, np.int64)
    t_send = np.zeros(n, np.int64)
    t_acc = np.zeros(n, np.int64)
    t_cas = np.full(n, -1, np.int64)
    done = np.full(n, -1, np.int64)
    rel = np.full(n, -1, np.int64)
    t_resp = np.full(n, -1, np.int64)
    served = np.zeros(n, np.bool_)  # a command was issued on the request's behalf (hit/miss/conflict)
    heap = np.zeros(n + 1, np.int64)  # min-heap of delivery cycles (active transactions)
    heap_n = 0
    pend = np.zeros(n + 1, np.int64)  # deliveries that became known during this event
    pend_n = 0
    active = 0
    nxt = 0
    front_free = np.int64(0)
    # response ordering (and the Strict command multiplexer): requests of a channel in order
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
    snext = rel_ptr.copy()  # oldest request of the channel without a column command
    last_rel = np.zeros(C, np.int64)
    g_ptr = 0
    last_deliv = np.int64(0)
    # background intervals (bank open or refreshing) per rank, in start order
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
        for R in range(NR):
            idle_from[R] = arrival[0]
        if arb == ARB_SIMPLE:
            _send(0, max(arrival[0], 0), arrival, front_free, chan, t_send, x_acc, aq, aq_head, aq_len, AQCAP)
            nxt = 1

    while n_cas < n and stats[S_ERR] == 0:
        # the event loop runs in stretches: a stretch ends when the interval arrays are full, they
        # grow here (arrays reassigned inside the hot loop would be reference-counted there)
        if n_int == int_s.shape[0]:
            int_s = _grow(int_s)
            int_e = _grow(int_e)
            int_c = _grow(int_c)
        while n_cas < n:
            if n_int == int_s.shape[0]:
                break  # an event may add one interval: grow first
            # ---------------------------------------------------------- next events
            t_D = INF
            if arb != ARB_SIMPLE and heap_n > 0:
                t_D = heap[0]
            t_E = INF
            e_r = -1
            if refpol != REF_NONE:
                for R in range(NR):
                    if ref_next[R] < t_E:
                        t_E = ref_next[R]
                        e_r = R
            t_A = INF  # (the Simple arbiter sends at the accept that frees it, see B)
            if nxt < n and arb != ARB_SIMPLE and active < maxact:
                t_A = max(max(arrival[nxt], front_free), now)
            if not tb_valid:  # recomputed only after events that change queues or buffers
                t_B = INF
                b_c = -1
                for c in range(C):
                    if aq_len[c] > 0:
                        h = aq[c, aq_head[c]]
                        cb = c * NBC + bank[h]
                        room = False
                        if buforg == BUF_BANKWISE:
                            room = qlen[cb] < bufsize
                        elif buforg == BUF_READWRITE:
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
                    base = c * NBC
                    # ---- new scheduler picks for the banks whose queue or state changed
                    for di in range(n_dirty[c]):
                        cb = dirty[c * DQ + di]
                        b = cb - base
                        ql = qlen[cb]
                        orow = open_row[cb]
                        p = SEL_NONE
                        if strict:
                            sn = snext[c]
                            if sn >= 0 and bank[sn] == b:
                                for pp in range(ql):
                                    if q[cb, pp] == sn:
                                        p = pp
                                        break
                        if p == SEL_NONE and ql > 0:
                            filt = -1
                            if sched == SCHED_GRP_FRFCFS_WM:
                                filt = 1 if wmode[c] else 0
                            hits_ok = orow >= 0 and (hitcap == 0 or streak[cb] <= hitcap)
                            ld = last_dir[c]
                            fa = -1
                            fd = -1
                            fh = -1
                            fhd = -1
                            for pp in range(ql):
                                r = q[cb, pp]
                                wr_r = is_write[r]
                                if filt >= 0 and wr_r != (filt == 1):
                                    continue
                                if fa < 0:
                                    fa = pp
                                    if sched == SCHED_FIFO or (not hits_ok and sched != SCHED_GRP_FRFCFS):
                                        break
                                isdir = ld >= 0 and wr_r == (ld == 1)
                                if isdir and fd < 0:
                                    fd = pp
                                    if not hits_ok:
                                        break  # GrpFrFcfs without hits: the oldest in the last direction
                                if hits_ok and row[r] == orow:
                                    if fh < 0:
                                        fh = pp
                                        if sched == SCHED_FRFCFS or sched == SCHED_GRP_FRFCFS_WM:
                                            break
                                    if isdir:
                                        fhd = pp
                                        break
                            if sched == SCHED_FIFO:
                                p = fa
                            elif sched == SCHED_FRFCFS or sched == SCHED_GRP_FRFCFS_WM:
                                p = fh if fh >= 0 else fa
                            elif sched == SCHED_FRFCFS_GRP:
                                p = fhd if fhd >= 0 else (fh if fh >= 0 else fa)
                            else:
                                p = fhd if fhd >= 0 else (fh if fh >= 0 else (fd if fd >= 0 else fa))
                            if p < 0:
                                p = SEL_NONE
                            elif strict and orow >= 0 and row[q[cb, p]] == orow:
                                p = SEL_NONE  # a column command out of order: wait
                        sel[cb] = p
                        if bk_kind[cb] != K_NONE:
                            n_prop[c] -= 1
                        bk_kind[cb] = K_NONE
                        bk_age[cb] = INF
                        if p >= 0:
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
                        bk_slot[cb] = bk_kind[cb] * NGC + glb[b]
                        if bk_kind[cb] != K_NONE:
                            n_prop[c] += 1
                    n_dirty[c] = 0
                    tmin = max(now, last_cmd[c] + 1)
                    incremental = valid[c]
                    any_forced = False
                    if incremental:
                        b_lo = inc_b[c]
                        b_hi = b_lo + 1
                        bt = best_t[c]
                        bk = best_k[c]
                        bb = best_b[c]
                        bage = best_age[c]
                    else:
                        stats[S_RECOMP] += 1
                        b_lo = 0
                        b_hi = NBC
                        bt = INF
                        bk = K_NONE
                        bb = -1
                        bage = INF
                        for rk in range(RK):
                            forced_r[rk] = False
                        if refpol != REF_NONE:
                            for rk in range(RK):
                                R = c * RK + rk
                                owed = ref_owed[R]
                                forced = owed > max_post or ref_commit[R]
                                forced_r[rk] = forced
                                any_forced = any_forced or forced
                                want = forced
                                u = ref_ptr[R]
                                rbase = R * NBR
                                if not want and (owed > 0 or (ref_chain[R] and owed > -max_pull)):
                                    idle = True
                                    for b in range(NBR):
                                        if qlen[rbase + b] > 0 and _in_unit(refpol, u, b, BPG):
                                            idle = False
                                            break
                                    want = idle
                                if want:
                                    t_ref = max(tmin, rk_wake[R])
                                    if refpol != REF_ALLBANK:
                                        t_ref = max(t_ref, rk_act_ok[R])
                                    any_open = False
                                    tpre = INF
                                    bpre = -1
                                    for b in range(NBR):
                                        if not _in_unit(refpol, u, b, BPG):
                                            continue
                                        cb = rbase + b
                                        if open_row[cb] >= 0:
                                            tp = max(max(pre_ok[cb], tmin), rk_wake[R])
                                            if not any_open or tp < tpre:
                                                tpre = tp
                                                bpre = rk * NBR + b
                                            any_open = True
                                        elif act_ok[cb] > t_ref:
                                            t_ref = act_ok[cb]
                                    if any_open:
                                        if tpre < bt:
                                            bt = tpre
                                            bk = K_REFPRE
                                            bb = bpre
                                            bage = -1
                                    elif t_ref < bt:
                                        bt = t_ref
                                        bk = K_REF
                                        bb = rk
                                        bage = -1
                    # per-rank floors of each command kind: rank timing, data bus, power-down exit
                    for rk in range(RK):
                        R = c * RK + rk
                        w = rk_wake[R]
                        sw = np.int64(0)
                        if data_rank[c] >= 0 and data_rank[c] != rk:
                            sw = RTRS
                        chv[rk, K_ACT] = max(max(rk_act_ok[R], faw[R, faw_i[R]] + FAW), w)
                        chv[rk, K_PRE] = w
                        chv[rk, K_RD] = max(max(rk_rd_ok[R], data_free[c] + sw - CL), w)
                        chv[rk, K_WR] = max(max(max(rk_wr_ok[R], ch_wr_ok[c]), data_free[c] + sw - CWL), w)
                    won = -1
                    if incremental or any_forced or n_prop[c] <= FEW_PROPOSALS:
                        # ---- the fold, bank by bank (the banks without a proposal skipped)
                        for b in range(b_lo, b_hi):
                            cb = base + b
                            k = bk_kind[cb]
                            if k == K_NONE:
                                continue
                            rk = 0
                            if RK > 1:
                                rk = rk_of[b]
                            if (
                                any_forced
                                and forced_r[rk]
                                and _in_unit(refpol, ref_ptr[c * RK + rk], b % NBR, BPG)
                            ):
                                continue  # its refresh is forced: the bank takes no request
                            t = bk_t[cb]
                            if t > bt:
                                continue  # cannot beat the best so far: constraints only add to it
                            t = max(max(t, tmin), max(chv[rk, k], bgc[k * NGT + gidx[cb]]))
                            a = bk_age[cb]
                            if (t < bt) | ((t == bt) & (a < bage)):
                                bt = t
                                bage = a
                                won = b
                    else:
                        # ---- the fold over many proposals: each kind's floor in each bank group,
                        # then the earliest cycle and the oldest request at it, as reductions
                        # without data-dependent branches (they vectorise)
                        _floor_table(fl, chv, bgc, tmin, c, RK, GPR, NGC, NGT)
                        m, ma = _fold_many(bk_t, bk_slot, bk_age, fl, tt, base, NBC)
                        if m < bt:  # a refresh (age -1) wins ties
                            bt = m
                            bage = ma
                            won = bank[ma]
                    if won >= 0:
                        bb = won
                        bk = bk_kind[base + won]
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
                R = e_r
                ref_owed[R] += 1
                ref_next[R] += ref_interval
                c = R // RK
                valid[c] = False
                if (
                    pdpol != PD_NONE
                    and idle_from[R] >= 0
                    and (ref_owed[R] > 0 or (ref_chain[R] and ref_owed[R] > -max_pull))
                ):
                    # the idle rank will refresh now: leave power-down first
                    s = idle_from[R] + pdto
                    if now > s:
                        _charge_power_down(stats, open_row, R, NBR, now - s)
                        stats[S_PDN] += 1
                        if rk_wake[R] < now + XP:
                            rk_wake[R] = now + XP
                    idle_from[R] = -1
                continue
            # ---------------------------------------------------------- A: send + arbiter accept
            if t_A == t_next:
                _send(nxt, t_next, arrival, front_free, chan, t_send, x_acc, aq, aq_head, aq_len, AQCAP)
                active += 1
                tb_valid = False
                nxt += 1
                front_free = t_next + 1
                continue
            # ---------------------------------------------------------- B: channel accept
            if t_B == t_next:
                c = b_c
                h = aq[c, aq_head[c]]
                aq_head[c] = 0 if aq_head[c] + 1 == AQCAP else aq_head[c] + 1
                aq_len[c] -= 1
                tb_valid = False
                t_acc[h] = t_next
                bh = bank[h]
                cb = c * NBC + bh
                R = rank_of[cb]
                q[cb, qlen[cb]] = h
                qlen[cb] += 1
                rk_cnt[R] += 1
                if is_write[h]:
                    cnt_wr[c] += 1
                else:
                    cnt_rd[c] += 1
                _mark(sel, dirty, n_dirty, c, cb, c * DQ)
                ref_chain[R] = False
                woke = False
                if idle_from[R] >= 0:
                    if pdpol != PD_NONE:
                        s = idle_from[R] + pdto
                        if now > s:  # the rank was in power-down since s: exit costs tXP
                            _charge_power_down(stats, open_row, R, NBR, now - s)
                            stats[S_PDN] += 1
                            if rk_wake[R] < now + XP:
                                rk_wake[R] = now + XP
                            woke = True
                    idle_from[R] = -1
                mode_changed = False
                if sched == SCHED_GRP_FRFCFS_WM:
                    m = _write_mode(wmode[c], cnt_wr[c], cnt_rd[c], hiw, low)
                    if m != wmode[c]:
                        wmode[c] = m
                        mode_changed = True
                        for bb in range(NBC):
                            _mark(sel, dirty, n_dirty, c, c * NBC + bb, c * DQ)
                bk = best_k[c]
                if (
                    valid[c]
                    and inc_b[c] < 0
                    and not woke
                    and not mode_changed
                    and bk != K_REF
                    and bk != K_REFPRE
                    and best_b[c] != bh
                    and ref_owed[R] <= max_post
                    and not ref_commit[R]
                ):
                    inc_b[c] = bh  # only this bank's proposal changed: fold it into the cached best
                else:
                    valid[c] = False
                    inc_b[c] = -1
                if arb == ARB_SIMPLE:
                    # the arbiter is free: the initiator's next request goes out now (one cycle
                    # later, or at its arrival), whatever happens in between
                    front_free = t_next + 1
                    if nxt < n:
                        t_a = max(arrival[nxt], front_free)
                        _send(nxt, t_a, arrival, front_free, chan, t_send, x_acc, aq, aq_head, aq_len, AQCAP)
                        nxt += 1
                continue
            # ---------------------------------------------------------- C: command
            c = c_c
            t = t_next
            k = best_k[c]
            b = best_b[c]
            base = c * NBC
            last_cmd[c] = t
            valid[c] = False
            if k == K_REF:
                R = c * RK + b
                u = ref_ptr[R]
                rbase = R * NBR
                for bb in range(NBR):
                    if _in_unit(refpol, u, bb, BPG):
                        cb = rbase + bb
                        _mark(sel, dirty, n_dirty, c, cb, c * DQ)
                        if act_ok[cb] < t + ref_dur:
                            act_ok[cb] = t + ref_dur
                if refpol == REF_ALLBANK:
                    stats[S_REFAB] += 1
                else:
                    stats[S_REFUNIT] += 1
                    if rk_act_ok[R] < t + RRDS:
                        rk_act_ok[R] = t + RRDS
                stats[S_REFBANKCYC] += ref_dur * unit_size
                ref_owed[R] -= 1
                ref_commit[R] = False
                ref_chain[R] = True
                ref_ptr[R] = (ref_ptr[R] + 1) % n_units
                if busy_until[R] < t + ref_dur:
                    busy_until[R] = t + ref_dur
                if rk_cnt[R] == 0:
                    idle_from[R] = busy_until[R]
                int_s[n_int] = t
                int_e[n_int] = t + ref_dur
                int_c[n_int] = R
                n_int += 1
                continue
            cb = base + b
            R = rank_of[cb]
            if k == K_REFPRE:
                ref_commit[R] = True
            if k in (K_PRE, K_REFPRE):
                if k == K_PRE:
                    r = q[cb, sel[cb]]
                    if not served[r]:
                        served[r] = True
                        stats[S_CONF] += 1
                open_row[cb] = -1
                if act_ok[cb] < t + RP:
                    act_ok[cb] = t + RP
                if busy_until[R] < t + RP:
                    busy_until[R] = t + RP
                int_e[bank_int[cb]] = t
                _mark(sel, dirty, n_dirty, c, cb, c * DQ)
                stats[S_PRE] += 1
                continue
            g = gidx[cb]
            p = sel[cb]
            r = q[cb, p]
            if k == K_ACT:
                if not served[r]:
                    served[r] = True
                    stats[S_MISS] += 1
                open_row[cb] = row[r]
                streak[cb] = 0
                rdwr_ok[cb] = t + RCD
                if pre_ok[cb] < t + RAS:
                    pre_ok[cb] = t + RAS
                if act_ok[cb] < t + RC:
                    act_ok[cb] = t + RC
                if rk_act_ok[R] < t + RRDS:
                    rk_act_ok[R] = t + RRDS
                if bgc[K_ACT * NGT + g] < t + RRDL:
                    bgc[K_ACT * NGT + g] = t + RRDL
                faw[R, faw_i[R]] = t
                faw_i[R] = (faw_i[R] + 1) & 3
                _mark(sel, dirty, n_dirty, c, cb, c * DQ)
                stats[S_ACT] += 1
                int_s[n_int] = t
                int_e[n_int] = INF
                int_c[n_int] = R
                bank_int[cb] = n_int
                n_int += 1
                continue
            # ---- column command (RD / WR), possibly with auto-precharge
            if not served[r]:
                served[r] = True
                stats[S_HIT] += 1
            streak[cb] += 1
            ql = qlen[cb]
            for pp in range(p, ql - 1):
                q[cb, pp] = q[cb, pp + 1]
            qlen[cb] = ql - 1
            rk_cnt[R] -= 1
            _mark(sel, dirty, n_dirty, c, cb, c * DQ)
            tb_valid = False
            wr = k == K_WR
            rk = rk_of[b]
            if data_rank[c] >= 0 and data_rank[c] != rk:
                stats[S_RANKSW] += 1
            data_rank[c] = rk
            if wr:
                cnt_wr[c] -= 1
                stats[S_WR] += 1
                d_end = t + CWL + BURST
                if rk_wr_ok[R] < t + CCDS:
                    rk_wr_ok[R] = t + CCDS
                if bgc[K_WR * NGT + g] < t + CCDLWR:
                    bgc[K_WR * NGT + g] = t + CCDLWR
                if rk_rd_ok[R] < d_end + WTRS:
                    rk_rd_ok[R] = d_end + WTRS
                if bgc[K_RD * NGT + g] < d_end + WTRL:
                    bgc[K_RD * NGT + g] = d_end + WTRL
                tp = max(pre_ok[cb], d_end + WRt)
            else:
                cnt_rd[c] -= 1
                stats[S_RD] += 1
                d_end = t + CL + BURST
                if rk_rd_ok[R] < t + CCDS:
                    rk_rd_ok[R] = t + CCDS
                if bgc[K_RD * NGT + g] < t + CCDL:
                    bgc[K_RD * NGT + g] = t + CCDL
                if ch_wr_ok[c] < t + RTW:
                    ch_wr_ok[c] = t + RTW
                tp = max(pre_ok[cb], t + RTP)
            pre_ok[cb] = tp
            data_free[c] = d_end
            dirn = 1 if wr else 0
            if last_dir[c] != dirn:
                if last_dir[c] >= 0:
                    stats[S_TURN] += 1  # read/write turnaround on the data bus
                if sched == SCHED_FRFCFS_GRP or sched == SCHED_GRP_FRFCFS:
                    for bb in range(NBC):
                        _mark(sel, dirty, n_dirty, c, base + bb, c * DQ)
            last_dir[c] = dirn
            # page policy: auto-precharge?
            ap = False
            if page == PAGE_CLOSED:
                ap = True
            elif page == PAGE_OPEN_ADAPTIVE or page == PAGE_CLOSED_ADAPTIVE:
                orow = open_row[cb]
                nrem = qlen[cb]
                all_miss = True
                for pp in range(nrem):
                    if row[q[cb, pp]] == orow:
                        all_miss = False
                        break
                if page == PAGE_OPEN_ADAPTIVE:
                    ap = nrem > 0 and all_miss
                else:
                    ap = all_miss
            if busy_until[R] < d_end:
                busy_until[R] = d_end
            if ap:
                open_row[cb] = -1
                if act_ok[cb] < tp + RP:
                    act_ok[cb] = tp + RP
                if busy_until[R] < tp + RP:
                    busy_until[R] = tp + RP
                int_e[bank_int[cb]] = tp
                stats[S_APRE] += 1
            if rk_cnt[R] == 0:
                idle_from[R] = busy_until[R]
            # response path
            n_cas += 1
            t_cas[r] = t
            done[r] = d_end
            if strict:
                sn = snext[c]
                while sn >= 0 and t_cas[sn] >= 0:
                    sn = nxt_same[sn]
                snext[c] = sn
                if sn >= 0:
                    _mark(sel, dirty, n_dirty, c, base + bank[sn], c * DQ)
            if sched == SCHED_GRP_FRFCFS_WM:
                m = _write_mode(wmode[c], cnt_wr[c], cnt_rd[c], hiw, low)
                if m != wmode[c]:
                    wmode[c] = m
                    for bb in range(NBC):
                        _mark(sel, dirty, n_dirty, c, base + bb, c * DQ)
            if respq == RESPQ_FIFO:
                rel[r] = d_end
                if arb != ARB_REORDER:
                    t_resp[r] = d_end + DBW
                    if arb != ARB_SIMPLE:
                        pend[pend_n] = t_resp[r]
                        pend_n += 1
            else:
                j = rel_ptr[c]
                while j >= 0 and done[j] >= 0:
                    v = max(done[j], last_rel[c])
                    last_rel[c] = v
                    rel[j] = v
                    if arb != ARB_REORDER:
                        t_resp[j] = v + DBW
                        if arb != ARB_SIMPLE:
                            pend[pend_n] = t_resp[j]
                            pend_n += 1
                    j = nxt_same[j]
                rel_ptr[c] = j
            if arb == ARB_REORDER:
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
    if refpol != REF_NONE:
        for R in range(NR):
            if ref_owed[R] > 0:
                stats[S_REFOWED] += ref_owed[R]  # postponed refreshes still owed at the end
    if pdpol != PD_NONE:  # ranks idle at the end of the window
        for R in range(NR):
            if idle_from[R] >= 0 and t_end > idle_from[R] + pdto:
                _charge_power_down(stats, open_row, R, NBR, t_end - idle_from[R] - pdto)
    # union of busy intervals per rank, clipped to [t_first, t_end]
    t0 = stats[S_TFIRST]
    cur_s = np.full(NR, -1, np.int64)
    cur_e = np.full(NR, -1, np.int64)
    total = np.int64(0)
    for kk in range(n_int):
        R = int_c[kk]
        s = max(int_s[kk], t0)
        e = min(int_e[kk], t_end)
        if e <= s:
            continue
        if cur_e[R] < 0 or s > cur_e[R]:
            if cur_e[R] > 0:
                total += cur_e[R] - cur_s[R]
            cur_s[R] = s
            cur_e[R] = e
        elif e > cur_e[R]:
            cur_e[R] = e
    for R in range(NR):
        if cur_e[R] > 0:
            total += cur_e[R] - cur_s[R]
    stats[S_ACTIVE] = total
    return t_send, t_acc, t_resp, t_cas, stats
