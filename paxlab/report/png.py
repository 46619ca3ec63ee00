"""PNG plots of a report model, for terminals and issue trackers: the run's timeline
(throughput, latency percentiles, leaders, commits, with faults shaded and labelled) and
one lane per client with each op from invoke to completion.

matplotlib is optional (`pip install 'paxlab[plots]'`) and imported only here, lazily, so
the HTML report works without it. Figures are drawn on Agg canvases without pyplot, so
no global backend or figure registry is touched, and saved with fixed metadata, so one
model gives the same bytes on one matplotlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["INSTALL_HINT", "PlotsUnavailable", "png_names", "write_pngs"]

INSTALL_HINT = "PNG plots need matplotlib: pip install 'paxlab[plots]'"

_TIMELINE = "report-timeline.png"
_CLIENTS = "report-clients.png"
_OUTCOME_COLOURS = {"ok": "#2e7d32", "fail": "#c62828", "info": "#ef6c00"}
_FAULT_COLOUR = "#9e9e9e"
_DPI = 100
_METADATA = {"Software": None}  # no version string: the same model, the same bytes


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed; the message says how to install it."""


def png_names() -> tuple[str, str]:
    """The file names write_pngs writes, in its order."""
    return (_TIMELINE, _CLIENTS)


def _matplotlib() -> tuple[Any, Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotsUnavailable(INSTALL_HINT) from None
    return Figure, FigureCanvasAgg, LineCollection


def write_pngs(model: dict[str, Any], folder: Path) -> list[Path]:
    """Draw the timeline and the client lanes of `model` into `folder`; the paths written.
    Raises PlotsUnavailable without matplotlib."""
    figure_cls, canvas_cls, lines_cls = _matplotlib()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in ((_TIMELINE, _timeline), (_CLIENTS, _client_lanes)):
        figure = figure_cls(figsize=(12, 8), dpi=_DPI)
        canvas_cls(figure)
        draw(figure, model, lines_cls)
        path = folder / name
        tmp = folder / f".{name}.tmp"
        figure.savefig(tmp, format="png", dpi=_DPI, metadata=_METADATA)
        tmp.replace(path)
        written.append(path)
    return written


def _s(t_us: float) -> float:
    return t_us / 1e6


def _title(model: dict[str, Any]) -> str:
    run = model["run"]
    parts = [run["name"], run["driver"]]
    if run.get("seed") is not None:
        parts.append(f"seed {run['seed']}")
    if run.get("mutant"):
        parts.append(f"mutant {run['mutant']}")
    if run.get("partial"):
        parts.append("PARTIAL")
    return " | ".join(parts) + f"\n{model['verdict']['overall']}"


def _shade_faults(axes: list[Any], model: dict[str, Any], label_axis: Any | None) -> None:
    """Each fault as a grey band on every axis, labelled once on `label_axis`."""
    end_us = model["run"]["end_us"]
    for i, fault in enumerate(model["faults"]):
        start = _s(fault["start_us"])
        stop = _s(fault["end_us"] if fault["end_us"] is not None else end_us)
        for axis in axes:
            axis.axvspan(start, max(stop, start + 1e-4), color=_FAULT_COLOUR, alpha=0.18, lw=0)
        if label_axis is not None:
            label_axis.text(start, 1.0 - 0.05 * (i % 4), f" {fault['label']}",
                            transform=label_axis.get_xaxis_transform(), fontsize=7,
                            va="top", ha="left", clip_on=True)


def _timeline(figure: Any, model: dict[str, Any], lines_cls: Any) -> None:
    series = model["series"]
    t = [_s(x) for x in series["t_us"]]
    width = _s(series["bucket_us"])
    axes = figure.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": [3, 3, 1, 2]})
    throughput, latency, leaders, commits = axes
    figure.suptitle(_title(model), fontsize=10)
    per_s = 1 / width if width else 0
    throughput.step(t, [n * per_s for n in series["ok"]], where="post", color="#2e7d32",
                    label="ok/s")
    for kind in ("fail", "info"):
        if any(series[kind]):
            throughput.step(t, [n * per_s for n in series[kind]], where="post",
                            color=_OUTCOME_COLOURS[kind], label=f"{kind}/s")
    throughput.set_ylabel("ops/s")
    throughput.legend(loc="upper right", fontsize=7)
    for name, colour in (("p50_ms", "#1565c0"), ("p95_ms", "#6a1b9a"), ("p99_ms", "#ad1457")):
        values = [float("nan") if v is None else v for v in series[name]]
        latency.plot(t, values, marker=".", ms=2, lw=0.8, color=colour, label=name[:3])
    if any(v for v in series["p99_ms"] if v):
        latency.set_yscale("log")  # p50 and p99 differ by orders of magnitude under faults
    latency.set_ylabel("latency ms")
    latency.legend(loc="upper right", fontsize=7)
    _leader_lane(leaders, model)
    _commit_lane(commits, model)
    _shade_faults(list(axes), model, throughput)
    commits.set_xlabel("time since the run started (s)")
    commits.set_xlim(0, max(_s(model["run"]["end_us"]), 1e-3))


def _leader_lane(axis: Any, model: dict[str, Any]) -> None:
    nodes = model["nodes"]
    palette = ["#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00acc1", "#6d4c41", "#d81b60"]
    for reign in model["leaders"]:
        start, stop = _s(reign["start_us"]), _s(reign["end_us"])
        axis.broken_barh([(start, max(stop - start, 1e-4))], (0.1, 0.8),
                         color=palette[reign["node"] % len(palette)])
        axis.text(start, 0.5, f" {nodes[reign['node']]} b{reign['ballot']}", va="center",
                  fontsize=7, clip_on=True)
    axis.set_yticks([])
    axis.set_ylabel("leader", rotation=0, ha="right", va="center")


def _commit_lane(axis: Any, model: dict[str, Any]) -> None:
    commits = model["commits"]
    axis.plot([_s(t) for t in commits["t_us"]], commits["height"], ".", ms=2, color="#37474f")
    axis.set_ylabel("height chosen")


def _client_lanes(figure: Any, model: dict[str, Any], lines_cls: Any) -> None:
    """One lane per client: each op a horizontal segment, coloured by outcome; crashed
    clients' down intervals hatched."""
    axis = figure.subplots(1, 1)
    figure.suptitle(_title(model), fontsize=10)
    ops = model["ops"]
    clients = sorted(set(ops["client"]))
    lane = {c: i for i, c in enumerate(clients)}
    for kind, colour in _OUTCOME_COLOURS.items():
        for parity, alpha in ((0, 1.0), (1, 0.55)):  # back-to-back ops in two tones
            segments = [((_s(a), lane[c]), (_s(b), lane[c])) for c, s, a, b, k in zip(
                ops["client"], ops["seq"], ops["invoke_us"], ops["end_us"], ops["type"],
                strict=True) if k == kind and s % 2 == parity]
            if segments:
                axis.add_collection(lines_cls(segments, colors=colour, linewidths=6,
                                              alpha=alpha, label=kind if parity == 0 else None))
    nodes = model["nodes"]
    for down in model["down"]:
        name = nodes[down["node"]]
        if name.startswith("c") and name[1:].isdigit() and int(name[1:]) in lane:
            y = lane[int(name[1:])]
            axis.broken_barh([(_s(down["start_us"]), _s(down["end_us"] - down["start_us"]))],
                             (y - 0.4, 0.8), facecolor="none", hatch="///", edgecolor="#555")
    _shade_faults([axis], model, axis)
    axis.set_yticks(range(len(clients)), [f"c{c}" for c in clients])
    axis.set_ylim(-0.6, max(len(clients) - 0.4, 0.6))
    axis.set_xlim(0, max(_s(model["run"]["end_us"]), 1e-3))
    axis.set_xlabel("time since the run started (s)")
    if ops["client"]:
        axis.legend(loc="upper right", fontsize=7)
