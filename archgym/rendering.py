"""What an archgym env shows: its last evaluated design as text (``"ansi"``) or an image (``"rgb_array"``).

The image is a small bar chart of each metric against its reference (the objective's
target where there is one, else the simulator's declared scale), with the reference drawn
at 1, so a glance says which metric misses its target and by how much. It is drawn with
matplotlib's Agg canvas (no display needed) into an ``(H, W, 3)`` ``uint8`` array, the
format Gymnasium's ``RecordVideo`` and SB3's ``VecVideoRecorder`` take.

An unknown mode raises :class:`~archgym.errors.RenderModeError`: a configuration error (one
line and exit 2 on the command line) that is also Gymnasium's
:class:`~gymnasium.error.UnsupportedMode`, its error for a render mode an env does not support.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from archgym.errors import RenderModeError

if TYPE_CHECKING:
    from archgym.env import ArchGymEnv
    from archgym.evaluation import Evaluation

RENDER_MODES = ("ansi", "rgb_array")
#: the rgb_array image: width x height in inches at this many dots per inch
FIGURE_INCHES = (4.0, 3.0)
FIGURE_DPI = 80
#: bars are cut at this multiple of the reference so one huge miss does not flatten the rest
MAX_RATIO_SHOWN = 4.0


def check_render_mode(render_mode: str | None) -> None:
    """Refuse a render mode archgym's envs do not offer (:class:`~archgym.errors.RenderModeError`)."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise RenderModeError(f"render_mode must be one of {list(RENDER_MODES)} or None, got {render_mode!r}")


def render(env: ArchGymEnv, ev: Evaluation | None, step: int, mode: str | None) -> Any:
    """``env``'s view of evaluation ``ev`` at episode step ``step`` in ``mode`` (None: nothing)."""
    if mode == "ansi":
        return render_text(env, ev, step)
    if mode == "rgb_array":
        return render_rgb(env, ev, step)
    return None


def _title(env: ArchGymEnv) -> str:
    return f"{env.env_id or type(env).__name__} [{env.workload_name}]"


def render_text(env: ArchGymEnv, ev: Evaluation | None, step: int) -> str:
    """The design, its metrics and its error (if any) as lines of text."""
    if ev is None:
        return f"{_title(env)}: no design evaluated yet\n"
    lines = [
        f"{_title(env)} step {step}: reward {ev.reward:.4f}"
        + (" (target met)" if ev.success else "")
        + ("" if ev.feasible else " (infeasible)")
    ]
    lines += [f"  {k} = {v}" for k, v in ev.design.items()]
    if ev.metrics:
        lines += [f"  -> {m.name} = {ev.metrics[m.name]:.4g} {m.unit}" for m in env.simulator.metrics]
    if ev.error:
        lines.append(f"  error: {ev.error}")
    return "\n".join(lines) + "\n"


def metric_ratios(env: ArchGymEnv, ev: Evaluation | None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Metric names, value / reference per metric (NaN when not simulated), and which have a target."""
    names = list(env.simulator.metric_names)
    scales = {m.name: m.scale for m in env.simulator.metrics}
    targets = env.objective.reference_scales()
    scales.update(targets)
    ratios = np.full(len(names), np.nan)
    if ev is not None and ev.metrics is not None:
        ratios = np.array([ev.metrics[n] / scales[n] for n in names], dtype=np.float64)
    has_target = np.array([n in targets for n in names], dtype=bool)
    return names, ratios, has_target


def render_rgb(env: ArchGymEnv, ev: Evaluation | None, step: int) -> np.ndarray:
    """A bar chart of metric / reference (target line at 1) as an ``(H, W, 3)`` uint8 image.

    Green: the metric meets its target; red: it misses it; grey: a metric without a target.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names, ratios, has_target = metric_ratios(env, ev)
    fig = Figure(figsize=FIGURE_INCHES, dpi=FIGURE_DPI)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    shown = np.clip(np.nan_to_num(ratios, nan=0.0), 0.0, MAX_RATIO_SHOWN)
    lower = [m.better == "lower" for m in env.simulator.metrics]
    meets = [(r <= 1.0) if lo else (r >= 1.0) for r, lo in zip(ratios, lower)]  # NaN meets nothing
    colours = [("tab:green" if ok else "tab:red") if t else "tab:grey" for ok, t in zip(meets, has_target)]
    ax.barh(range(len(names)), shown, color=colours)
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.invert_yaxis()  # first metric on top, as listed
    ax.set_xlim(0.0, MAX_RATIO_SHOWN)
    ax.set_xlabel("value / target (or scale)", fontsize=7)
    ax.tick_params(axis="x", labelsize=6)
    if ev is None:
        status = "no design yet"
    else:
        status = f"step {step}  reward {ev.reward:.3f}" + ("" if ev.feasible else "  infeasible")
    ax.set_title(f"{_title(env)}\n{status}", fontsize=7)
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
