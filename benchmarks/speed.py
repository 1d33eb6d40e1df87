"""Speed benchmark: inference latency of structurally pruned models vs dense and vs masked-dense.

For LSTM, GRU and RNN classifiers of hidden size 128 (and 512 in full mode) on row-MNIST-shaped
input (28 steps of 28 features), batch 1 and batch 256, five variants of the same model:

- ``dense``: the model as built;
- ``masked (hooks)``: magnitude pruning of 90% of every weight matrix (``scope="all"``) through
  ``torch.nn.utils.prune`` masks — the effective weight is recomputed before every forward pass;
- ``masked (zeros)``: the same masks made permanent (zeros stored in dense matrices, no hooks);
- ``units 50%`` and ``units 25%``: magnitude-units pruning keeping 50% / 25% of the hidden units,
  physically removed (``surgery.remove_units``): smaller dense matrices.

Every variant's latency is the median over repeats of one forward pass (``torch.no_grad``, eval
mode), the variants of one (model, batch) timed interleaved in the same run. The measured
speedup (dense latency / variant latency) is reported next to the FLOP ratio (dense FLOPs /
variant FLOPs, :func:`lattice_lab.metrics.flops`, which counts only nonzero weights): masks cut
FLOPs on paper but dense kernels do the same work, while removing units shrinks the matrices
themselves. CPU always; CUDA too when ``torch.cuda.is_available()``.

Usage::

    python -m benchmarks.speed [--kinds lstm gru rnn] [--hidden 128 512] [--batches 1 256] [--out DIR]

Writes ``speed.json`` and ``speed.png`` (``speed_fast.*`` in fast mode) under ``--out``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from lattice_lab import metrics, prune
from lattice_lab.models import build
from lattice_lab.settings import fast
from lattice_lab.surgery import make_permanent

from .common import (RESULTS, command_line, interleaved_seconds, machine_info, median_seconds, report_path,
                     save_figure, set_threads, write_report)

SEQ_LEN = 28
INPUT_SIZE = 28
MASK_AMOUNT = 0.9


def variants(kind: str, hidden: int, seed: int = 0) -> dict[str, torch.nn.Module]:
    """The five variants of one randomly initialized classifier (see the module docstring), in eval mode."""
    torch.manual_seed(seed)
    dense = build({"kind": kind, "input_size": INPUT_SIZE, "hidden_size": hidden, "num_classes": 10})
    masked = prune(dense, "magnitude", MASK_AMOUNT, scope="all").model
    out = {
        "dense": dense,
        "masked (hooks)": masked,
        "masked (zeros)": make_permanent(masked),
        "units 50%": prune(dense, "magnitude-units", 0.5).model,
        "units 25%": prune(dense, "magnitude-units", 0.75).model,
    }
    return {name: model.eval() for name, model in out.items()}


def _forward(model: torch.nn.Module, x: torch.Tensor):
    def call():
        with torch.no_grad():
            model(x)
    return call


def measure(kind: str, hidden: int, batch: int, device: torch.device, *, repeats: int | None,
            budget_s: float) -> list[dict[str, Any]]:
    """Rows (one per variant) of latency, speedup and FLOP ratio for one model size and batch."""
    models = {name: m.to(device) for name, m in variants(kind, hidden).items()}
    x = torch.randn(batch, SEQ_LEN, INPUT_SIZE, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    calls = {name: _forward(m, x) for name, m in models.items()}
    if repeats is None:  # as many as fit the budget, between 5 and 100
        probe = median_seconds(calls["dense"], 3, warmup=1, sync=sync)["median_s"]
        repeats = int(min(100, max(5, budget_s / (len(calls) * max(probe, 1e-6)))))
    timings = interleaved_seconds(calls, repeats, warmup=2, sync=sync)
    dense_flops = metrics.flops(models["dense"], SEQ_LEN)
    base = timings["dense"]["median_s"]
    rows = []
    for name, model in models.items():
        flops = metrics.flops(model, SEQ_LEN)
        rows.append({"device": device.type, "kind": kind, "hidden": hidden, "batch": batch, "variant": name,
                     "hidden_units": metrics.hidden_units(model), "latency_ms": 1000 * timings[name]["median_s"],
                     "speedup": base / timings[name]["median_s"], "flops": flops, "flop_ratio": dense_flops / flops,
                     "params_nonzero": metrics.params_nonzero(model), "repeats": timings[name]["repeats"],
                     "min_ms": 1000 * timings[name]["min_s"], "max_ms": 1000 * timings[name]["max_s"]})
    return rows


def plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Measured speedup against the FLOP ratio, one point per (model, batch, variant); y = x dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    markers = {"masked (hooks)": "x", "masked (zeros)": "+", "units 50%": "o", "units 25%": "s", "dense": "."}
    colours = {1: "#1f77b4", 256: "#d62728"}
    for r in rows:
        if r["variant"] == "dense":
            continue
        ax.scatter(r["flop_ratio"], r["speedup"], marker=markers[r["variant"]],
                   color=colours.get(r["batch"], "#7f7f7f"), alpha=0.8)
    top = max(max(r["flop_ratio"] for r in rows), max(r["speedup"] for r in rows))
    ax.plot([1, top], [1, top], "k--", lw=1, label="speedup = FLOP ratio")
    for variant, marker in markers.items():
        if variant != "dense":
            ax.scatter([], [], marker=marker, color="#444444", label=variant)
    for batch, colour in colours.items():
        ax.scatter([], [], marker="o", color=colour, label=f"batch {batch}")
    ax.axhline(1, color="#999999", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("FLOP ratio (dense / variant)")
    ax.set_ylabel("measured speedup (dense latency / variant)")
    ax.set_title("Masks cut FLOPs on paper; removing units cuts time")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure every (device, kind, hidden, batch); write the JSON report and the plot; return the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", nargs="+", default=["lstm", "gru", "rnn"], choices=["lstm", "gru", "rnn", "irnn"])
    parser.add_argument("--hidden", type=int, nargs="+", default=None,
                        help="hidden sizes (default 128 512; fast mode 32)")
    parser.add_argument("--batches", type=int, nargs="+", default=None, help="batch sizes (default 1 256; fast 1 16)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed forward passes per variant (default: as many as --budget allows, 5 to 100)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds of timing per (model, batch) (default 20; fast 0.5)")
    parser.add_argument("--devices", nargs="+", default=None,
                        help="devices (default: cpu, and cuda when available)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own; fast mode 1)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and PNG")
    args = parser.parse_args(argv)
    hidden = args.hidden or ([32] if fast() else [128, 512])
    batches = args.batches or ([1, 16] if fast() else [1, 256])
    budget = args.budget if args.budget is not None else (0.5 if fast() else 20.0)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    set_threads(args.threads)
    machine = machine_info(command_line("speed", argv))
    rows = []
    for device in devices:
        for kind in args.kinds:
            for size in hidden:
                for batch in batches:
                    found = measure(kind, size, batch, torch.device(device), repeats=args.repeats, budget_s=budget)
                    rows += found
                    for r in found:
                        print(f"{device} {kind}-{size} batch {batch:4d} {r['variant']:15s} {r['latency_ms']:9.3f} ms  "
                              f"speedup {r['speedup']:5.2f}x  FLOP ratio {r['flop_ratio']:5.2f}x", flush=True)
    png = plot(rows, report_path(args.out, "speed", ".png"))
    settings = {"kinds": args.kinds, "hidden": hidden, "batches": batches, "seq_len": SEQ_LEN,
                "input_size": INPUT_SIZE, "mask_amount": MASK_AMOUNT, "mask_scope": "all", "devices": devices,
                "budget_s": budget, "repeats": args.repeats}
    report = {"benchmark": "speed", "machine": machine, "settings": settings, "results": rows, "plot": png.name}
    path = write_report(report, args.out, "speed")
    print(f"wrote {path} and {png}")
    return json.loads(path.read_text())


if __name__ == "__main__":
    main()
