"""What every benchmark shares: the machine description, median timings, JSON output, README tables.

A benchmark module has ``main(argv=None) -> dict``: it parses its options, measures, writes one
JSON report (:func:`write_report`) under ``--out`` (default :data:`RESULTS`) and returns it. Every
report carries a ``machine`` block (:func:`machine_info`): CPU model, cores, torch version and
threads, the date, the command, and the load average at the start and the end of the run, with
``heavy_load`` set when the machine was busier than its cores — timings from such a run are upper
bounds. Fast mode (``LATTICE_LAB_FAST=1``) writes ``<name>_fast.json`` so a smoke test never
overwrites the committed full results.

Timings are medians over repeats (:func:`median_seconds`); when a benchmark compares variants
(dense vs pruned, our loop vs a bare one) the variants are timed *interleaved* in the same run
(:func:`interleaved_seconds`), so a change in the machine's load hits them alike and the ratios
stay meaningful.

:func:`update_readme` regenerates the block between ``<!-- results:start -->`` and
``<!-- results:end -->`` in the top-level README from the full (non-fast) JSON reports.

Must not import: the benchmark modules (they import this one), widgets, cli.

Examples
--------
>>> seconds = median_seconds(lambda: sum(range(1000)), repeats=3)
>>> seconds["repeats"], seconds["median_s"] > 0
(3, True)
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from lattice_lab.course import REPOSITORY
from lattice_lab.settings import fast
from lattice_lab.validation import check_int

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
START_MARKER = "<!-- results:start -->"
END_MARKER = "<!-- results:end -->"


# --------------------------------------------------------------------------- machine

def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere).

    >>> isinstance(cpu_model(), str) and len(cpu_model()) > 0
    True
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the OS tells, else ``os.cpu_count()``).

    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (zeros where the OS does not report them)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return [0.0, 0.0, 0.0]


def set_threads(threads: int | None) -> int:
    """Use ``threads`` torch threads (None: keep torch's default; fast mode: 1); return the count in use.

    On a machine busier than its cores, several intra-op threads wait on each other at every
    barrier and a forward pass can take a hundred times its median; fast mode therefore uses one.

    >>> set_threads(torch.get_num_threads()) == torch.get_num_threads()
    True
    """
    if threads is None and fast():
        threads = 1
    if threads is not None:
        torch.set_num_threads(check_int(threads, "threads", "set_threads", low=1))
    return torch.get_num_threads()


def command_line(name: str, argv: list[str] | None = None) -> str:
    """The command that reproduces a run of benchmark ``name`` with arguments ``argv`` (None: ``sys.argv[1:]``).

    >>> command_line("cost", ["--sizes", "128", "256"]).endswith("python -m benchmarks.cost --sizes 128 256")
    True
    """
    args = sys.argv[1:] if argv is None else list(argv)
    prefix = "LATTICE_LAB_FAST=1 " if fast() else ""
    return " ".join([f"{prefix}python -m benchmarks.{name}"] + [str(a) for a in args])


def machine_info(command: str | None = None) -> dict[str, Any]:
    """The ``machine`` block of a report, taken at the start of a run.

    Parameters
    ----------
    command : the command that ran (see :func:`command_line`; default: ``python`` and ``sys.argv``).

    Examples
    --------
    >>> info = machine_info("python -m benchmarks.cost")
    >>> info["command"], info["torch"] == torch.__version__, len(info["load_average_start"])
    ('python -m benchmarks.cost', True, 3)
    """
    if command is None:
        command = " ".join(["python"] + sys.argv)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": usable_cores(),
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(), "platform": platform.platform(), "gpu": gpu,
        "fast": fast(), "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command, "load_average_start": load_average(),
    }


def finish_machine(machine: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``machine`` with the end-of-run load average and the ``heavy_load`` verdict.

    ``heavy_load`` is True when the 1-minute load average at the start or the end exceeded the
    usable cores: other processes competed for the CPU and the timings are upper bounds.

    >>> done = finish_machine({"usable_cores": 2, "load_average_start": [9.0, 9.0, 9.0]})
    >>> done["heavy_load"], len(done["load_average_end"])
    (True, 3)
    """
    end = load_average()
    cores = machine.get("usable_cores") or 1
    heavy = max(machine["load_average_start"][0], end[0]) > cores
    note = ("the machine was busier than its cores during this run (load average above the core count): "
            "absolute timings are upper bounds; ratios measured in the same run are less affected") if heavy else ""
    return {**machine, "load_average_end": end, "heavy_load": heavy, "load_note": note}


# --------------------------------------------------------------------------- timing

def median_seconds(function: Callable[[], Any], repeats: int = 5, *, warmup: int = 1,
                   budget_s: float | None = None, sync: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Median wall time of ``function()`` over ``repeats`` calls after ``warmup`` untimed ones.

    Parameters
    ----------
    function : called without arguments.
    repeats : timed calls, >= 1.
    warmup : untimed calls first (caches, lazy initialization), >= 0.
    budget_s : stop repeating once the timed calls have taken this long (at least one is made).
    sync : called after each call and before reading the clock (``torch.cuda.synchronize``).

    Returns
    -------
    dict with ``median_s``, ``min_s``, ``max_s``, ``repeats`` (timed calls made) and ``seconds``
    (every timing).

    Examples
    --------
    >>> median_seconds(lambda: None, repeats=4, warmup=0)["repeats"]
    4
    >>> median_seconds(lambda: time.sleep(0.01), repeats=50, warmup=0, budget_s=0.02)["repeats"] < 50
    True
    """
    repeats = check_int(repeats, "repeats", "median_seconds", low=1)
    warmup = check_int(warmup, "warmup", "median_seconds", low=0)
    for _ in range(warmup):
        function()
    if sync is not None:
        sync()
    timings: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        if sync is not None:
            sync()
        timings.append(time.perf_counter() - start)
        if budget_s is not None and sum(timings) >= budget_s:
            break
    return {"median_s": statistics.median(timings), "min_s": min(timings), "max_s": max(timings),
            "repeats": len(timings), "seconds": timings}


def rotated(items: list, shift: int) -> list:
    """``items`` rotated left by ``shift`` (modulo its length): the running order of round ``shift``.

    >>> rotated(["a", "b", "c"], 1), rotated(["a", "b", "c"], 3)
    (['b', 'c', 'a'], ['a', 'b', 'c'])
    """
    if not items:
        return []
    k = shift % len(items)
    return list(items[k:]) + list(items[:k])


def interleaved_seconds(functions: dict[str, Callable[[], Any]], repeats: int = 5, *, warmup: int = 1,
                        sync: Callable[[], Any] | None = None) -> dict[str, dict[str, Any]]:
    """Time several variants round-robin and return each one's median.

    Round r runs the variants in the order rotated by r (A, B, C, then B, C, A, ...): a drift in
    the machine's load falls on every variant alike, and no variant always runs first, so ratios
    of the medians compare like with like.

    >>> out = interleaved_seconds({"a": lambda: None, "b": lambda: sum(range(100))}, repeats=3)
    >>> sorted(out), out["a"]["repeats"]
    (['a', 'b'], 3)
    """
    repeats = check_int(repeats, "repeats", "interleaved_seconds", low=1)
    if not functions:
        raise ValueError("functions must name at least one variant to time")
    for function in functions.values():
        for _ in range(warmup):
            function()
    timings: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    for repeat in range(repeats):
        for name in rotated(names, repeat):
            function = functions[name]
            if sync is not None:
                sync()
            start = time.perf_counter()
            function()
            if sync is not None:
                sync()
            timings[name].append(time.perf_counter() - start)
    return {name: {"median_s": statistics.median(t), "min_s": min(t), "max_s": max(t), "repeats": len(t),
                   "seconds": t} for name, t in timings.items()}


# --------------------------------------------------------------------------- reports

def report_path(out: str | os.PathLike, name: str, suffix: str = ".json") -> Path:
    """Where benchmark ``name`` writes: ``out/<name>.json``, or ``out/<name>_fast.json`` in fast mode.

    >>> report_path("results", "cost").name in ("cost.json", "cost_fast.json")
    True
    """
    return Path(out) / f"{name}{'_fast' if fast() else ''}{suffix}"


def _plain(value: Any) -> Any:
    """``value`` with tensors, numpy scalars/arrays and non-finite floats made JSON-safe."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Tensor):
        return _plain(value.tolist())
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalars and arrays
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Lay out, save (PNG, 120 dpi) and close a matplotlib figure; returns the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(report: dict[str, Any], out: str | os.PathLike, name: str) -> Path:
    """Write ``report`` (its machine block finished, see :func:`finish_machine`) as JSON; return the path.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_report({"benchmark": "demo", "machine": machine_info("doctest"), "x": float("nan")},
    ...                         folder, "demo")
    ...     saved = json.loads(path.read_text())
    >>> saved["x"], "load_average_end" in saved["machine"]
    (None, True)
    """
    report = dict(report)
    if "machine" in report and "load_average_end" not in report["machine"]:  # a finished block is an earlier run's
        report["machine"] = finish_machine(report["machine"])
    path = report_path(out, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(report), indent=2, allow_nan=False) + "\n")
    return path


def read_report(folder: str | os.PathLike, name: str) -> dict[str, Any] | None:
    """The full-mode report ``folder/<name>.json``, or None when it does not exist."""
    path = Path(folder) / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def fitted_exponent(sizes: list[float], seconds: list[float]) -> float:
    """Slope of ``log(seconds)`` against ``log(sizes)`` (least squares): time ~ size^slope.

    >>> round(fitted_exponent([10, 100, 1000], [1e-3, 1e-1, 1e1]), 6)
    2.0
    """
    import numpy as np

    if len(sizes) != len(seconds) or len(sizes) < 2:
        raise ValueError(f"need at least two (size, seconds) pairs of equal length, got {len(sizes)} and "
                         f"{len(seconds)}")
    if min(sizes) <= 0 or min(seconds) <= 0:
        raise ValueError("sizes and seconds must be positive for a log-log fit")
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


# --------------------------------------------------------------------------- README tables

def _pct(value: float | None, std: float | None = None) -> str:
    if value is None:
        return "–"
    text = f"{100 * value:.1f}"
    return text + (f" ± {100 * std:.1f}" if std is not None else "")


def _machine_line(report: dict[str, Any]) -> str:
    m = report["machine"]
    load = f"load {m['load_average_start'][0]:.1f} → {m['load_average_end'][0]:.1f}"
    heavy = " **(under heavy load: timings are upper bounds)**" if m.get("heavy_load") else ""
    gpu = f", {m['gpu']}" if m.get("gpu") else ""
    return (f"*{m['date'][:10]}, {m['cpu']} ({m['usable_cores']} usable cores, {m['torch_threads']} torch "
            f"threads{gpu}), torch {m['torch']}, {load}{heavy}; `{m['command']}`*")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def quality_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: the papers' headlines next to ours, then accuracy per model (no fine-tuning / 1 epoch)."""
    lines = ["### Quality: accuracy vs sparsity", "", _machine_line(report), ""]
    if report.get("headlines"):
        lines += ["What each paper (or our reference measurement, METHODS.md) reports, next to our number "
                  "on the same kind of model:", ""]
        def ours(h, key):
            if h.get(key) is None:
                return "–"
            short = h.get("amount") is not None and h["ours_sparsity"] < h["amount"] - 0.01
            return f"{_pct(h[key])}%" + (f" (only {100 * h['ours_sparsity']:.0f}% reached)" if short else "")

        epochs = report["settings"]["finetune_epochs"]
        rows = [[h["method"], h["setting"], h["claim"], ours(h, "ours"), ours(h, "ours_finetuned"), h["our_model"]]
                for h in report["headlines"]]
        header = ["method", "setting", "reported", "ours (no ft)", f"ours ({epochs} ep ft)", "our model"]
        lines += _table(header, rows) + [""]
    for position, model in enumerate(report["models"]):
        entries = [e for e in report["summary"] if e["model"] == model["name"]]
        seeds = len(report["settings"]["seeds"])
        spread = f", mean ± std over {seeds} seeds" if seeds > 1 else ""
        folded = position > 0  # the first model's tables stay open; the others fold (GitHub <details>)
        if folded:
            lines += [f"<details><summary><b>{model['name']}</b> (dense {_pct(model['dense_accuracy'])}%)"
                      "</summary>", ""]
        lines += [f"**{model['name']}** — {model['source']}; dense {_pct(model['dense_accuracy'])}%. Test accuracy % "
                  f"without fine-tuning / after {report['settings']['finetune_epochs']} epoch(s) of it{spread}:", ""]
        for level, key, title in (("weight", "amount", "amount"), ("unit", "units", "units kept")):
            targets = sorted({e[key] for e in entries if e["level"] == level}, reverse=level == "unit")
            methods = list(dict.fromkeys(e["method"] for e in entries if e["level"] == level))
            if not methods:
                continue
            rows = []
            for method in methods:
                cells = []
                for target in targets:
                    found = [e for e in entries if e["method"] == method and e[key] == target]
                    if not found:
                        cells.append("–")
                        continue
                    e = found[0]
                    several = e.get("seeds", 1) > 1
                    tuned = ""
                    if e.get("accuracy_finetuned") is not None:
                        tuned_std = e.get("accuracy_finetuned_std") if several else None
                        tuned = f" / {_pct(e['accuracy_finetuned'], tuned_std)}"
                    short = level == "weight" and e["sparsity"] < e["amount"] - 0.01
                    note = f" ({100 * e['sparsity']:.0f}% reached)" if short else ""
                    cells.append(_pct(e["accuracy"], e.get("accuracy_std") if several else None) + tuned + note)
                rows.append([method] + cells)
            lines += _table([f"method \\ {title}"] + [str(t) for t in targets], rows) + [""]
        if folded:
            lines += ["</details>", ""]
    return lines


def expander_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: each pruning run's sparsity, Δ_r and accuracy; the target's verdict; noise robustness."""
    settings = report["settings"]
    lines = ["### Expanders: the Ramanujan-preserving schedule against IMP, magnitude and random expanders", "",
             _machine_line(report), "",
             f"{settings['model']} (dense {_pct(report['dense_accuracy'])}%), W_hh pruned towards "
             f"{100 * settings['amount']:.0f}% in {settings['rounds']} rounds, every fine-tuning "
             f"{settings['finetune_epochs']} epoch(s) on {report['finetune_samples']} sequences; the expander trained "
             f"from scratch for {settings['scratch_epochs']} epochs at lr {settings['scratch_lr']:g}, then "
             f"{settings['finetune_epochs']} at {settings['finetune_lr']:g}. Δ_r is that of the stacked W_hh mask "
             f"(≥ 0: Ramanujan):", ""]
    rows = [[r["name"], f"{100 * r['sparsity']:.1f}%", "undefined" if r["delta_r"] is None else f"{r['delta_r']:+.2f}",
             f"{_pct(r['accuracy'])}%"] for r in report["rows"]]
    lines += _table(["run", "W_hh sparsity", "Δ_r", "test accuracy"], rows) + [""]
    target = report["target"]
    if target["met"] is not None:
        outcome = "met" if target["met"] else "**not met**"
        scratch = [r for r in report["rows"] if r["name"].startswith("expander from scratch")
                   and r["delta_r"] is not None and r["delta_r"] >= 0]
        also = (f" The expander trained from scratch, Ramanujan at every step, reached "
                f"{100 * scratch[0]['sparsity']:.1f}% at {_pct(scratch[0]['accuracy'])}%." if scratch else "")
        lines += [f"Target ≥ {_pct(target['target_accuracy'])}% at {100 * target['target_amount']:.0f}% with the "
                  f"Ramanujan-preserving schedule: {outcome} (ramanujan-imp stopped at "
                  f"{100 * target['ramanujan_imp_sparsity']:.1f}% with "
                  f"{_pct(target['ramanujan_imp_accuracy'])}%).{also}", ""]
    sigmas = list(dict.fromkeys(r["sigma"] for r in report["noise"]))
    by_model: dict[str, dict[float, float]] = {}
    for r in report["noise"]:
        by_model.setdefault(r["model"], {})[r["sigma"]] = r["accuracy"]
    lines += ["Test accuracy % under Gaussian input noise of standard deviation σ:", ""]
    rows = [[model] + [_pct(found.get(s)) for s in sigmas] for model, found in by_model.items()]
    return lines + _table(["model \\ σ"] + [f"{s:g}" for s in sigmas], rows) + [""]


def _rate(lr: float) -> str:
    """A learning rate as people write it: 1e-4, 3e-4, 0.002 → 2e-3.

    >>> _rate(0.0001), _rate(3e-4), _rate(0.002)
    ('1e-4', '3e-4', '2e-3')
    """
    mantissa, exponent = f"{lr:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def spectral_lstm_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: spectral at m♯ units on each trained LSTM, by fine-tuning recipe; the bar model by model."""
    settings = report["settings"]
    recipes = settings["finetunings"]
    headers = [("distilled" if options.get("distill") else "plain") + f", lr {_rate(options.get('lr', settings['plain_lr']))}"
               for options in recipes.values()]
    dataset = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}.get(settings["dataset"], settings["dataset"])
    lines = ["### Spectral pruning of LSTMs: the 64-unit bar across training runs", "", _machine_line(report), "",
             f"Row-{dataset} LSTM-{settings['hidden']}s — the shipped one and runs trained here with seeds 1, 2, … "
             f"({settings['train_epochs']} epochs at lr 1e-3, then one at {_rate(settings['anneal_lr'])}); `spectral` "
             f"keeps {settings['units']} units. Test accuracy %, mean ± std over Σ̂ seeds {settings['seeds']}; each "
             f"fine-tuning is one epoch on all {settings['n_train']} training sequences from the same pruned model, "
             f"distilled with weight {settings['distill_weight']:g} and temperature {settings['temperature']:g}:", ""]
    rows = [[e["name"], _pct(e["dense_accuracy"])] + [_pct(e["mean"][c], e["std"][c]) for c in ["accuracy", *recipes]]
            for e in report["models"]]
    lines += _table(["model", "dense", "no fine-tuning"] + headers, rows) + [""]
    target = report["target"]
    if target["per_model"]:
        verdicts = list(target["per_model"].values())
        count = {key: sum(v[key] for v in verdicts) for key in ("no_finetuning", "plain", "distilled")}
        lines += [f"Issue 5's bar, on the mean over seeds: ≥ {_pct(target['accuracy'])}% with no fine-tuning on "
                  f"{count['no_finetuning']} of {len(verdicts)} models; ≥ {_pct(target['accuracy_finetuned'])}% "
                  f"after one epoch on {count['distilled']} of {len(verdicts)} with distillation, "
                  f"{count['plain']} of {len(verdicts)} with the plain default.", ""]
    return lines


def cost_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: seconds of each analysis at the smallest and largest size, and the fitted exponent."""
    lines = ["### Cost of each method's analysis", "", _machine_line(report), ""]
    rows = []
    for entry in report["analyses"]:
        sizes, medians = entry["sizes"], entry["median_s"]
        rows.append([entry["name"], f"{medians[0]:.3g} s at n={sizes[0]}", f"{medians[-1]:.3g} s at n={sizes[-1]}",
                     f"{entry['exponent']:.2f}"])
    return lines + _table(["analysis", "smallest", "largest", "fitted exponent (time ~ n^k)"], rows) + [""]


def speed_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: per model and batch, the dense latency and each variant's measured speedup (FLOP ratio)."""
    lines = ["### Inference speed: structural removal vs masks", "", _machine_line(report), "",
             "Dense latency, then each variant's measured speedup over dense, with the FLOP ratio in brackets:", ""]
    variants = list(dict.fromkeys(e["variant"] for e in report["results"] if e["variant"] != "dense"))
    groups: dict[tuple, dict[str, dict]] = {}
    for e in report["results"]:
        groups.setdefault((e["device"], f"{e['kind']}-{e['hidden']}", e["batch"]), {})[e["variant"]] = e
    rows = []
    for (device, model, batch), found in groups.items():
        cells = [f"{found[v]['speedup']:.2f}× ({found[v]['flop_ratio']:.1f}×)" if v in found else "–"
                 for v in variants]
        dense = f"{found['dense']['latency_ms']:.3g}" if "dense" in found else "–"
        rows.append([device, model, batch, dense] + cells)
    return lines + _table(["device", "model", "batch", "dense (ms)"] + variants, rows) + [""]


def train_speed_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: samples per second of our loop vs a bare PyTorch loop, and the overhead ratio."""
    lines = ["### Training speed: `train.fit` vs a bare PyTorch loop", "", _machine_line(report), ""]
    rows = []
    for e in report["results"]:
        rows.append([e["device"], e["model"], e["loop"], f"{e['samples_per_second']:.0f}", f"{e['overhead']:.2f}"])
    return lines + _table(["device", "model", "loop", "samples/s", "time vs bare loop"], rows) + [""]


def live_budget_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: the first move and the later slider moves of every method against the budget (``benchmarks.live_budget``)."""
    verdict = "within" if report["within_budget"] else "over"
    lines = ["### Live budget: PruningLab slider moves, every method", "", _machine_line(report), "",
             f"{report['model']}; {report['n_test']} test sequences per move; the lab's quick budgets; first move: "
             "choosing the method until its first numbers show (a schedule's one run, or a committed run); "
             "later moves: the amount slider to new positions (\"pending\": a method that trains from scratch "
             "shows nothing until asked):", ""]
    rows = []
    for method, e in report["per_method"].items():
        first = f"{e['first_s']:.1f} ({e['first_shown']})" if "first_s" in e else "–"
        counts = {kind: e["shown"].count(kind) for kind in dict.fromkeys(e["shown"])} if "shown" in e else {}
        rows.append([method, first, f"{e['median_s']:.2f}", f"{e['max_s']:.2f}",
                     f"{e['max_cpu_s']:.2f}" if "max_cpu_s" in e else "–",
                     ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "–"])
    lines += _table(["method", "first move s", "median later move s", "max later move s", "max later move CPU-s",
                     "later moves showed"], rows) + [""]
    lines += [f"Slowest later move {report['max_s']:.2f} s (median {report['median_s']:.2f} s): {verdict} the "
              f"{report['budget_s']:.0f} s budget."]
    if report.get("threads") == 1 and "max_cpu_s" in report:
        cpu_verdict = "within" if report["cpu_within_budget"] else "over"
        lines += [f"With one torch thread a move's CPU time is its wall time on an idle core: the slowest later move "
                  f"took {report['max_cpu_s']:.2f} CPU-s, {cpu_verdict} the budget."]
    return lines + [""]


def sweep_scaling_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: the grid serially and on workers, the speedup and overhead, and the projected full quality grid."""
    settings = report["settings"]
    workers = settings["workers"]
    lines = [f"### Sweep scaling: serial against {workers} workers", "", _machine_line(report), "",
             f"{report['cells']} cells ({settings['checkpoint']}: {', '.join(settings['methods'])} at amounts "
             f"{', '.join(f'{a:g}' for a in settings['amounts'])}, seeds {', '.join(map(str, settings['seeds']))}; "
             f"one epoch of fine-tuning on "
             f"{settings['train_subset']} sequences), sweep cache off, one torch thread per process:", ""]
    rows = [["serial (this process)", f"{report['serial_s']:.1f}", f"{report['serial_s'] / report['cells']:.2f}"],
            [f"{workers} workers ({settings['engine']})", f"{report['parallel_s']:.1f}",
             f"{report['parallel_s'] / report['cells']:.2f}"]]
    lines += _table(["run", "wall time (s)", "s per cell"], rows) + [""]
    verdict = "met" if report["target_met"] else "**not met**"
    lines += [f"Speedup {report['speedup']:.2f}× (target ≥ {report['target_speedup']:g}×: {verdict}), efficiency "
              f"{100 * report['efficiency']:.0f}%, fan-out overhead {report['overhead_per_cell_s']:.2f} s per cell; "
              f"rows identical to the serial run's (but for latency_ms and prune_seconds): "
              f"{'yes' if report['identical'] else '**no**'}.", ""]
    if report.get("projection"):
        p = report["projection"]
        slowest = max(report["probe"], key=lambda e: e["seconds"])
        lines += [f"The full quality grid ({p['cells']} cells; every model counted as costly as the LSTM, so an "
                  f"upper bound) is {p['core_seconds'] / 3600:.1f} core-hours: on {p['cores']} cores about "
                  f"{p['projected_s'] / 60:.0f} min (its longest cell, {slowest['label']}, takes "
                  f"{p['longest_cell_s']:.0f} s). Seconds per cell, by row label:", ""]
        lines += _table(["label", "s per cell"], [[e["label"], f"{e['seconds']:.1f}"] for e in report["probe"]]) + [""]
    return lines


def unmeasured_notebooks(report: dict[str, Any], folder: Path = ROOT / "notebooks") -> list[str]:
    """The course's notebooks (file stems) that ``report`` has no row for.

    >>> unmeasured_notebooks({"notebooks": [{"notebook": p.stem} for p in (ROOT / "notebooks").glob("*.ipynb")]})
    []
    """
    measured = {row["notebook"] for row in report["notebooks"]}
    return sorted(path.stem for path in folder.glob("*.ipynb") if path.stem not in measured)


def notebook_memory_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: each notebook's peak kernel memory against Binder's 1 GB, its time, and the dashboard's target."""
    limit = report["limit_mib"]
    lines = ["### Notebook memory: every kernel against Binder's 1 GB", "", _machine_line(report), "",
             f"Each notebook top to bottom in a fresh kernel ({'fast' if report['fast'] else 'full'} mode, "
             f"{report['dataset']}); peak resident memory of the kernel (VmHWM, with torch's CUDA build of PyPI: "
             "Binder's CPU build is smaller), the cell that reached it, and the cells' wall time:", ""]
    rows = [[r["notebook"], "–" if r["peak_mib"] is None else f"{r['peak_mib']:.0f}",
             "–" if r["peak_cell"] is None else f"{r['peak_cell']} ({r['peak_cell_id']})",
             "–" if r["seconds"] is None else f"{r['seconds']:.1f}",
             r["error"] or ("yes" if r["under_limit"] else "**no**")] for r in report["notebooks"]]
    lines += _table(["notebook", "peak MiB", "peak in cell", "seconds", f"under {limit:.0f} MiB"], rows) + [""]
    verdict = "every notebook measured is" if report["all_under_limit"] else "**not** every notebook measured is"
    lines += [f"Under {limit:.0f} MiB: {verdict}.", ""]
    unmeasured = unmeasured_notebooks(report)
    if unmeasured:  # a verdict on "every notebook" speaks only for the rows above
        lines += [f"Not measured yet: {', '.join(unmeasured)} (`python -m benchmarks.notebook_memory --notebooks "
                  f"{' '.join(name.split('_')[0] for name in unmeasured)}`).", ""]
    dashboard = report.get("dashboard")
    if dashboard:
        total = dashboard["seconds"] + dashboard["kernel_start_s"]
        met = "met" if dashboard["met"] else "**not met**"
        lines += [f"The Voilà dashboard (`notebooks/{dashboard['notebook']}.ipynb`) renders in {total:.1f} s "
                  f"including the kernel start (target {dashboard['target_s']:.0f} s on 2 cores: {met}).", ""]
    return lines


def structure_claims_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: each paper's claim, the controlled test, its result and the verdict (``benchmarks.structure_claims``)."""
    lines = ["### Does structure matter? Controlled tests of each paper's claim", "", _machine_line(report), ""]
    rows = [[c["claim"], c["test"], c["result"], c["verdict"]] for c in report["claims"]]
    missing = report.get("missing_runs") or {}
    note = (["Runs of the full grid not made yet (listed in the results file's `missing_runs`): "
             + ", ".join(f"{experiment} {len(keys)}" for experiment, keys in missing.items()) + ".", ""]
            if missing else [])
    return lines + _table(["claim", "test", "result", "verdict"], rows) + [""] + note


def grading_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: seconds to grade each lab's instructor solution against the budget (``benchmarks.grading``)."""
    verdict = "Every lab is within" if report["within_budget"] else "Not every lab is within"
    lines = ["### Grading: `lattice-lab grade` on each lab, fast mode", "", _machine_line(report), "",
             f"Each lab's instructor solution graded {report['repeats']} times (a fresh kernel each time):", ""]
    rows = [[lab, e["notebook"], f"{e['median_s']:.1f}", f"{e['max_s']:.1f}", f"{e['score']:g} / {e['possible']:g}"]
            for lab, e in report["per_lab"].items()]
    lines += _table(["lab", "notebook", "median s", "max s", "score"], rows) + [""]
    return lines + [f"{verdict} the {report['budget_s']:.0f} s budget (the maximum over the repeats).", ""]


def lab_memory_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: a kernel's resident memory after N PruningLab settings, glibc's defaults against binder/start's."""
    lines = [f"### Lab memory: {report['settings']} PruningLab settings in a fresh process", "", _machine_line(report), "",
             "Resident memory (VmRSS, MiB; torch's CUDA build of PyPI) after building the lab, after the settings, "
             "after clearing its cache, and the peak:", ""]
    rows = [[label, f"{e['rss_lab_built_mib']:.0f}", f"{e['rss_after_mib']:.0f}", f"{e['rss_cleared_mib']:.0f}",
             f"{e['peak_mib']:.0f}"] for label, e in report["runs"].items()]
    lines += _table(["malloc", "lab built", f"after {report['settings']} settings", "cache cleared", "peak"], rows)
    verdict = "under" if report["under_limit"] else "**over**"
    return lines + ["", f"With binder/start's thresholds the kernel ends {verdict} {report['limit_mib']:.0f} MiB.", ""]


def own_rnn_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: ``ll.prune`` through the recurrent view vs the course path, and the unit-pruned export's latency."""
    lines = ["### Your own RNN: the recurrent view's overhead, and the export's latency", "", _machine_line(report), ""]
    rows = [[r["model"], r["method"], f"{r['course_ms']:.2f}", f"{r['view_ms']:.2f}", f"{r['ratio']:.2f}",
             f"{r['view_first_ms']:.1f}"] for r in report["view_overhead"]]
    lines += _table(["shipped model", "method (50%)", "course path (ms)", "through the view (ms)", "ratio",
                     "finding the view once (ms)"], rows)
    lines += ["", "Notebook 10's models as TorchScript, batch of "
              f"{report['settings']['batch']}, one thread:", ""]
    rows = [[r["model"], f"{r['dense_ms']:.2f}", f"{r['pruned_ms']:.2f}", f"{r['ratio']:.2f}"]
            for r in report["export_latency"]]
    return lines + _table(["model", "dense (ms)", "50% units (ms)", "ratio"], rows) + [""]


TABLES = {"quality": quality_tables, "expander": expander_tables, "spectral_lstm": spectral_lstm_tables,
          "structure_claims": structure_claims_tables,
          "cost": cost_tables, "speed": speed_tables, "train_speed": train_speed_tables,
          "live_budget": live_budget_tables, "sweep_scaling": sweep_scaling_tables,
          "notebook_memory": notebook_memory_tables, "lab_memory": lab_memory_tables, "own_rnn": own_rnn_tables,
          "grading": grading_tables}
"""Benchmark name -> the function that renders its report as README markdown lines."""


def results_markdown(folder: str | os.PathLike = RESULTS) -> str:
    """The README block: every full-mode report found in ``folder``, as markdown tables.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(results_markdown(folder))
    No benchmark results yet: run `make bench`.
    """
    parts = []
    for name, render in TABLES.items():
        report = read_report(folder, name)
        if report is not None:
            parts += render(report)
    if not parts:
        return "No benchmark results yet: run `make bench`."
    # an absolute link: the README is the package index page's long description too, where relative links break
    return "\n".join(["Latest `make bench` results (details, figures and the machine: "
                      f"[benchmarks/README.md](https://github.com/{REPOSITORY}/blob/main/benchmarks/README.md)).", ""]
                     + parts).rstrip()


def replace_block(text: str, block: str) -> str:
    """``text`` with everything between the results markers replaced by ``block``.

    >>> replace_block("a\\n<!-- results:start -->\\nold\\n<!-- results:end -->\\nb", "new")
    'a\\n<!-- results:start -->\\nnew\\n<!-- results:end -->\\nb'
    """
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 or end < 0 or end < start or text.count(START_MARKER) != 1 or text.count(END_MARKER) != 1:
        raise ValueError(f"the README must hold exactly one {START_MARKER!r} followed by one {END_MARKER!r}")
    head = text[: start + len(START_MARKER)]
    return f"{head}\n{block.strip()}\n{text[end:]}"


def update_readme(readme_path: str | os.PathLike = ROOT / "README.md",
                  results: str | os.PathLike = RESULTS) -> bool:
    """Regenerate the README's results block from the JSON reports in ``results``.

    Only the text between ``<!-- results:start -->`` and ``<!-- results:end -->`` changes; the
    file is rewritten only if that block changed. Returns True when the file was rewritten.
    A README without exactly one pair of markers is a ValueError (nothing is written).
    """
    path = Path(readme_path)
    text = path.read_text()
    new = replace_block(text, results_markdown(results))
    if new == text:
        return False
    path.write_text(new)
    return True
