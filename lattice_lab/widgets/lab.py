"""The PruningLab: prune a trained model live in Jupyter and see accuracy, structure and spectra.

The lab holds its settings (a :class:`~lattice_lab.widgets.state.LabSettings`, and each method's
options so that switching back to a method finds them again) and the controls reflect them: a
control's observer builds new settings from the current ones and the changed value, and does
nothing when they are equal; :meth:`PruningLab.reset` writes the starting settings into the
controls (whose observers then see no change) and computes once. Every number it shows comes
from :func:`~lattice_lab.widgets.state.compute_state` through a cache; every figure from
:mod:`lattice_lab.widgets.plots`. Only the visible tab is redrawn after a change.

Every method is live: a move costs at most a second once a method's first result is there
(``benchmarks/live_budget.py``). The iterative methods (gradual magnitude, ``imp``,
``ramanujan-imp``: :data:`~lattice_lab.pruning.schedules.SCHEDULED`) are schedules: their first
move starts one run to :data:`AMOUNT_MAX` in the background (:mod:`lattice_lab.widgets.jobs`: a
progress bar, a cancel button, the controls stay usable) and every later move is served from the
stops it kept (:class:`~lattice_lab.pruning.schedules.Schedule`). Pruning at initialisation
(:data:`~lattice_lab.widgets.committed.FROM_SCRATCH`) shows its committed runs and computes other
settings when asked ("compute", in the background too). The ``source`` line says which numbers
were computed now, which come from a schedule's stop and which from a committed run.

Every registered method appears with no code of its own: its options become input boxes typed
by their defaults, its readable ``info`` entries readouts, and the entries its registry entry
names in ``diagnostic_plots`` get a plot. A method that does not support the model's kind, or
needs training data the lab was not given, is labelled in the dropdown and explained in the
status line; an error from a method becomes a message, never a traceback.

Must not import: cli.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> lab = PruningLab(model, load("digits", "test"))
>>> lab.controls["method"].value = "magnitude-units"
>>> lab.controls["amount"].value = 0.75
>>> lab.state.hidden_units, lab.settings == lab.state.settings
(4, True)
"""
from __future__ import annotations

import contextlib
import dataclasses
import html
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ipywidgets as W
import torch

from .. import checkpoints, compare, metrics, train
from ..atomic import atomic_write
from ..memory import release_freed_memory
from ..hasse_drawing import draw_hasse
from ..models import SCOPES, SequenceClassifier, hidden_sizes, weight_names
from ..posets import Poset
from ..recurrent.data import as_dataset, check_data, example_inputs
from ..recurrent.methods import held_copy
from ..pruning import REGISTRY, PruneResult
from ..pruning.schedules import SCHEDULED, Schedule, planned_steps, run_schedule
from ..settings import fast as fast_mode
from ..spectral import mask_spectrum
from ..validation import check_bool, check_choice, check_float, check_instance, check_range
from .plots import (diagnostic_label, diagnostic_series, draw_amount_curve, draw_diagnostic, draw_spectrum,
                    draw_weights, figure_png, format_percent, new_figure, table_html)
from .committed import FROM_SCRATCH, committed_run
from .jobs import Job, Jobs
from .state import (EVAL_BATCH, LabCache, LabSettings, LabState, compute_state, dependency_poset,
                    diagnostic_labels, diagnostic_plots, epoch_callback, keep_pattern, lab_options, method_label,
                    parse_option_text, poset_readout, unavailable_reason)

AMOUNT_STEP = 0.05


def model_words(model) -> str:
    """The lab's header words for a model: ``lstm [16]``, or a user's class with its hidden sizes.

    >>> from lattice_lab.models import build
    >>> model_words(build({"kind": "lstm", "input_size": 2, "hidden_size": 16, "num_classes": 2}))
    'lstm [16]'
    """
    if isinstance(model, SequenceClassifier):
        return f"{model.kind} {model.config['hidden_size']}"
    return f"{type(model).__name__} (hidden sizes {hidden_sizes(model)})"
AMOUNT_MAX = 0.95
MAX_SCHEDULES = 3  # schedules kept (each a few MB of stops); the oldest is dropped beyond


def _option_widget(name: str, default: Any, value: Any) -> W.Widget:
    """An input box for one method option, typed by its default."""
    style = {"description_width": "initial"}
    if isinstance(default, bool):
        return W.Checkbox(value=bool(value), description=name, indent=False)
    if isinstance(default, int) and isinstance(value, int) and not isinstance(value, bool):
        return W.IntText(value=value, description=name, style=style, layout=W.Layout(width="220px"))
    if isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value):  # JSON (the widget protocol) has no inf: those go to a text box
        return W.FloatText(value=float(value), description=name, style=style, layout=W.Layout(width="220px"))
    text = "" if value is None else (value if isinstance(value, str) else repr(value))
    return W.Text(value=text, placeholder="None", description=name, style=style, layout=W.Layout(width="260px"))


def _option_value(widget: W.Widget) -> Any:
    return parse_option_text(widget.value) if isinstance(widget, W.Text) else widget.value


class PruningLab:
    """Prune a trained model live: pick a method and an amount, see accuracy, structure, spectra.

    Parameters
    ----------
    model : the dense :class:`~lattice_lab.models.SequenceClassifier` (never modified).
    data : the evaluation set (every sample is evaluated at each change).
    train_data : for methods that need data (``spectral`` ...) and for fine-tuning.
    method, amount : the starting (and reset) settings; default method ``magnitude``; amount in
        ``[0, AMOUNT_MAX]``.
    quick : shrink slow methods' budgets (:data:`~lattice_lab.widgets.state.FAST_BUDGETS`) and
        the compare-all grid; default: :func:`lattice_lab.settings.fast`.
    device : where to evaluate and fine-tune.
    finetune_samples : fine-tune on a seeded subset of this many training samples (default:
        all of them, 2000 in quick mode).
    card : the checkpoint card of ``model``, if it came from one (copied into exported cards).
    example : a model of the user's own only: what it takes (default: the first inputs of ``data``).
        Such a model (any ``nn.Module`` with ``nn.RNN``/``nn.LSTM``/``nn.GRU`` layers; data a
        Dataset, a DataLoader or an ``(inputs, targets)`` pair) is held as a private copy carrying
        its :mod:`recurrent view <lattice_lab.recurrent>`; every method is offered, and
        checkpoints are exported for the course's models only.

    Attributes
    ----------
    settings : the :class:`~lattice_lab.widgets.state.LabSettings` the lab holds now (no
        fine-tuning); the controls show it.
    defaults : the starting settings, restored by :meth:`reset`.
    controls : dict of the widgets by name: ``method``, ``amount``, ``scope``, ``seed``,
        ``finetune_epochs``, ``finetune``, ``reset``, ``compare``, ``compare_x``, ``matrix``,
        ``hasse_quantile``, ``export_path``, ``export_checkpoint``, ``masks_path``, ``export_masks``, ``tabs``,
        ``compute`` and ``cancel`` (background jobs), and ``option.<name>`` for each option of the current method.
    state : the :class:`~lattice_lab.widgets.state.LabState` shown now.
    messages : every status message shown, oldest first.
    errors : unexpected exceptions caught by the UI (shown as messages instead of tracebacks).
    jobs : the :class:`~lattice_lab.widgets.jobs.Jobs` running first computations in the background.
    schedules : the :class:`~lattice_lab.pruning.schedules.Schedule` s kept (at most :data:`MAX_SCHEDULES`).
    source : the widget saying where the shown numbers come from.
    widget : the root widget (a notebook cell that ends with the lab displays it).
    """

    TABS = ("weights", "accuracy", "poset", "spectrum", "diagnostics", "compare all")

    def __init__(self, model: SequenceClassifier, data: Any, *, train_data: Any = None, method: str | None = None,
                 amount: float = 0.5, quick: bool | None = None, device: str = "cpu",
                 finetune_samples: int | None = None, card: dict | None = None, example: Any = None):
        recurrent = isinstance(model, torch.nn.Module) and any(isinstance(m, torch.nn.RNNBase) for m in model.modules())
        if not recurrent:
            check_instance(model, "model", "PruningLab", SequenceClassifier, "a lattice_lab SequenceClassifier "
                           "(lattice_lab.models.build) or a module with nn.RNN, nn.LSTM or nn.GRU layers")
        if not isinstance(model, SequenceClassifier):  # a model of the user's own: the lab holds a copy with its view
            data = as_dataset(check_data(data, "PruningLab"))
            train_data = None if train_data is None else as_dataset(check_data(train_data, "PruningLab"))
            model = held_copy(model, example_inputs(data) if example is None else example)
        if not REGISTRY:
            raise ValueError("no pruning methods are registered")
        if method is not None:
            check_choice(method, "method", "PruningLab", sorted(REGISTRY))
        amount = check_float(amount, "amount", "PruningLab", low=0, high=AMOUNT_MAX)
        if quick is not None:
            check_bool(quick, "quick", "PruningLab")
        check_range(finetune_samples, "finetune_samples", "PruningLab", "samples", allow_none=True)
        if card is not None:
            check_instance(card, "card", "PruningLab", dict, "a checkpoint card (a dict) or None")
        self.model, self.data, self.device, self.card = model, data, device, card
        self.quick = fast_mode() if quick is None else quick
        if finetune_samples is None and self.quick:
            finetune_samples = 2000
        if train_data is not None and finetune_samples is not None and hasattr(train_data, "subset") \
                and len(train_data) > finetune_samples:
            self.finetune_data = train_data.subset(finetune_samples, seed=0)
        else:
            self.finetune_data = train_data
        self.train_data = train_data
        self.cache = LabCache()
        self.jobs = Jobs()
        self.schedules: OrderedDict[tuple, Schedule] = OrderedDict()
        self._failed: dict[tuple, str] = {}
        self._lock = threading.RLock()  # a job's end refreshes from the worker thread
        self.dense_accuracy = train.evaluate(model, data, device=device, batch_size=EVAL_BATCH)["accuracy"]
        self.compare_rows: list[dict] | None = None
        self.messages: list[str] = []
        self.errors: list[str] = []
        self.state: LabState | None = None
        usable = [m for m in sorted(REGISTRY) if unavailable_reason(m, model, train_data is not None) is None]
        default_method = method or ("magnitude" if "magnitude" in usable else (usable or sorted(REGISTRY))[0])
        self.defaults = LabSettings(default_method, amount, options=lab_options(default_method, self.quick))
        self.options = self._default_options()
        self._settings = self.defaults
        self._drawn: dict[int, Any] = {}
        self._version = 0
        self._build()
        self.refresh()

    # ------------------------------------------------------------------ construction
    def _default_options(self) -> dict[str, dict[str, Any]]:
        """Every method's starting options, by method name."""
        return {name: lab_options(name, self.quick) for name in REGISTRY}

    def _build(self) -> None:
        has_train = self.train_data is not None
        s = self._settings
        c: dict[str, W.Widget] = {}
        c["method"] = W.Dropdown(options=[(method_label(m, self.model, has_train), m) for m in sorted(REGISTRY)],
                                 value=s.method, description="method")
        c["amount"] = W.FloatSlider(value=s.amount, min=0.0, max=AMOUNT_MAX, step=AMOUNT_STEP,
                                    continuous_update=False, readout_format=".2f", description="amount")
        c["amount"].add_class("ll-amount")
        c["scope"] = W.Dropdown(options=list(SCOPES), value=s.scope, description="scope")
        c["seed"] = W.BoundedIntText(value=s.seed, min=0, max=10**6, description="seed",
                                     layout=W.Layout(width="160px"))
        c["finetune_epochs"] = W.BoundedIntText(value=1, min=1, max=50, description="epochs",
                                                layout=W.Layout(width="150px"))
        c["finetune"] = W.Button(description="fine-tune", icon="graduation-cap",
                                 tooltip="fine-tune the pruned model on the training data" if has_train
                                 else "needs train_data: PruningLab(model, data, train_data=...)")
        c["reset"] = W.Button(description="reset", icon="undo", tooltip="back to the starting settings")
        c["compare"] = W.Button(description="compare all methods", icon="balance-scale",
                                tooltip="sweep every available method over a grid of amounts")
        c["compare_x"] = W.Dropdown(options=["sparsity", "flops", "hidden_units", "amount"], value="sparsity",
                                    description="x axis")
        names = weight_names(self.model, "all")
        recurrent = weight_names(self.model, "recurrent")
        c["matrix"] = W.Dropdown(options=names, value=recurrent[0] if recurrent else names[0], description="matrix")
        c["hasse_quantile"] = W.FloatSlider(value=0.98, min=0.0, max=0.999, step=0.001, readout_format=".3f",
                                            continuous_update=False, description="edges ≥ q",
                                            tooltip="draw only connections stronger than this quantile of |w|")
        c["export_path"] = W.Text(value="pruned.pt", description="checkpoint", layout=W.Layout(width="280px"))
        c["export_checkpoint"] = W.Button(description="save checkpoint", icon="save")
        c["masks_path"] = W.Text(value="pruned-masks.pt", description="masks", layout=W.Layout(width="280px"))
        c["export_masks"] = W.Button(description="save masks", icon="save")
        self.progress = W.IntProgress(value=0, min=0, max=1, description="fine-tune", layout=W.Layout(width="260px"))
        c["compute"] = W.Button(description="compute", icon="play",
                                tooltip="compute these settings here (in the background) instead of showing a committed run")
        c["cancel"] = W.Button(description="cancel", icon="stop", tooltip="stop the computation in the background")
        self.job_progress = W.IntProgress(value=0, min=0, max=1, description="background",
                                          layout=W.Layout(width="260px"))
        self.job_label = W.HTML().add_class("ll-job")
        self.source = W.HTML().add_class("ll-source")
        self.status = W.HTML().add_class("ll-status")
        self.accuracy_readout = W.HTML().add_class("ll-accuracy")
        self.readouts = W.HTML().add_class("ll-readouts")
        self.summary = W.HTML()
        self.options_box = W.VBox()
        self.images = [W.Image(format="png", layout=W.Layout(max_width="640px")) for _ in self.TABS]
        self.view_notes = [W.HTML() for _ in self.TABS]
        views = [W.VBox([c["matrix"], self.images[0], self.view_notes[0]]),
                 W.VBox([self.images[1], self.view_notes[1]]),
                 W.VBox([c["hasse_quantile"], self.images[2], self.view_notes[2]]),
                 W.VBox([self.images[3], self.view_notes[3]]),
                 W.VBox([self.images[4], self.view_notes[4]]),
                 W.VBox([W.HBox([c["compare"], c["compare_x"]]), self.images[5], self.view_notes[5]])]
        c["tabs"] = W.Tab(children=views, titles=self.TABS)
        self.controls = c
        self._option_names: list[str] = []
        self._rebuild_options()
        if not has_train:
            c["finetune"].disabled = True
        c["method"].observe(self._on_method, names="value")
        c["amount"].observe(self._on_amount, names="value")
        c["scope"].observe(self._on_scope, names="value")
        c["seed"].observe(self._on_seed, names="value")
        for name in ("matrix", "hasse_quantile", "compare_x"):
            c[name].observe(self._on_view, names="value")
        c["tabs"].observe(self._on_view, names="selected_index")
        c["finetune"].on_click(lambda _: self._guard(self.finetune))
        c["reset"].on_click(lambda _: self._guard(self.reset))
        c["compare"].on_click(lambda _: self._guard(self.run_compare))
        c["export_masks"].on_click(lambda _: self._guard(lambda: self.export_masks(c["masks_path"].value)))
        c["export_checkpoint"].on_click(lambda _: self._guard(lambda: self.export_checkpoint(c["export_path"].value)))
        c["compute"].on_click(lambda _: self._guard(self.compute))
        c["cancel"].on_click(lambda _: self._guard(self.cancel))
        header = W.HTML(f"<b>PruningLab</b> — {html.escape(model_words(self.model))} on "
                        f"{html.escape(str(getattr(self.data, 'name', 'data')))} ({len(self.data)} samples); "
                        f"dense accuracy <b>{format_percent(self.dense_accuracy)}</b>")
        self.widget = W.VBox([
            header,
            W.HBox([c["method"], c["amount"]]),
            W.HBox([c["scope"], c["seed"], c["reset"]]),
            self.summary,
            W.Accordion(children=[self.options_box], titles=("method options",)),
            W.HBox([c["finetune_epochs"], c["finetune"], self.progress]),
            W.HBox([c["compute"], c["cancel"], self.job_progress, self.job_label]),
            self.status,
            self.source,
            W.HBox([W.VBox([self.accuracy_readout, self.readouts]), c["tabs"]]),
            W.HBox([c["export_path"], c["export_checkpoint"], c["masks_path"], c["export_masks"]]),
        ]).add_class("ll-lab")

    def _rebuild_options(self) -> None:
        """One input box per option of the current method, showing the current settings' values."""
        s = self._settings
        for name in self._option_names:
            self.controls.pop(f"option.{name}", None)
        spec = REGISTRY[s.method]
        values = s.options_dict
        boxes = []
        for name, default in spec.options.items():
            box = _option_widget(name, default, values[name])
            box.observe(self._on_option, names="value")
            self.controls[f"option.{name}"] = box
            boxes.append(box)
        self._option_names = list(spec.options)
        self.options_box.children = boxes or [W.HTML("<i>this method has no options</i>")]
        needs = " Needs training data." if spec.needs_data else ""
        scope = (" Removes whole units, so the scope only sets what the sparsity is measured over."
                 if spec.level == "unit" else "")
        self.summary.value = (f"<span style='font-size:90%'><b>{html.escape(s.method)}</b> ({spec.level}-level): "
                              f"{html.escape(spec.summary)}.{needs}{scope}</span>")

    def _show_settings(self) -> None:
        """Write the settings into the controls; their observers see no change and compute nothing."""
        s, c = self._settings, self.controls
        c["method"].value = s.method
        self._rebuild_options()
        c["amount"].value = s.amount
        c["scope"].value = s.scope
        c["seed"].value = s.seed

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ settings and state
    @property
    def settings(self) -> LabSettings:
        """The :class:`~lattice_lab.widgets.state.LabSettings` the lab holds now (no fine-tuning)."""
        return self._settings

    def refresh(self, settings: LabSettings | None = None, on_epoch: Callable[[int, int], None] | None = None, *,
                progress: bool | None = False) -> LabState:
        """Compute (or fetch from the cache) the state of ``settings`` (default: :attr:`settings`) and show it.

        ``on_epoch(epoch, epochs)`` is called after each fine-tuning epoch (the lab's fine-tune
        button moves its progress bar so); ``progress`` shows fine-tuning progress bars as in
        :func:`~lattice_lab.widgets.state.compute_state` (a callable there is the old name of
        ``on_epoch``: deprecated, warns).
        """
        progress, on_epoch = epoch_callback(progress, on_epoch, "PruningLab.refresh")
        with self._lock:
            settings = self._settings if settings is None else settings
            hits = self.cache.hits
            if self.cache.peek(settings) is None and self._deferred(settings):
                self.state = self._served(settings)
            else:
                schedule = self.schedules.get(self._schedule_key(settings))
                with self._busy():
                    self.state = compute_state(
                        self.model, self.data, settings, train_data=self.train_data,
                        finetune_data=self.finetune_data, cache=self.cache, dense_accuracy=self.dense_accuracy,
                        device=self.device, progress=progress, on_epoch=on_epoch,
                        prune_with=None if schedule is None else (lambda s: schedule.result(s.amount)))
            self._version += 1
            self._show_state(from_cache=self.cache.hits > hits)
            self._draw_current()
            return self.state

    # ------------------------------------------------------------------ schedules, committed runs, jobs
    def _deferred(self, settings: LabSettings) -> bool:
        """True when these settings are not computed in the foreground: a schedule's or a from-scratch method's."""
        usable = unavailable_reason(settings.method, self.model, self.train_data is not None) is None
        return usable and settings.finetune_epochs == 0 and (
            settings.method in FROM_SCRATCH or (settings.method in SCHEDULED and settings.amount <= AMOUNT_MAX))

    @staticmethod
    def _schedule_key(settings: LabSettings) -> tuple:
        return ("schedule", settings.method, settings.scope, settings.seed, settings.options)

    def _served(self, settings: LabSettings) -> LabState:
        """The state of deferred settings: from a schedule's stop, a committed run, or pending (a job started)."""
        if settings.method in SCHEDULED:
            key = self._schedule_key(settings)
            schedule = self.schedules.get(key)
            if schedule is not None:
                self.schedules.move_to_end(key)
                state = compute_state(self.model, self.data, settings, train_data=self.train_data, cache=self.cache,
                                      dense_accuracy=self.dense_accuracy, device=self.device,
                                      prune_with=lambda s: schedule.result(s.amount))
                if state.result is not None:
                    state = dataclasses.replace(state, source=f"from one {settings.method} run to {schedule.amount:.2f}, "
                                                              f"served from {state.result.info['served_from']} "
                                                              f"(in {state.seconds:.2f} s, no training)")
                    self.cache.put(state)
                return state
            if key in self._failed:
                return LabState(settings, dense_accuracy=self.dense_accuracy, error=self._failed[key])
            self._start(key, settings, lambda: run_schedule(self.model, settings.method, AMOUNT_MAX, self.train_data,
                                                             scope=settings.scope, seed=settings.seed,
                                                             options=settings.options_dict))
            return self._pending(settings, f"the {settings.method} run to {AMOUNT_MAX:.2f} is computing in the "
                                           "background; every amount is served from it once it is done")
        run = None if not isinstance(self.model, SequenceClassifier) else committed_run(  # none for a user's model
            self.model.config, getattr(self.data, "name", ""), settings.method, settings.amount, settings.scope,
            settings.seed)
        if run is not None:
            budget = ", ".join(f"{k}={v}" for k, v in sorted(run["options"].items()))
            return LabState(settings, accuracy=run["accuracy"], dense_accuracy=self.dense_accuracy,
                            sparsity=run["sparsity"],
                            source=f"from a committed run ({run['file']}: sparsity {run['sparsity']:.3f}, seed "
                                   f"{settings.seed}, {budget}); press “compute” to train these settings here")
        if self.jobs.find(("state", settings)) is not None:
            return self._pending(settings, f"{settings.method} at amount {settings.amount:.2f} is computing in the "
                                           "background")
        return self._pending(settings, f"{settings.method} trains from scratch and no committed run has these "
                                       "settings: press “compute” to train them here (in the background)")

    def _pending(self, settings: LabSettings, why: str) -> LabState:
        return LabState(settings, dense_accuracy=self.dense_accuracy, error=f"not computed yet: {why}",
                        source="pending")

    def _start(self, key: tuple, settings: LabSettings, work: Callable[[], Any]) -> Job:
        """Start ``work`` in the background unless a job for ``key`` runs already."""
        running = self.jobs.find(key)
        if running is not None:
            return running
        n_train = len(self.train_data) if self.train_data is not None else 0
        total = planned_steps(settings.method, n_train, settings.options_dict)
        self.job_progress.max, self.job_progress.value = max(1, total), 0
        self.job_label.value = html.escape(f"{settings.method}: starting")
        return self.jobs.submit(key, work, total_steps=total, on_step=self._job_step, on_done=self._job_done)

    def _job_step(self, job: Job) -> None:
        every = max(1, (job.total_steps or 100) // 100)
        if job.steps % every == 0:
            self.job_progress.value = min(job.steps, self.job_progress.max)
            self.job_label.value = html.escape(f"{job.key[1] if job.key[0] == 'schedule' else job.key[1].method}: "
                                               f"step {job.steps} of {job.total_steps}")

    def _job_done(self, job: Job) -> None:
        with self._lock:
            if job.cancelled:
                self.job_progress.value = 0
                self.job_label.value = "cancelled"
                self._message("the background computation was cancelled; move a control to start it again")
                return
            elif job.error is not None:
                self._failed[job.key] = f"the background computation failed: {type(job.error).__name__}: {job.error}"
                self.job_label.value = "failed"
            elif job.key[0] == "schedule":
                self.schedules[job.key] = job.result
                while len(self.schedules) > MAX_SCHEDULES:
                    self.schedules.popitem(last=False)
                self.job_label.value = f"done in {job.steps} steps"
            else:
                self.cache.put(job.result)
                self.job_label.value = f"done in {job.result.seconds:.1f} s"
            self.job_progress.value = self.job_progress.max if job.result is not None else 0
            if self.state is not None and self.state.source == "pending":
                self._guard(self.refresh)

    def compute(self) -> Job | None:
        """Compute the current settings here, in the background (a from-scratch method shown from a committed run)."""
        settings = self._settings
        if settings.method not in FROM_SCRATCH or not self._deferred(settings):
            self._message(f"{settings.method} at amount {settings.amount:.2f} is computed when shown; nothing to start")
            return None
        key = ("state", settings)
        job = self._start(key, settings, lambda: compute_state(
            self.model, self.data, settings, train_data=self.train_data, dense_accuracy=self.dense_accuracy,
            device=self.device))
        self.state = self._pending(settings, f"{settings.method} at amount {settings.amount:.2f} is computing in the "
                                             "background")
        self._show_state()
        return job

    def cancel(self) -> int:
        """Cancel every background computation; returns how many were running or queued."""
        count = self.jobs.cancel_all()
        self._message(f"cancelled {count} background computation(s)" if count else "nothing runs in the background")
        return count

    def clear_cache(self) -> None:
        """Forget every computed state and schedule and hand the freed memory back to the system.

        glibc keeps freed heap unless ``MALLOC_TRIM_THRESHOLD_`` was set before the kernel started
        (``binder/start`` sets it); :func:`lattice_lab.memory.release_freed_memory` (``malloc_trim``)
        is the fallback from inside the process.
        """
        with self._lock:
            self.cache.clear()
            self.schedules.clear()
            self._failed.clear()
        release_freed_memory()
        self._message("cleared the computed states and schedules")

    def wait(self, timeout: float | None = None) -> LabState:
        """Block until the background computations have ended (tests and scripts); returns the state shown."""
        self.jobs.wait(timeout)
        return self.state

    def finetune(self) -> LabState:
        """Fine-tune the current pruned model for ``controls['finetune_epochs']`` epochs and show it."""
        if self.state is None or self.state.result is None:
            self._message("there is no pruned model to fine-tune yet"
                          + (f": {self.state.error or self.state.source}" if self.state is not None else ""), error=True)
            return self.state
        epochs = int(self.controls["finetune_epochs"].value)
        self.progress.max, self.progress.value = epochs, 0

        def step(epoch: int, total: int) -> None:
            self.progress.value = epoch

        state = self.refresh(self._settings.replace(finetune_epochs=epochs), on_epoch=step)
        self.progress.value = epochs if state.ok else 0
        return state

    def reset(self) -> LabState:
        """Settings (method options too) back to :attr:`defaults`, shown in the controls, computed once.

        The model was never changed.
        """
        self.options = self._default_options()
        self._settings = self.defaults
        self._show_settings()
        self.progress.value = 0
        return self.refresh()

    # ------------------------------------------------------------------ events
    def _guard(self, action: Callable[[], Any]) -> None:
        """Run a UI action; anything unexpected becomes a message, never a traceback."""
        try:
            action()
        except Exception as error:  # noqa: BLE001 - the UI shows it instead of raising
            self.errors.append(f"{type(error).__name__}: {error}")
            self._message(f"something went wrong: {type(error).__name__}: {error}", error=True)

    def _adopt(self, settings: LabSettings) -> None:
        """Make ``settings`` the lab's and show their state; nothing happens when they equal the current ones."""
        if settings == self._settings:
            return
        method_changed = settings.method != self._settings.method
        self._settings = settings
        self.options[settings.method] = settings.options_dict
        if method_changed:
            self._rebuild_options()
        self.refresh()

    def _on_method(self, change: dict) -> None:
        s = self._settings
        self._guard(lambda: self._adopt(LabSettings(change["new"], s.amount, s.scope, s.seed,
                                                    self.options[change["new"]])))

    def _on_amount(self, change: dict) -> None:
        self._guard(lambda: self._adopt(self._settings.replace(amount=change["new"])))

    def _on_scope(self, change: dict) -> None:
        self._guard(lambda: self._adopt(self._settings.replace(scope=change["new"])))

    def _on_seed(self, change: dict) -> None:
        self._guard(lambda: self._adopt(self._settings.replace(seed=int(change["new"]))))

    def _on_option(self, change: dict) -> None:
        box = change["owner"]
        names = [name for name in self._option_names if self.controls.get(f"option.{name}") is box]
        if not names:  # a box of a method no longer shown
            return
        options = {**self._settings.options_dict, names[0]: _option_value(box)}
        self._guard(lambda: self._adopt(self._settings.replace(options=options)))

    def _on_view(self, change: dict) -> None:
        self._guard(self._draw_current)

    # ------------------------------------------------------------------ view
    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        """Show "computing…" and disable every control while the body runs."""
        self.status.value = "<span style='color:#b26b00'>computing…</span>"
        saved = {name: w.disabled for name, w in self.controls.items() if hasattr(w, "disabled")}
        for name in saved:
            self.controls[name].disabled = True
        try:
            yield
        finally:
            for name, disabled in saved.items():
                if name in self.controls:
                    self.controls[name].disabled = disabled

    def _message(self, text: str, error: bool = False) -> None:
        self.messages.append(text)
        colour = "#b00020" if error else "#2e7d32"
        self.status.value = f"<span style='color:{colour}'>{html.escape(text)}</span>"

    def _show_state(self, from_cache: bool = False) -> None:
        state = self.state
        self.source.value = ("<span style='font-size:90%;color:#555'>numbers: " + html.escape(state.source) + "</span>"
                             if state.ok else "")
        if state.source == "pending":
            self.messages.append(state.error)
            self.status.value = f"<span style='color:#b26b00'>{html.escape(state.error)}</span>"
        elif not state.ok:
            self._message(state.error, error=True)
        if not state.ok:
            self.accuracy_readout.value = "accuracy <b>–</b>"
            self.readouts.value = ""
            return
        s = state.settings
        if state.result is None:  # a committed run: its numbers, no model
            self.accuracy_readout.value = (f"accuracy <b>{format_percent(state.accuracy)}</b> "
                                           f"<span style='color:gray'>(dense {format_percent(state.dense_accuracy)})"
                                           "</span>")
            self.readouts.value = table_html([("sparsity (" + s.scope + ")", format_percent(state.sparsity))])
            self._message(f"{s.method} at amount {s.amount:.2f}: from a committed run")
            return
        tuned = f" → <b>{format_percent(state.accuracy_finetuned)}</b> after {s.finetune_epochs} epoch(s) " \
                "fine-tuning" if state.accuracy_finetuned is not None else ""
        self.accuracy_readout.value = (f"accuracy <b>{format_percent(state.accuracy)}</b>{tuned} "
                                       f"<span style='color:gray'>(dense {format_percent(state.dense_accuracy)})"
                                       "</span>")
        pairs = [("sparsity (" + s.scope + ")", format_percent(state.sparsity)),
                 ("hidden units", f"{state.hidden_units} of {metrics.hidden_units(self.model)}"),
                 ("nonzero parameters", state.params_nonzero),
                 ("FLOPs / sequence", f"{state.flops:,} ({100 * state.flops / state.flops_dense:.0f}% of dense)")]
        plotted = diagnostic_plots(s.method)
        known = [(k, v) for k, v in state.diagnostics if k.split(" ")[0] in plotted]
        pairs += [(diagnostic_label(k, s.method), v)
                  for k, v in known + [d for d in state.diagnostics if d not in known]]
        self.readouts.value = table_html(pairs)
        timing = "from the cache" if from_cache else (f"computed in {state.seconds:.2f} s" if state.source == "computed now"
                                                      else f"served in {state.seconds:.2f} s")
        self._message(f"{s.method} at amount {s.amount:.2f}: {timing}")

    def _draw_current(self) -> None:
        index = self.controls["tabs"].selected_index or 0
        key = (self._version, self.controls["matrix"].value, self.controls["hasse_quantile"].value,
               self.controls["compare_x"].value, id(self.compare_rows))
        if self._drawn.get(index) == key:
            return
        self._drawn[index] = key
        draw = (self._draw_weights, self._draw_curve, self._draw_poset, self._draw_spectrum,
                self._draw_diagnostics, self._draw_compare)[index]
        draw(self.images[index], self.view_notes[index])

    def _draw_weights(self, image: W.Image, note: W.HTML) -> None:
        if self.state.result is None:
            note.value = "<i>no pruned model to show</i>"
            return
        fig = new_figure(5.0, 3.4)
        draw_weights(fig.add_subplot(), self.model, self.state.result, self.controls["matrix"].value)
        image.value = figure_png(fig)
        note.value = ""

    def _draw_curve(self, image: W.Image, note: W.HTML) -> None:
        fig = new_figure(5.0, 3.2)
        draw_amount_curve(fig.add_subplot(), self.cache.states(), self.state)
        image.value = figure_png(fig)

    def _draw_poset(self, image: W.Image, note: W.HTML) -> None:
        if self.state.result is None:
            note.value = "<i>no pruned model to show</i>"
            return
        posets = [v for v in self.state.result.info.values() if isinstance(v, Poset)]
        quantile = self.controls["hasse_quantile"].value
        poset = posets[0] if posets else dependency_poset(self.state.result.model, quantile)
        fig = new_figure(5.0, 3.6)
        ax = fig.add_subplot()
        draw_hasse(poset, ax, labels=poset.size <= 30, highlight=poset.meet_irreducibles())
        ax.set_title("dependency poset (red: meet-irreducible)", fontsize=9)
        image.value = figure_png(fig)
        source = "reported by the method" if posets else f"connections with |w| above the {quantile:.3f} quantile"
        note.value = f"<span style='font-size:90%'>{source}</span>" + table_html(list(poset_readout(poset).items()))

    def _draw_spectrum(self, image: W.Image, note: W.HTML) -> None:
        if self.state.result is None:
            note.value = "<i>no pruned model to show</i>"
            return
        name = self.controls["matrix"].value
        info = mask_spectrum(keep_pattern(self.model, self.state.result, name))
        fig = new_figure(5.0, 3.2)
        draw_spectrum(fig.add_subplot(), info, f"spectrum of the mask of {name}")
        image.value = figure_png(fig)
        pairs = [("σ₁", info["values"][0]), ("μ̂ = σ₂", info["values"][1] if len(info["values"]) > 1 else None),
                 ("average degrees d̄_L, d̄_R", (info["d_left"], info["d_right"])), ("Ramanujan bound", info["bound"]),
                 ("Δ_r", info["delta_r"] if info["delta_r"] is not None else "undefined")]
        note.value = table_html(pairs) + (f"<span style='font-size:85%;color:gray'>{html.escape(info['note'])}"
                                          "</span>" if info["note"] else "")

    def _draw_diagnostics(self, image: W.Image, note: W.HTML) -> None:
        method = self.state.settings.method
        info = self.state.result.info if self.state.result is not None else {}
        plotted = diagnostic_plots(method)
        keys = [k for k in plotted if k in info and diagnostic_series(info[k])]
        if not keys:
            labels = diagnostic_labels(method)
            named = ", ".join(labels.get(k, k) for k in plotted) or "diagnostics"
            image.value = b""
            note.value = (f"<i>{html.escape(method)} reports no {html.escape(named)} to plot; its readouts "
                          "are listed on the left.</i>")
            return
        height = 2.4 * len(keys)
        fig = new_figure(5.0, height)
        fig.subplots_adjust(bottom=0.5 / height, top=1 - 0.3 / height, hspace=0.8)
        for i, key in enumerate(keys):
            draw_diagnostic(fig.add_subplot(len(keys), 1, i + 1), key, info[key], method)
        image.value = figure_png(fig)
        note.value = ""

    def _draw_compare(self, image: W.Image, note: W.HTML) -> None:
        if self.compare_rows is None:
            note.value = "<i>press “compare all methods” to sweep every available method</i>"
            return
        x = self.controls["compare_x"].value
        fig = new_figure(5.5, 3.6)
        ax = fig.add_subplot()
        compare.plot_accuracy(self.compare_rows, x, ax=ax)
        state = self.state
        value = {"sparsity": state.sparsity, "flops": state.flops, "hidden_units": state.hidden_units,
                 "amount": state.settings.amount}.get(x) if state.ok else None
        if value is not None:
            ax.plot([value], [100 * state.accuracy], "*", ms=16, mec="black",
                    color=compare.method_colour(state.settings.method), label="current")
        image.value = figure_png(fig)
        note.value = f"<pre style='font-size:80%'>{html.escape(compare.format_table(self.compare_rows))}</pre>"

    # ------------------------------------------------------------------ compare, export
    def compare_amounts(self) -> tuple[float, ...]:
        """The amounts of the compare-all sweep (fewer in quick mode)."""
        return (0.5, 0.9) if self.quick else (0.25, 0.5, 0.75, 0.9)

    def run_compare(self) -> list[dict]:
        """Sweep every available method over :meth:`compare_amounts` (cached) and show the overlay."""
        has_train = self.train_data is not None
        methods = [m for m in sorted(REGISTRY) if unavailable_reason(m, self.model, has_train) is None]
        settings = self._settings
        with self._busy():
            rows = compare.sweep(self.model, self.data, methods=methods, amounts=self.compare_amounts(),
                                 seeds=[settings.seed], train_data=self.train_data, scope=settings.scope,
                                 options={m: self.options[m] for m in methods}, device=self.device, progress=False)
        self.compare_rows = rows
        self.controls["tabs"].selected_index = self.TABS.index("compare all")
        self._draw_current()
        self._message(f"compared {len(methods)} methods at amounts {list(self.compare_amounts())}")
        return rows

    def _pruned(self) -> PruneResult:
        if self.state is None or self.state.result is None:
            raise ValueError("there is no pruned model to export: "
                             + (self.state.error or self.state.source if self.state is not None
                                else "nothing computed yet"))
        return self.state.result

    def export_masks(self, path: str | Path) -> Path:
        """``torch.save`` the current masks, kept units and settings to ``path`` (atomically); returns the path."""
        result = self._pruned()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"masks": {k: v.detach().cpu() for k, v in result.masks.items()},
                   "kept_units": None if result.kept_units is None else [k.cpu() for k in result.kept_units],
                   "settings": dataclasses.asdict(self.state.settings) | {"options": self.state.settings.options_dict},
                   "sparsity": self.state.sparsity}
        atomic_write(path, lambda handle: torch.save(payload, handle))  # an earlier masks file survives a failure
        self._message(f"saved the masks to {path}")
        return path

    def export_checkpoint(self, path: str | Path) -> Path:
        """Save the current pruned model (masks attached) with a card that records the pruning.

        The card is :func:`lattice_lab.checkpoints.pruned_card`'s, the shape ``lattice-lab prune
        --out`` writes too.
        """
        result, state = self._pruned(), self.state
        s = state.settings
        base = self.card or {}
        tuned = s.finetune_epochs > 0
        card = checkpoints.pruned_card(
            base, result.model, method=s.method, amount=s.amount, scope=s.scope, seed=s.seed,
            options=s.options_dict, sparsity=state.sparsity,
            sparsity_recurrent=metrics.sparsity(result.model, self.model, "recurrent"),
            sparsity_input=metrics.sparsity(result.model, self.model, "input"), hidden_units=state.hidden_units,
            params_nonzero=state.params_nonzero, flops=state.flops, accuracy=state.accuracy,
            dense_accuracy=state.dense_accuracy, accuracy_finetuned=state.accuracy_finetuned,
            finetune_epochs=s.finetune_epochs, finetune_lr=train.FINETUNE_LR if tuned else None, distill=False,
            dataset=base.get("dataset", getattr(self.data, "name", "unknown")),
            n_train=base.get("n_train", len(self.train_data) if self.train_data is not None else 0),
            n_test=len(self.data), device=self.device,
            command=f"PruningLab: prune({s.method!r}, amount={s.amount}, scope={s.scope!r}, seed={s.seed})"
                    + (f", then {s.finetune_epochs} epoch(s) of fine-tuning" if tuned else ""))
        written = checkpoints.save(path, result.model.cpu(), card)
        self._message(f"saved the pruned checkpoint to {written}")
        return written
