"""Own-RNN benchmark: the recurrent view's overhead, and what a unit-pruned export buys in latency.

1. **View overhead** on the shipped models (every one but the feedback model, which has no
   ``nn.RNN``/``nn.LSTM``/``nn.GRU``). Each shipped :class:`~lattice_lab.models.SequenceClassifier`
   is rewritten the way a user writes it (one ``nn.RNN``/``nn.LSTM``/``nn.GRU`` module with
   ``num_layers``, a ``Linear`` on the last step; the same weights, so the same outputs), and
   ``ll.prune`` is timed on both at 50%, interleaved in the same run, for a weight-level
   (``magnitude``) and a unit-level (``magnitude-units``) method: the course path against the path
   through the view (the view found on the first call and kept for the model, consumers, removal
   on a copy). ``ratio`` = median through the view / median of the course path (goal: at most 1.1).
   ``view_first_ms`` is what finding the view costs once (``torch.fx`` trace and shape propagation;
   median of ``--repeats`` fresh finds): the first ``ll.prune`` of a model pays it on top.
2. **Export latency** of notebook 10's models (the embedding + bidirectional GRU over tokens, and the
   LSTM -> LayerNorm -> Linear of Torch-Pruning #276), dense and with 50% of the units removed
   (``magnitude-units``), each traced to TorchScript and timed interleaved on a batch of 64, one
   thread, after ten warm-up calls (TorchScript optimises a graph over its first calls), over at
   least 50 calls each. ``ratio`` = pruned / dense median latency.

Usage::

    python -m benchmarks.own_rnn [--repeats 15] [--out DIR]

Writes ``own_rnn.json`` (``own_rnn_fast.json`` in fast mode) under ``--out``.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lattice_lab import checkpoints
from lattice_lab.pruning import prune
from lattice_lab.recurrent.export import to_torchscript
from lattice_lab.recurrent import forget_view, view_of
from lattice_lab.settings import fast

from .common import RESULTS, command_line, interleaved_seconds, machine_info, median_seconds, set_threads, write_report

METHODS = ("magnitude", "magnitude-units")
AMOUNT = 0.5
BATCH = 64


class UserWritten(nn.Module):
    """A shipped model as a user writes it: one recurrent module and a Linear on the last step."""

    def __init__(self, course):
        super().__init__()
        config = course.config
        kinds = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN, "irnn": nn.RNN}
        extra = {"nonlinearity": config["nonlinearity"]} if config["kind"] in ("rnn", "irnn") else {}
        self.rnn = kinds[config["kind"]](config["input_size"], config["hidden_size"][0], num_layers=config["num_layers"],
                                         batch_first=True, bidirectional=config["bidirectional"], **extra)
        self.head = nn.Linear(course.readout.in_features, config["num_classes"])
        with torch.no_grad():
            for k, layer in enumerate(course.layers):
                for name, tensor in layer.named_parameters():
                    getattr(self.rnn, name.replace("_l0", f"_l{k}")).copy_(tensor)
            self.head.load_state_dict(course.readout.state_dict())

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


class TokenClassifier(nn.Module):
    """Notebook 10's first model (written out there for the learner)."""

    def __init__(self, vocab: int = 12, classes: int = 2, embed: int = 16, hidden: int = 32):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.gru = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, tokens):
        states, _ = self.gru(self.embed(tokens))
        return self.head(states.mean(dim=1))


class NormedLSTM(nn.Module):
    """Notebook 10's second model: Torch-Pruning #276's LSTM -> LayerNorm -> Linear."""

    def __init__(self, features: int = 28, classes: int = 10, hidden: int = 64):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.norm = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(self.norm(out[:, -1]))


def view_overhead(repeats: int) -> list[dict[str, Any]]:
    rows = []
    for name in checkpoints.list_shipped():
        course, _ = checkpoints.load(name)
        if course.kind == "feedback" or len(set(course.config["hidden_size"])) > 1:
            continue
        user = UserWritten(course).eval()
        x = torch.randn(4, 28 if course.config["input_size"] == 28 else 8, course.config["input_size"],
                        generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            assert torch.allclose(user(x), course(x), atol=1e-5), name  # the same model, written another way
        first_s = median_seconds(lambda: (forget_view(user), view_of(user, x)), repeats=repeats)["median_s"]
        for method in METHODS:
            timings = interleaved_seconds({
                "course": lambda: prune(course, method, AMOUNT),
                "view": lambda: prune(user, method, AMOUNT, example=x),
            }, repeats=repeats)
            course_s, view_s = timings["course"]["median_s"], timings["view"]["median_s"]
            rows.append({"model": name, "method": method, "course_ms": 1e3 * course_s, "view_ms": 1e3 * view_s,
                         "ratio": view_s / course_s, "view_first_ms": 1e3 * first_s, "repeats": repeats})
            print(f"{name} {method:16s} course {1e3 * course_s:7.2f} ms, through the view {1e3 * view_s:7.2f} ms "
                  f"({view_s / course_s:.2f}x)", flush=True)
    return rows


def export_latency(repeats: int) -> list[dict[str, Any]]:
    generator = torch.Generator().manual_seed(0)
    cases = {"embedding + bidirectional GRU-32 (tokens)": (TokenClassifier(), torch.randint(0, 12, (BATCH, 20),
                                                                                          generator=generator)),
             "LSTM-64 -> LayerNorm -> Linear (rows)": (NormedLSTM(), torch.randn(BATCH, 28, 28, generator=generator))}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, (model, x) in cases.items():
            torch.manual_seed(0)
            model.eval()
            pruned = prune(model, "magnitude-units", AMOUNT, example=x[:2]).model
            files = {kind: torch.jit.load(str(to_torchscript(m, x, Path(folder) / f"{kind}.pt")))
                     for kind, m in (("dense", model), ("pruned", pruned))}
            with torch.no_grad():
                timings = interleaved_seconds({kind: (lambda f=f: f(x)) for kind, f in files.items()},
                                              repeats=max(repeats, 50), warmup=10)
            dense_s, pruned_s = timings["dense"]["median_s"], timings["pruned"]["median_s"]
            rows.append({"model": label, "batch": BATCH, "dense_ms": 1e3 * dense_s, "pruned_ms": 1e3 * pruned_s,
                         "ratio": pruned_s / dense_s, "repeats": max(repeats, 50), "format": "TorchScript"})
            print(f"{label}: dense {1e3 * dense_s:.2f} ms, 50% units {1e3 * pruned_s:.2f} ms "
                  f"({pruned_s / dense_s:.2f}x)", flush=True)
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure the view's overhead and the export latency; write the JSON report; return it."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.own_rnn", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per variant (default 15; fast 3)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if fast() else 15)
    set_threads(1)  # one thread: the timings of this 2-core, shared machine stay comparable
    machine = machine_info(command_line("own_rnn", argv))
    report = {"benchmark": "own_rnn", "machine": machine,
              "settings": {"amount": AMOUNT, "methods": list(METHODS), "repeats": repeats, "batch": BATCH,
                           "threads": 1},
              "view_overhead": view_overhead(repeats), "export_latency": export_latency(repeats)}
    path = write_report(report, args.out, "own_rnn")
    print(f"wrote {path}")
    return report


if __name__ == "__main__":  # pragma: no cover
    main()
