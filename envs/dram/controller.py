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

Code layout: the state lives in a few named bundles of arrays (:class:`Banks`, :class:`Ranks`,
:class:`Channels`, :class:`Requests`, :class:`FrontEnd`) and the design, geometry and timings
in one bundle of integers (:class:`Params`); each step of the event loop is a helper compiled
``inline="always"`` (numba inlines it into :func:`run_kernel`'s IR, so there is no call and
no reference counting of the arrays it touches: a real call with array arguments costs two
atomic reference-count operations per array, which was a third of the run time).

Performance notes (profiled): each bank caches its proposal (kind, bank-local earliest cycle,
request) until its queue or state changes; a channel caches its best command and, after a
request is accepted into one bank, only folds that bank's new proposal in.

Design knobs arrive as small integer codes (the named constants below and the ``*_CODES``
tables built from them).
"""

from __future__ import annotations

from collections import namedtuple

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
# scheduler picks (``Banks.sel``): a queue position, or one of these
SEL_STALE, SEL_NONE = -1, -2
# rows of the background-interval log: start, end, rank
IV_START, IV_END, IV_RANK = range(3)

# ------------------------------------------------------------------ state bundles
#: the design, geometry and timings as integers (read-only during a run)
Params = namedtuple(
    "Params",
    "C NBR BPG RK NBC NR NBT page sched buforg respq refpol arb bufsize maxact strict hitcap "
    "pdpol pdto hiw low n_units unit_size ref_dur ref_interval max_post max_pull qcap aqcap "
    "CL CWL RCD RP RAS RC CCDS CCDL CCDLWR RRDS RRDL FAW WR WTRS WTRL RTP BURST RTW RTRS XP DFW DBW",
)
#: per bank (global index ``cb = channel * NBC + bank``; rank ``cb // NBR``)
Banks = namedtuple(
    "Banks",
    "open_row act_ok rdwr_ok pre_ok interval streak q qlen sel kind t age group",
)
#: per rank (global index ``R = channel * RK + rank``)
Ranks = namedtuple(
    "Ranks",
    "act_ok rd_ok wr_ok wake faw faw_i cnt busy_until idle_from ref_owed ref_next ref_ptr "
    "ref_commit ref_chain forced floors",
)
#: per channel: buffer counts, data bus, write mode, the cached best command
Channels = namedtuple(
    "Channels",
    "cnt_rd cnt_wr last_cmd wr_ok data_free data_rank wmode last_dir group_ok "
    "valid best_t best_k best_b best_age inc_b rel_ptr snext last_rel",
)
#: per request: the decoded trace and what happens to it
Requests = namedtuple(
    "Requests",
    "arrival chan bank row is_write t_send x_acc t_acc t_cas done rel t_resp served nxt_same",
)
#: the initiator's side: arbiter queues and the heap of pending deliveries
FrontEnd = namedtuple("FrontEnd", "aq aq_head aq_len heap pend")


# ------------------------------------------------------------------ set-up
@njit(cache=True)
def _grow(a):
    """A copy of 2-D ``a`` with twice the columns (the tail zero)."""
    out = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
    out[:, : a.shape[1]] = a
    return out


@njit(cache=True, inline="always")
def _refresh_units(refpol, tim, nbr, bpg):
    """(units per rank, banks per unit, tRFC of a unit, round of all units) of a refresh policy."""
    if refpol == REF_ALLBANK:
        return 1, nbr, tim[T_RFC], tim[T_REFI]
    if refpol == REF_PERBANK:
        return nbr, 1, tim[T_RFCPB], tim[T_REFIPB]
    if refpol == REF_SAMEBANK:
        return bpg, nbr // bpg, tim[T_RFCSB], tim[T_REFISB]
    return 1, 0, 0, tim[T_REFI]


@njit(cache=True, inline="always")
def _params(cfg, geo, tim, n):
    """The :class:`Params` of a design (``cfg``), geometry and timings, for a trace of ``n`` requests."""
    C, NBR, BPG, RK = geo[G_CHANNELS], geo[G_BANKS], geo[G_BPG], geo[G_RANKS]
    NBC = NBR * RK
    arb = cfg[C_ARB]
    bufsize = cfg[C_BUFSIZE]
    buforg = cfg[C_BUF]
    maxact = cfg[C_MAXACT] if arb != ARB_SIMPLE else n + 1  # Simple does not limit transactions
    aqcap = min(maxact, n) + 1 if arb != ARB_SIMPLE else 1
    # write-drain watermarks (GrpFrFcfsWm), in entries of the channel's write buffer
    wcap = bufsize * NBC if buforg == BUF_BANKWISE else bufsize
    hiw = max(1, min(cfg[C_HIGHWM], wcap))
    low = min(cfg[C_LOWWM], hiw - 1)
    n_units, unit_size, ref_dur, ref_round = _refresh_units(cfg[C_REF], tim, NBR, BPG)
    qcap = 2 * bufsize if buforg == BUF_READWRITE else bufsize
    return Params(
        C, NBR, BPG, RK, NBC, C * RK, C * NBC,
        cfg[C_PAGE], cfg[C_SCHED], buforg, cfg[C_RESP], cfg[C_REF], arb, bufsize, maxact,
        np.int64(cfg[C_CMDMUX] == CMDMUX_STRICT), cfg[C_HITCAP], cfg[C_PD], cfg[C_PDTIMEOUT], hiw, low,
        n_units, unit_size, ref_dur, max(1, ref_round // n_units),
        cfg[C_POSTPONE] * n_units, cfg[C_PULLIN] * n_units, qcap, aqcap,
        tim[T_CL], tim[T_CWL], tim[T_RCD], tim[T_RP], tim[T_RAS], tim[T_RC], tim[T_CCDS],
        tim[T_CCDL], tim[T_CCDLWR], tim[T_RRDS], tim[T_RRDL], tim[T_FAW], tim[T_WR], tim[T_WTRS],
        tim[T_WTRL], tim[T_RTP], tim[T_BURST],
        tim[T_CL] + tim[T_BURST] + tim[T_RTW] - tim[T_CWL],  # read-to-write command distance
        tim[T_RTRS], tim[T_XP], tim[T_DFW], tim[T_DBW],
    )  # fmt: skip


@njit(cache=True, inline="always")
def _new_banks(P):
    nb = P.NBT
    return Banks(
        np.full(nb, -1, np.int64),  # open_row (-1: closed)
        np.zeros(nb, np.int64),  # act_ok
        np.zeros(nb, np.int64),  # rdwr_ok
        np.zeros(nb, np.int64),  # pre_ok
        np.full(nb, -1, np.int64),  # interval: its open background interval (log index)
        np.zeros(nb, np.int64),  # streak: column accesses since the row was opened (row-hit cap)
        np.zeros((nb, P.qcap), np.int64),  # q: buffered requests, oldest first
        np.zeros(nb, np.int64),  # qlen
        np.full(nb, SEL_STALE, np.int64),  # sel: the scheduler's pick (queue position)
        np.zeros(nb, np.int64),  # kind: the bank's proposal: command kind,
        np.zeros(nb, np.int64),  # t: its bank-local earliest cycle,
        np.zeros(nb, np.int64),  # age: and its request
        np.arange(nb) // P.BPG,  # group: bank -> global bank-group index (no division in the loop)
    )


@njit(cache=True, inline="always")
def _new_ranks(P, t_first):
    nr = P.NR
    ref_next = np.full(nr, INF, np.int64)
    if P.refpol != REF_NONE:
        for R in range(nr):  # staggered over the ranks
            ref_next[R] = P.ref_interval + ((R % P.RK) * P.ref_interval) // P.RK
    return Ranks(
        np.zeros(nr, np.int64),  # act_ok
        np.zeros(nr, np.int64),  # rd_ok
        np.zeros(nr, np.int64),  # wr_ok
        np.zeros(nr, np.int64),  # wake: no command before this cycle (power-down exit, tXP)
        np.full((nr, 4), -P.FAW - 1, np.int64),  # faw: the last four ACTs
        np.zeros(nr, np.int64),  # faw_i
        np.zeros(nr, np.int64),  # cnt: buffered requests
        np.zeros(nr, np.int64),  # busy_until: last cycle a command keeps the rank busy
        np.full(nr, t_first, np.int64),  # idle_from: >= 0: idle (no buffered request) since then
        np.zeros(nr, np.int64),  # ref_owed
        ref_next,
        np.zeros(nr, np.int64),  # ref_ptr: the next refresh unit
        np.zeros(nr, np.bool_),  # ref_commit: a refresh has started precharging its banks
        np.zeros(nr, np.bool_),  # ref_chain: just refreshed with the unit idle: may pull in another
        np.zeros(P.RK, np.bool_),  # forced: per rank of the channel being evaluated
        np.zeros((P.RK, K_REF + 1), np.int64),  # floors: per rank and command kind (same)
    )


@njit(cache=True, inline="always")
def _new_channels(P, chan, n):
    C = P.C
    rel_ptr = np.full(C, -1, np.int64)
    return Channels(
        np.zeros(C, np.int64),  # cnt_rd
        np.zeros(C, np.int64),  # cnt_wr
        np.full(C, -1, np.int64),  # last_cmd
        np.zeros(C, np.int64),  # wr_ok (read-to-write turnaround)
        np.zeros(C, np.int64),  # data_free
        np.full(C, -1, np.int64),  # data_rank
        np.zeros(C, np.bool_),  # wmode
        np.full(C, -1, np.int64),  # last_dir
        np.zeros((K_REF + 1, P.NBT // P.BPG), np.int64),  # group_ok: rows K_ACT, K_RD, K_WR
        np.zeros(C, np.bool_),  # valid: the cached best command
        np.full(C, INF, np.int64),  # best_t
        np.zeros(C, np.int64),  # best_k
        np.zeros(C, np.int64),  # best_b
        np.zeros(C, np.int64),  # best_age
        np.full(C, -1, np.int64),  # inc_b: fold only this bank into the cached best
        rel_ptr,  # oldest request of the channel whose response is not released
        rel_ptr.copy(),  # snext: oldest request of the channel without a column command
        np.zeros(C, np.int64),  # last_rel
    )


@njit(cache=True, inline="always")
def _new_requests(arrival, chan, bank, row, is_write, ch):
    """Per-request state; links each request to the channel's next one (request order)."""
    n = arrival.shape[0]
    nxt_same = np.full(n, -1, np.int64)
    last_in_ch = np.full(ch.rel_ptr.shape[0], -1, np.int64)
    for i in range(n):
        c = chan[i]
        if last_in_ch[c] >= 0:
            nxt_same[last_in_ch[c]] = i
        else:
            ch.rel_ptr[c] = i
            ch.snext[c] = i
        last_in_ch[c] = i
    return Requests(
        arrival, chan, bank, row, is_write,
        np.zeros(n, np.int64),  # t_send
        np.zeros(n, np.int64),  # x_acc: accepted by the arbiter
        np.zeros(n, np.int64),  # t_acc: accepted by the channel controller
        np.full(n, -1, np.int64),  # t_cas
        np.full(n, -1, np.int64),  # done: last data beat
        np.full(n, -1, np.int64),  # rel: released by the response queue
        np.full(n, -1, np.int64),  # t_resp: delivered
        np.zeros(n, np.bool_),  # served: a command was issued on its behalf (hit/miss/conflict)
        nxt_same,
    )  # fmt: skip


@njit(cache=True, inline="always")
def _new_front_end(P, n):
    return FrontEnd(
        np.zeros((P.C, P.aqcap), np.int64),  # aq: arbiter queue per channel (ring)
        np.zeros(P.C, np.int64),  # aq_head
        np.zeros(P.C, np.int64),  # aq_len
        np.zeros(n + 1, np.int64),  # heap: min-heap of delivery cycles (active transactions)
        np.zeros(n + 1, np.int64),  # pend: deliveries that became known during this event
    )


# ------------------------------------------------------------------ small pieces
@njit(cache=True, inline="always")
def _in_unit(policy, u, b, bpg):
    """Is bank ``b`` (of a rank) in refresh unit ``u`` (AllBank: all; PerBank: bank u; SameBank: index u)?"""
    if policy == REF_ALLBANK:
        return True
    if policy == REF_PERBANK:
        return b == u
    return (b % bpg) == u


@njit(cache=True, inline="always")
def _charge_power_down(stats, open_row, R, nbr, cycles):
    """Count ``cycles`` of power-down on rank ``R``: active (a bank open) or precharged."""
    any_open = False
    for b in range(nbr):
        if open_row[R * nbr + b] >= 0:
            any_open = True
            break
    if any_open:
        stats[S_PDA] += cycles
    else:
        stats[S_PDP] += cycles


@njit(cache=True, inline="always")
def _leave_power_down(P, rk, open_row, stats, R, now):
    """Rank ``R`` is idle: if it has been in power-down (idle past the timeout), it leaves it at
    ``now`` (its power-down cycles are counted, its next command waits tXP). Returns whether it did."""
    s = rk.idle_from[R] + P.pdto
    if now <= s:
        return False
    _charge_power_down(stats, open_row, R, P.NBR, now - s)
    stats[S_PDN] += 1
    if rk.wake[R] < now + P.XP:
        rk.wake[R] = now + P.XP
    return True


@njit(cache=True, inline="always")
def _update_write_mode(P, ch, sel, c):
    """GrpFrFcfsWm: enter write mode at the high watermark (or with no reads), leave it at the
    low one with reads waiting (or with no writes); a change makes every bank pick again."""
    m = ch.wmode[c]
    if not m:
        if ch.cnt_wr[c] >= P.hiw or (ch.cnt_rd[c] == 0 and ch.cnt_wr[c] > 0):
            m = True
    elif ch.cnt_wr[c] == 0 or (ch.cnt_wr[c] <= P.low and ch.cnt_rd[c] > 0):
        m = False
    if m == ch.wmode[c]:
        return False
    ch.wmode[c] = m
    for bb in range(P.NBC):
        sel[c * P.NBC + bb] = SEL_STALE
    return True


@njit(cache=True, inline="always")
def _log_interval(log, n_log, start, end, R):
    """Append a background interval (a bank open or refreshing) of rank ``R``; returns the log and its length."""
    if n_log == log.shape[1]:
        log = _grow(log)
    log[IV_START, n_log] = start
    log[IV_END, n_log] = end
    log[IV_RANK, n_log] = R
    return log, n_log + 1


@njit(cache=True, inline="always")
def _heap_pop(heap, heap_n):
    """Remove the minimum of the binary min-heap ``heap[:heap_n]``; returns the new size."""
    heap_n -= 1
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
    return heap_n


@njit(cache=True, inline="always")
def _heap_push(heap, heap_n, v):
    """Insert ``v`` into the binary min-heap ``heap[:heap_n]``; returns the new size."""
    i = heap_n
    heap[i] = v
    while i > 0:
        par = (i - 1) >> 1
        if heap[par] <= heap[i]:
            break
        tmp = heap[par]
        heap[par] = heap[i]
        heap[i] = tmp
        i = par
    return heap_n + 1


# ------------------------------------------------------------------ next events
@njit(cache=True, inline="always")
def _next_refresh_tick(P, rk):
    """(cycle, rank) of the next refresh interval to elapse (INF, -1 without refresh)."""
    t_E = INF
    e_r = -1
    if P.refpol != REF_NONE:
        for R in range(P.NR):
            if rk.ref_next[R] < t_E:
                t_E = rk.ref_next[R]
                e_r = R
    return t_E, e_r


@njit(cache=True, inline="always")
def _has_room(P, bk, ch, c, cb, wr):
    """Has the scheduler-buffer partition of a request (to bank ``cb``, a write or not) a free entry?"""
    if P.buforg == BUF_BANKWISE:
        return bk.qlen[cb] < P.bufsize
    if P.buforg == BUF_READWRITE:
        return (ch.cnt_wr[c] if wr else ch.cnt_rd[c]) < P.bufsize
    return ch.cnt_rd[c] + ch.cnt_wr[c] < P.bufsize


@njit(cache=True, inline="always")
def _next_channel_accept(P, bk, ch, fe, rq, now):
    """(cycle, channel) of the next arbiter-queue head a channel controller can take (INF, -1: none)."""
    t_B = INF
    b_c = -1
    for c in range(P.C):
        if fe.aq_len[c] > 0:
            h = fe.aq[c, fe.aq_head[c]]
            if _has_room(P, bk, ch, c, c * P.NBC + rq.bank[h], rq.is_write[h]):
                tb = max(rq.x_acc[h] + P.DFW, now)
                if tb < t_B:
                    t_B = tb
                    b_c = c
    return t_B, b_c


# ------------------------------------------------------------------ command proposals
@njit(cache=True, inline="always")
def _refresh_wanted(P, bk, rk, R):
    """Does rank ``R`` want to refresh now: forced (owed beyond the postponement limit, or already
    committed), or owed / pulled in while its unit's banks have no buffered request?"""
    owed = rk.ref_owed[R]
    if rk.forced[R % P.RK]:
        return True
    if not (owed > 0 or (rk.ref_chain[R] and owed > -P.max_pull)):
        return False
    u = rk.ref_ptr[R]
    rbase = R * P.NBR
    for b in range(P.NBR):  # noqa: SIM110 (numba compiles no generator inside all())
        if bk.qlen[rbase + b] > 0 and _in_unit(P.refpol, u, b, P.BPG):
            return False
    return True


@njit(cache=True, inline="always")
def _refresh_proposal(P, bk, rk, R, tmin):
    """(cycle, kind, rank-local bank or rank) of rank ``R``'s refresh step: precharge the unit's
    earliest open bank (K_REFPRE), or refresh (K_REF) once all of them are closed."""
    t_ref = max(tmin, rk.wake[R])
    if P.refpol != REF_ALLBANK:
        t_ref = max(t_ref, rk.act_ok[R])
    u = rk.ref_ptr[R]
    rbase = R * P.NBR
    any_open = False
    tpre = INF
    bpre = -1
    for b in range(P.NBR):
        if not _in_unit(P.refpol, u, b, P.BPG):
            continue
        cb = rbase + b
        if bk.open_row[cb] >= 0:
            tp = max(max(bk.pre_ok[cb], tmin), rk.wake[R])
            if not any_open or tp < tpre:
                tpre = tp
                bpre = (R % P.RK) * P.NBR + b
            any_open = True
        elif bk.act_ok[cb] > t_ref:
            t_ref = bk.act_ok[cb]
    if any_open:
        return tpre, K_REFPRE, bpre
    return t_ref, K_REF, R % P.RK


@njit(cache=True, inline="always")
def _rank_floors(P, rk, ch, c):
    """Per rank of channel ``c`` and command kind, the earliest cycle from rank timing, the data
    bus (with the rank-switch gap) and power-down exit (into ``rk.floors``)."""
    for r in range(P.RK):
        R = c * P.RK + r
        w = rk.wake[R]
        sw = np.int64(0)
        if ch.data_rank[c] >= 0 and ch.data_rank[c] != r:
            sw = P.RTRS
        rk.floors[r, K_ACT] = max(max(rk.act_ok[R], rk.faw[R, rk.faw_i[R]] + P.FAW), w)
        rk.floors[r, K_PRE] = w
        rk.floors[r, K_RD] = max(max(rk.rd_ok[R], ch.data_free[c] + sw - P.CL), w)
        rk.floors[r, K_WR] = max(max(max(rk.wr_ok[R], ch.wr_ok[c]), ch.data_free[c] + sw - P.CWL), w)


@njit(cache=True, inline="always")
def _scheduler_pick(P, bk, ch, rq, c, cb, b):
    """The bank scheduler's pick among bank ``cb``'s buffered requests: a queue position, or
    SEL_NONE (nothing eligible, or under ``Strict`` a column command out of order)."""
    ql = bk.qlen[cb]
    orow = bk.open_row[cb]
    if P.strict:
        sn = ch.snext[c]
        if sn >= 0 and rq.bank[sn] == b:
            for pp in range(ql):
                if bk.q[cb, pp] == sn:
                    return pp
    sched = P.sched
    filt = -1  # GrpFrFcfsWm: only writes (1) in write mode, only reads (0) otherwise
    if sched == SCHED_GRP_FRFCFS_WM:
        filt = 1 if ch.wmode[c] else 0
    hits_ok = orow >= 0 and (P.hitcap == 0 or bk.streak[cb] <= P.hitcap)
    ld = ch.last_dir[c]
    fa = -1  # oldest
    fd = -1  # oldest in the last direction
    fh = -1  # oldest hit
    fhd = -1  # oldest hit in the last direction
    for pp in range(ql):
        r = bk.q[cb, pp]
        wr_r = rq.is_write[r]
        if filt >= 0 and wr_r != (filt == 1):
            continue
        if fa < 0:
            fa = pp
            if sched == SCHED_FIFO:
                break
        isdir = ld >= 0 and wr_r == (ld == 1)
        if isdir and fd < 0:
            fd = pp
        if hits_ok and rq.row[r] == orow:
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
        return SEL_NONE
    if P.strict and orow >= 0 and rq.row[bk.q[cb, p]] == orow:
        return SEL_NONE  # a column command out of order: wait
    return p


@njit(cache=True, inline="always")
def _bank_proposal(bk, rq, cb, p):
    """Cache bank ``cb``'s proposal for its pick ``p``: RD/WR on a hit, PRE on a conflict, ACT when closed."""
    r = bk.q[cb, p]
    orow = bk.open_row[cb]
    bk.age[cb] = r
    if orow == rq.row[r]:
        bk.kind[cb] = K_WR if rq.is_write[r] else K_RD
        bk.t[cb] = bk.rdwr_ok[cb]
    elif orow >= 0:
        bk.kind[cb] = K_PRE
        bk.t[cb] = bk.pre_ok[cb]
    else:
        bk.kind[cb] = K_ACT
        bk.t[cb] = bk.act_ok[cb]


@njit(cache=True, inline="always")
def _channel_best(P, bk, rk, ch, rq, stats, c, now):
    """Recompute channel ``c``'s best command over all its banks and refreshes, or (after a
    request was accepted into one bank, ``ch.inc_b[c]``) fold that bank's new proposal into the
    cached best. The best is the earliest; ties go to refresh, then to the oldest request."""
    base = c * P.NBC
    tmin = max(now, ch.last_cmd[c] + 1)  # one command per clock on the command bus
    incremental = ch.valid[c]
    if incremental:
        b_lo = ch.inc_b[c]
        b_hi = b_lo + 1
        bt = ch.best_t[c]
        bkind = ch.best_k[c]
        bb = ch.best_b[c]
        bage = ch.best_age[c]
    else:
        stats[S_RECOMP] += 1
        b_lo = 0
        b_hi = P.NBC
        bt = INF
        bkind = K_NONE
        bb = -1
        bage = INF
        for r in range(P.RK):
            rk.forced[r] = False
        if P.refpol != REF_NONE:
            for r in range(P.RK):
                R = c * P.RK + r
                rk.forced[r] = rk.ref_owed[R] > P.max_post or rk.ref_commit[R]
                if _refresh_wanted(P, bk, rk, R):
                    t, kind, who = _refresh_proposal(P, bk, rk, R, tmin)
                    if t < bt:
                        bt = t
                        bkind = kind
                        bb = who
                        bage = -1
    _rank_floors(P, rk, ch, c)
    for b in range(b_lo, b_hi):
        cb = base + b
        if bk.qlen[cb] == 0:
            continue
        r = 0
        if P.RK > 1:
            r = b // P.NBR
        if (
            not incremental
            and rk.forced[r]
            and _in_unit(P.refpol, rk.ref_ptr[c * P.RK + r], b % P.NBR, P.BPG)
        ):
            continue  # the bank is held for a forced refresh
        if bk.sel[cb] == SEL_STALE:
            p = _scheduler_pick(P, bk, ch, rq, c, cb, b)
            bk.sel[cb] = p
            if p >= 0:
                _bank_proposal(bk, rq, cb, p)
        if bk.sel[cb] < 0:
            continue
        t = bk.t[cb]
        if t > bt:
            continue  # cannot beat the best so far: constraints only add to it
        kind = bk.kind[cb]
        t = max(max(t, tmin), max(rk.floors[r, kind], ch.group_ok[kind, bk.group[cb]]))
        a = bk.age[cb]
        if (t < bt) | ((t == bt) & (a < bage)):
            bt = t
            bkind = kind
            bb = b
            bage = a
    ch.best_t[c] = bt
    ch.best_k[c] = bkind
    ch.best_b[c] = bb
    ch.best_age[c] = bage
    ch.valid[c] = True
    ch.inc_b[c] = -1


@njit(cache=True, inline="always")
def _next_command(P, bk, rk, ch, rq, stats, now):
    """(cycle, channel) of the earliest command of any channel, refreshing stale cached bests."""
    t_C = INF
    c_c = -1
    for c in range(P.C):
        if not ch.valid[c] or ch.inc_b[c] >= 0:
            _channel_best(P, bk, rk, ch, rq, stats, c, now)
        if ch.best_t[c] < t_C:
            t_C = ch.best_t[c]
            c_c = c
    return t_C, c_c


# ------------------------------------------------------------------ events
@njit(cache=True, inline="always")
def _on_refresh_tick(P, bk, rk, ch, stats, R, now):
    """E: one more refresh is owed on rank ``R``; an idle rank about to refresh leaves power-down."""
    rk.ref_owed[R] += 1
    rk.ref_next[R] += P.ref_interval
    ch.valid[R // P.RK] = False
    owed = rk.ref_owed[R]
    if P.pdpol != PD_NONE and rk.idle_from[R] >= 0 and (owed > 0 or (rk.ref_chain[R] and owed > -P.max_pull)):
        _leave_power_down(P, rk, bk.open_row, stats, R, now)
        rk.idle_from[R] = -1


@njit(cache=True, inline="always")
def _on_send(P, fe, rq, i, front_free, now):
    """A: request ``i`` is sent (BEGIN_REQ) and accepted by the arbiter (END_REQ) at ``now``."""
    rq.t_send[i] = max(rq.arrival[i], front_free)
    rq.x_acc[i] = now
    c = rq.chan[i]
    fe.aq[c, (fe.aq_head[c] + fe.aq_len[c]) % P.aqcap] = i
    fe.aq_len[c] += 1


@njit(cache=True, inline="always")
def _on_channel_accept(P, bk, rk, ch, fe, rq, stats, c, now):
    """B: channel ``c`` takes the head of its arbiter queue into its scheduler buffer."""
    h = fe.aq[c, fe.aq_head[c]]
    fe.aq_head[c] = (fe.aq_head[c] + 1) % P.aqcap
    fe.aq_len[c] -= 1
    rq.t_acc[h] = now
    bh = rq.bank[h]
    cb = c * P.NBC + bh
    R = cb // P.NBR
    bk.q[cb, bk.qlen[cb]] = h
    bk.qlen[cb] += 1
    rk.cnt[R] += 1
    if rq.is_write[h]:
        ch.cnt_wr[c] += 1
    else:
        ch.cnt_rd[c] += 1
    bk.sel[cb] = SEL_STALE
    rk.ref_chain[R] = False
    woke = False
    if rk.idle_from[R] >= 0:
        if P.pdpol != PD_NONE:
            woke = _leave_power_down(P, rk, bk.open_row, stats, R, now)
        rk.idle_from[R] = -1
    mode_changed = False
    if P.sched == SCHED_GRP_FRFCFS_WM:
        mode_changed = _update_write_mode(P, ch, bk.sel, c)
    kind = ch.best_k[c]
    if (
        ch.valid[c]
        and ch.inc_b[c] < 0
        and not woke
        and not mode_changed
        and kind != K_REF
        and kind != K_REFPRE
        and ch.best_b[c] != bh
        and rk.ref_owed[R] <= P.max_post
        and not rk.ref_commit[R]
    ):
        ch.inc_b[c] = bh  # only this bank's proposal changed: fold it into the cached best
    else:
        ch.valid[c] = False
        ch.inc_b[c] = -1


@njit(cache=True, inline="always")
def _issue_refresh(P, bk, rk, stats, log, n_log, R, t):
    """C, REF: refresh rank ``R``'s current unit; returns the background log and its length."""
    u = rk.ref_ptr[R]
    rbase = R * P.NBR
    for b in range(P.NBR):
        if _in_unit(P.refpol, u, b, P.BPG):
            cb = rbase + b
            bk.sel[cb] = SEL_STALE
            if bk.act_ok[cb] < t + P.ref_dur:
                bk.act_ok[cb] = t + P.ref_dur
    if P.refpol == REF_ALLBANK:
        stats[S_REFAB] += 1
    else:
        stats[S_REFUNIT] += 1
        if rk.act_ok[R] < t + P.RRDS:
            rk.act_ok[R] = t + P.RRDS
    stats[S_REFBANKCYC] += P.ref_dur * P.unit_size
    rk.ref_owed[R] -= 1
    rk.ref_commit[R] = False
    rk.ref_chain[R] = True
    rk.ref_ptr[R] = (rk.ref_ptr[R] + 1) % P.n_units
    if rk.busy_until[R] < t + P.ref_dur:
        rk.busy_until[R] = t + P.ref_dur
    if rk.cnt[R] == 0:
        rk.idle_from[R] = rk.busy_until[R]
    return _log_interval(log, n_log, t, t + P.ref_dur, R)


@njit(cache=True, inline="always")
def _issue_precharge(P, bk, rk, rq, stats, log, kind, cb, R, t):
    """C, PRE (for a request: a row conflict) or REFPRE (closing a bank for a refresh)."""
    if kind == K_REFPRE:
        rk.ref_commit[R] = True
    else:
        r = bk.q[cb, bk.sel[cb]]
        if not rq.served[r]:
            rq.served[r] = True
            stats[S_CONF] += 1
    bk.open_row[cb] = -1
    if bk.act_ok[cb] < t + P.RP:
        bk.act_ok[cb] = t + P.RP
    if rk.busy_until[R] < t + P.RP:
        rk.busy_until[R] = t + P.RP
    log[IV_END, bk.interval[cb]] = t
    bk.sel[cb] = SEL_STALE
    stats[S_PRE] += 1


@njit(cache=True, inline="always")
def _issue_activate(P, bk, rk, ch, rq, stats, log, n_log, cb, R, t):
    """C, ACT: open the picked request's row (a row miss); returns the background log and its length."""
    r = bk.q[cb, bk.sel[cb]]
    if not rq.served[r]:
        rq.served[r] = True
        stats[S_MISS] += 1
    bk.open_row[cb] = rq.row[r]
    bk.streak[cb] = 0
    bk.rdwr_ok[cb] = t + P.RCD
    if bk.pre_ok[cb] < t + P.RAS:
        bk.pre_ok[cb] = t + P.RAS
    if bk.act_ok[cb] < t + P.RC:
        bk.act_ok[cb] = t + P.RC
    if rk.act_ok[R] < t + P.RRDS:
        rk.act_ok[R] = t + P.RRDS
    g = bk.group[cb]
    if ch.group_ok[K_ACT, g] < t + P.RRDL:
        ch.group_ok[K_ACT, g] = t + P.RRDL
    rk.faw[R, rk.faw_i[R]] = t
    rk.faw_i[R] = (rk.faw_i[R] + 1) & 3
    bk.sel[cb] = SEL_STALE
    stats[S_ACT] += 1
    bk.interval[cb] = n_log
    return _log_interval(log, n_log, t, INF, R)


@njit(cache=True, inline="always")
def _auto_precharge(P, bk, rq, cb):
    """Does the page policy close bank ``cb``'s row with the column command just issued?"""
    if P.page == PAGE_CLOSED:
        return True
    if P.page == PAGE_OPEN:
        return False
    orow = bk.open_row[cb]
    nrem = bk.qlen[cb]
    all_miss = True
    for pp in range(nrem):
        if rq.row[bk.q[cb, pp]] == orow:
            all_miss = False
            break
    if P.page == PAGE_OPEN_ADAPTIVE:
        return nrem > 0 and all_miss
    return all_miss


@njit(cache=True, inline="always")
def _issue_column(P, bk, rk, ch, rq, stats, log, kind, c, b, cb, R, t):
    """C, RD/WR (with auto-precharge when the page policy says so) for the picked request (a
    row hit); it leaves the buffer. Returns the request."""
    p = bk.sel[cb]
    r = bk.q[cb, p]
    if not rq.served[r]:
        rq.served[r] = True
        stats[S_HIT] += 1
    bk.streak[cb] += 1
    ql = bk.qlen[cb]
    for pp in range(p, ql - 1):
        bk.q[cb, pp] = bk.q[cb, pp + 1]
    bk.qlen[cb] = ql - 1
    rk.cnt[R] -= 1
    bk.sel[cb] = SEL_STALE
    wr = kind == K_WR
    r_ch = b // P.NBR
    if ch.data_rank[c] >= 0 and ch.data_rank[c] != r_ch:
        stats[S_RANKSW] += 1
    ch.data_rank[c] = r_ch
    g = bk.group[cb]
    if wr:
        ch.cnt_wr[c] -= 1
        stats[S_WR] += 1
        d_end = t + P.CWL + P.BURST
        if rk.wr_ok[R] < t + P.CCDS:
            rk.wr_ok[R] = t + P.CCDS
        if ch.group_ok[K_WR, g] < t + P.CCDLWR:
            ch.group_ok[K_WR, g] = t + P.CCDLWR
        if rk.rd_ok[R] < d_end + P.WTRS:
            rk.rd_ok[R] = d_end + P.WTRS
        if ch.group_ok[K_RD, g] < d_end + P.WTRL:
            ch.group_ok[K_RD, g] = d_end + P.WTRL
        tp = max(bk.pre_ok[cb], d_end + P.WR)
    else:
        ch.cnt_rd[c] -= 1
        stats[S_RD] += 1
        d_end = t + P.CL + P.BURST
        if rk.rd_ok[R] < t + P.CCDS:
            rk.rd_ok[R] = t + P.CCDS
        if ch.group_ok[K_RD, g] < t + P.CCDL:
            ch.group_ok[K_RD, g] = t + P.CCDL
        if ch.wr_ok[c] < t + P.RTW:
            ch.wr_ok[c] = t + P.RTW
        tp = max(bk.pre_ok[cb], t + P.RTP)
    bk.pre_ok[cb] = tp
    ch.data_free[c] = d_end
    dirn = 1 if wr else 0
    if ch.last_dir[c] != dirn:
        if ch.last_dir[c] >= 0:
            stats[S_TURN] += 1  # read/write turnaround on the data bus
        if P.sched == SCHED_FRFCFS_GRP or P.sched == SCHED_GRP_FRFCFS:
            for bb in range(P.NBC):
                bk.sel[c * P.NBC + bb] = SEL_STALE
    ch.last_dir[c] = dirn
    if rk.busy_until[R] < d_end:
        rk.busy_until[R] = d_end
    if _auto_precharge(P, bk, rq, cb):
        bk.open_row[cb] = -1
        if bk.act_ok[cb] < tp + P.RP:
            bk.act_ok[cb] = tp + P.RP
        if rk.busy_until[R] < tp + P.RP:
            rk.busy_until[R] = tp + P.RP
        log[IV_END, bk.interval[cb]] = tp
        stats[S_APRE] += 1
    if rk.cnt[R] == 0:
        rk.idle_from[R] = rk.busy_until[R]
    rq.t_cas[r] = t
    rq.done[r] = d_end
    if P.strict:  # the channel's next request in order, and its bank picks again
        sn = ch.snext[c]
        while sn >= 0 and rq.t_cas[sn] >= 0:
            sn = rq.nxt_same[sn]
        ch.snext[c] = sn
        if sn >= 0:
            bk.sel[c * P.NBC + rq.bank[sn]] = SEL_STALE
    if P.sched == SCHED_GRP_FRFCFS_WM:
        _update_write_mode(P, ch, bk.sel, c)
    return r


@njit(cache=True, inline="always")
def _release_responses(P, ch, fe, rq, c, r, pend_n):
    """The response queue releases what it can after request ``r`` completed (Fifo: ``r``;
    Reorder: the channel's requests in order); the delivery cycles that became known go to
    ``fe.pend`` (the Simple arbiter keeps none). Returns the new count there."""
    if P.respq == RESPQ_FIFO:
        rq.rel[r] = rq.done[r]
        if P.arb != ARB_REORDER:
            rq.t_resp[r] = rq.done[r] + P.DBW
            if P.arb != ARB_SIMPLE:
                fe.pend[pend_n] = rq.t_resp[r]
                pend_n += 1
        return pend_n
    j = ch.rel_ptr[c]
    while j >= 0 and rq.done[j] >= 0:
        v = max(rq.done[j], ch.last_rel[c])
        ch.last_rel[c] = v
        rq.rel[j] = v
        if P.arb != ARB_REORDER:
            rq.t_resp[j] = v + P.DBW
            if P.arb != ARB_SIMPLE:
                fe.pend[pend_n] = rq.t_resp[j]
                pend_n += 1
        j = rq.nxt_same[j]
    ch.rel_ptr[c] = j
    return pend_n


@njit(cache=True, inline="always")
def _release_in_order(P, fe, rq, n, g_ptr, last_deliv, pend_n):
    """Reorder arbiter: deliver released responses in the initiator's request order. Returns
    ``(g_ptr, last_deliv, pend_n)``."""
    while g_ptr < n and rq.rel[g_ptr] >= 0:
        v = max(rq.rel[g_ptr] + P.DBW, last_deliv)
        last_deliv = v
        rq.t_resp[g_ptr] = v
        fe.pend[pend_n] = v
        pend_n += 1
        g_ptr += 1
    return g_ptr, last_deliv, pend_n


# ------------------------------------------------------------------ end of the run
@njit(cache=True, inline="always")
def _busy_cycles(log, n_log, nr, t0, t_end):
    """Cycles during which a rank had a bank open or refreshing: the union of its background
    intervals clipped to ``[t0, t_end]``, summed over the ranks (intervals are in start order)."""
    cur_s = np.full(nr, -1, np.int64)
    cur_e = np.full(nr, -1, np.int64)
    total = np.int64(0)
    for kk in range(n_log):
        R = log[IV_RANK, kk]
        s = max(log[IV_START, kk], t0)
        e = min(log[IV_END, kk], t_end)
        if e <= s:
            continue
        if cur_e[R] < 0 or s > cur_e[R]:
            if cur_e[R] > 0:
                total += cur_e[R] - cur_s[R]
            cur_s[R] = s
            cur_e[R] = e
        elif e > cur_e[R]:
            cur_e[R] = e
    for R in range(nr):
        if cur_e[R] > 0:
            total += cur_e[R] - cur_s[R]
    return total


@njit(cache=True, inline="always")
def _finish(P, bk, rk, rq, stats, log, n_log):
    """End-of-run statistics: last delivery, refreshes still owed, power-down of ranks idle at
    the end, background (bank open or refreshing) cycles."""
    t_end = np.int64(0)
    for i in range(rq.t_resp.shape[0]):
        if rq.t_resp[i] > t_end:
            t_end = rq.t_resp[i]
    stats[S_TEND] = t_end
    if P.refpol != REF_NONE:
        for R in range(P.NR):
            if rk.ref_owed[R] > 0:
                stats[S_REFOWED] += rk.ref_owed[R]  # postponed refreshes still owed at the end
    if P.pdpol != PD_NONE:  # ranks idle at the end of the window
        for R in range(P.NR):
            if rk.idle_from[R] >= 0 and t_end > rk.idle_from[R] + P.pdto:
                _charge_power_down(stats, bk.open_row, R, P.NBR, t_end - rk.idle_from[R] - P.pdto)
    stats[S_ACTIVE] = _busy_cycles(log, n_log, P.NR, stats[S_TFIRST], t_end)


# ------------------------------------------------------------------ the kernel
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
    P = _params(cfg, geo, tim, n)
    bk = _new_banks(P)
    rk = _new_ranks(P, arrival[0] if n > 0 else -1)
    ch = _new_channels(P, chan, n)
    rq = _new_requests(arrival, chan, bank, row, is_write, ch)
    fe = _new_front_end(P, n)
    log = np.zeros((3, n + 64), np.int64)  # background intervals (bank open or refreshing) per rank
    n_log = 0
    stats = np.zeros(N_STATS, np.int64)
    stats[S_NUNITS] = P.n_units
    if n > 0:
        stats[S_TFIRST] = arrival[0]
    heap_n = 0  # active transactions whose delivery cycle is known
    pend_n = 0
    active = 0  # transactions in flight (sent, not delivered)
    nxt = 0  # next request to send
    aq_total = 0  # requests in the arbiter queues
    front_free = np.int64(0)  # the initiator may send again from this cycle
    g_ptr = 0  # Reorder arbiter: next request to deliver in order
    last_deliv = np.int64(0)
    n_cas = 0
    now = np.int64(0)
    tb_valid = False  # t_B, b_c are up to date (recomputed after queue or buffer changes)
    t_B = INF
    b_c = -1
    while n_cas < n:
        # ---------------------------------------------------------- next events
        t_D = fe.heap[0] if P.arb != ARB_SIMPLE and heap_n > 0 else INF
        t_E, e_r = _next_refresh_tick(P, rk)
        t_A = INF
        if nxt < n and (
            (P.arb == ARB_SIMPLE and aq_total == 0) or (P.arb != ARB_SIMPLE and active < P.maxact)
        ):
            t_A = max(max(arrival[nxt], front_free), now)
        if not tb_valid:
            t_B, b_c = _next_channel_accept(P, bk, ch, fe, rq, now)
            tb_valid = True
        t_C, c_c = _next_command(P, bk, rk, ch, rq, stats, now)
        t_next = min(min(t_D, t_E), min(min(t_A, t_B), t_C))
        if t_next >= INF:
            stats[S_ERR] = 1  # deadlock: nothing can ever happen (a bug)
            break
        now = t_next
        stats[S_EVENTS] += 1
        if t_D == now:  # D: delivery
            heap_n = _heap_pop(fe.heap, heap_n)
            active -= 1
        elif t_E == now:  # E: refresh tick
            _on_refresh_tick(P, bk, rk, ch, stats, e_r, now)
        elif t_A == now:  # A: send + arbiter accept
            _on_send(P, fe, rq, nxt, front_free, now)
            aq_total += 1
            active += 1
            tb_valid = False
            nxt += 1
            if P.arb != ARB_SIMPLE:
                front_free = now + 1
        elif t_B == now:  # B: channel accept
            _on_channel_accept(P, bk, rk, ch, fe, rq, stats, b_c, now)
            aq_total -= 1
            tb_valid = False
            if P.arb == ARB_SIMPLE:
                front_free = now + 1
        else:  # C: command
            c = c_c
            kind = ch.best_k[c]
            b = ch.best_b[c]
            ch.last_cmd[c] = now
            ch.valid[c] = False
            if kind == K_REF:
                log, n_log = _issue_refresh(P, bk, rk, stats, log, n_log, c * P.RK + b, now)
                continue
            cb = c * P.NBC + b
            R = cb // P.NBR
            if kind == K_PRE or kind == K_REFPRE:
                _issue_precharge(P, bk, rk, rq, stats, log, kind, cb, R, now)
            elif kind == K_ACT:
                log, n_log = _issue_activate(P, bk, rk, ch, rq, stats, log, n_log, cb, R, now)
            else:
                r = _issue_column(P, bk, rk, ch, rq, stats, log, kind, c, b, cb, R, now)
                tb_valid = False
                n_cas += 1
                pend_n = _release_responses(P, ch, fe, rq, c, r, pend_n)
                if P.arb == ARB_REORDER:
                    g_ptr, last_deliv, pend_n = _release_in_order(P, fe, rq, n, g_ptr, last_deliv, pend_n)
                for pi in range(pend_n):  # the newly known deliveries join the heap
                    heap_n = _heap_push(fe.heap, heap_n, fe.pend[pi])
                pend_n = 0
    _finish(P, bk, rk, rq, stats, log, n_log)
    return rq.t_send, rq.t_acc, rq.t_resp, rq.t_cas, stats
