"""Save and load trained models with a card that says where they came from.

A checkpoint is one file written with ``torch.save``::

    {"config": model.config,      # rebuilds the architecture (lattice_lab.models.build)
     "state_dict": ...,           # the weights, masks folded in (surgery.make_permanent)
     "masks": {name: 0/1 tensor}, # prune masks to re-attach ({} for a dense model)
     "card": {...}}               # provenance: dataset, accuracy, device, command, sha256, ...

and read back with ``torch.load(..., weights_only=True)``, so loading a file never runs
pickled code. The card records the sha256 of the weights (:func:`weights_sha256`) and of the
masks; :func:`load` recomputes both and refuses a checkpoint that was modified. A pruned model
loads back pruned: the masks are re-attached with ``torch.nn.utils.prune``.

The card lives inside the ``.pt``; next to it :func:`save` writes ``<name>.json``, the same card
for humans, derived from it (:func:`sidecar_text`). Both are written with
:func:`lattice_lab.atomic.atomic_write` (each file is the old one or the complete new one, with
the permissions the user's umask gives), the ``.pt`` first: if the second write fails or is
interrupted, the ``.pt`` is new and the ``.json`` old or missing, and :func:`load` repairs the
``.json`` from the card it read.

Nothing is allocated, hashed or copied before the file is known to describe a model that fits.
:func:`load` checks, in this order: the sizes the file's zip directory declares fit the machine's
memory (read before ``torch.load`` reads a record); every stored tensor is dense, on the CPU (not
``meta``), contiguous, owns exactly the storage its size needs (a few-KB file of stride-0 ``expand()`` views
claiming 4 TiB is refused unread), and is of a real floating dtype (masks may be bool); the card and
the config are plain JSON values within :data:`CARD_BYTES` (a tensor in a card is refused, naming
the file); the config fits the memory of the machine (a 4 KB file claiming ``hidden_size =
200000`` is refused with the estimate) and implies exactly the stored keys and shapes, checked on
PyTorch's ``meta`` device. Only then are the weights hashed against the card, and then their dtype
is checked against the model's: float16 and bfloat16 cast to float32 exactly, float64 is accepted
only where every value survives the cast, and otherwise refused with the tensor named and the
rounding said. Messages quote at most about 80 characters of anything from the file
(:func:`lattice_lab.validation.quote`).

A pruned model's card has one shape, :func:`pruned_card`'s, whoever saves it (``lattice-lab
prune --out`` and the PruningLab's save button): the card of the pruned model itself (its config
and test accuracy), plus ``pruned`` (how it was pruned, what it measures) and ``dense_card`` (the
card of the model it was pruned from).

Checkpoints that ship with the package live in the package-data folder
``lattice_lab/shipped/`` and are loaded by name (:func:`list_shipped`, ``load("<name>")``).

Must not import: data, pruning, graphs, compare, widgets, cli.

Examples
--------
>>> import tempfile, torch
>>> from pathlib import Path
>>> from lattice_lab.models import build
>>> model = build({"kind": "gru", "input_size": 3, "hidden_size": 5, "num_classes": 2})
>>> card = make_card(dataset="toy", layout="rows", n_train=0, n_test=0, epochs=0, seed=0,
...                  device="cpu", test_accuracy=None, command="doctest", config=model.config)
>>> with tempfile.TemporaryDirectory() as folder:
...     path = save(Path(folder) / "toy.pt", model, card)
...     loaded, loaded_card = load(path, expect_kind="gru")
...     sorted(p.name for p in Path(folder).iterdir())
['toy.json', 'toy.pt']
>>> x = torch.randn(2, 4, 3)
>>> torch.equal(loaded(x), model(x)), loaded_card["sha256"] == weights_sha256(model.state_dict())
(True, True)
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.resources
import json
import os
import pickle
import platform
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from . import strict_json
from .atomic import atomic_write
from .devices import describe_device, select_device, to_device
from .memory import check_fits
from .models import KINDS, SequenceClassifier, build, check_model_fits, normalize_config
from .surgery import apply_masks, get_masks, make_permanent
from .validation import check_instance, quote

SHIPPED_FOLDER = "shipped"
SUFFIX = ".pt"
CARD_BYTES = 4 * 2 ** 20
"""The most characters of strings and numbers a card (or a config) may hold; shipped cards hold under 7 kB."""
_SIDECAR_BYTES = 4 * CARD_BYTES  # the indented text of a card at the limit


# --------------------------------------------------------------------------- hashing

def weights_sha256(state_dict: dict[str, torch.Tensor]) -> str:
    """sha256 over the tensors of a state dict, in sorted key order; deterministic.

    Each entry contributes its key, dtype, shape and raw contiguous CPU bytes, so two state
    dicts hash alike exactly when they hold the same tensors under the same names.

    Examples
    --------
    >>> a = {"w": torch.zeros(2, 2), "b": torch.ones(2)}
    >>> weights_sha256(a) == weights_sha256({"b": torch.ones(2), "w": torch.zeros(2, 2)})
    True
    >>> weights_sha256(a) == weights_sha256({"w": torch.zeros(4), "b": torch.ones(2)})
    False
    """
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key]
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"state_dict[{key!r}] must be a tensor, got {type(tensor).__name__}")
        tensor = tensor.detach().to("cpu").contiguous()
        header = f"{key}\0{tensor.dtype}\0{tuple(tensor.shape)}\0{tensor.numel() * tensor.element_size()}\0"
        digest.update(header.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _stored_tensors(model: SequenceClassifier) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(state dict with the masks folded in, masks), all on the CPU — exactly what is saved."""
    masks = {name: mask.cpu() for name, mask in get_masks(model).items()}
    state = {key: value.detach().cpu() for key, value in make_permanent(model).state_dict().items()}
    return state, masks


# --------------------------------------------------------------------------- cards

def _device_text(device: str | torch.device) -> str:
    """A device for a card: described if it is a device, kept if it is already a description."""
    try:
        return describe_device(device)
    except (RuntimeError, TypeError):
        return str(device)


def make_card(model: SequenceClassifier | None = None, *, dataset: str, layout: str, n_train: int,
              n_test: int, epochs: int, seed: int, device: str | torch.device,
              test_accuracy: float | None, command: str, config: dict | None = None,
              history: list[dict] | None = None, **extra: Any) -> dict[str, Any]:
    """A checkpoint card: a plain, JSON-able dict that says how a model was made.

    Parameters
    ----------
    model : the model the card describes; its config is recorded unless ``config`` is given.
    dataset, layout : the training data (``lattice_lab.data.load`` name and layout).
    n_train, n_test : the split sizes used.
    epochs, seed : training settings.
    device : where it was trained: a device, or its description
        (:func:`lattice_lab.devices.describe_device`, e.g. ``"cuda (NVIDIA H200)"``).
    test_accuracy : measured accuracy on the test split (None if not measured).
    command : the exact command (or notebook cell) that produced the model.
    config : the model config (default: ``model.config``; one of the two is required).
    history : optional per-epoch history from :func:`lattice_lab.train.fit`.
    **extra : anything else worth recording (JSON-able).

    The card also records the torch and Python versions and the creation time (UTC);
    :func:`save` adds ``sha256``, ``masks_sha256`` and ``masked``.

    Examples
    --------
    >>> card = make_card(dataset="digits", layout="rows", n_train=1437, n_test=360, epochs=5,
    ...                  seed=0, device="cpu", test_accuracy=0.95, command="lattice-lab train",
    ...                  config={"kind": "lstm"})
    >>> card["dataset"], card["device"], card["torch_version"] == torch.__version__
    ('digits', 'cpu', True)
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 2})
    >>> make_card(model, dataset="parity", layout="rows", n_train=10, n_test=5, epochs=1, seed=0,
    ...           device="cpu", test_accuracy=None, command="doctest")["config"] == model.config
    True
    """
    if config is None:
        if model is None:
            raise ValueError("make_card needs the model or its config (config=...)")
        config = model.config
    card = {
        "dataset": dataset, "layout": layout, "n_train": n_train, "n_test": n_test,
        "epochs": epochs, "seed": seed,
        "device": _device_text(device),
        "test_accuracy": test_accuracy, "command": command, "config": dict(config),
        "torch_version": str(torch.__version__), "python_version": platform.python_version(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if history is not None:
        card["history"] = [dict(record) for record in history]
    card.update(extra)
    return _plain(card)


def _option_text(value: Any) -> Any:
    """An option value for a card: itself when JSON can hold it, else its ``repr``."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def pruned_card(dense_card: dict[str, Any] | None, pruned_model: SequenceClassifier, *, method: str,
                amount: float, scope: str, seed: int, options: dict[str, Any], sparsity: float,
                hidden_units: int, accuracy: float, sparsity_recurrent: float | None = None,
                sparsity_input: float | None = None, params_nonzero: int | None = None, flops: int | None = None,
                dense_accuracy: float | None = None, accuracy_finetuned: float | None = None,
                finetune_epochs: int = 0, finetune_lr: float | None = None, distill: bool = False,
                source: str | None = None, dataset: str | None = None, n_train: int | None = None,
                n_test: int | None = None, command: str, device: str | torch.device) -> dict[str, Any]:
    """The card of a pruned checkpoint: one shape, written by ``lattice-lab prune --out`` and the lab.

    Parameters
    ----------
    dense_card : the card of the model that was pruned (``{}`` or None when it has none).
    pruned_model : the pruned model (its config is recorded).
    method, amount, scope, seed, options : how it was pruned (``lattice_lab.prune``'s arguments).
    sparsity, sparsity_recurrent, sparsity_input, hidden_units, params_nonzero, flops : what the
        pruned model measures (sparsity over ``scope``, over W_hh, over W_ih; units; nonzero
        parameters; FLOPs per sequence).
    accuracy, dense_accuracy : test accuracy of the pruned model before fine-tuning, and of the
        dense model.
    accuracy_finetuned, finetune_epochs, finetune_lr, distill : the fine-tuning after pruning,
        if any (``finetune_lr`` is None without fine-tuning).
    source : the dense checkpoint's path or shipped name, when known.
    dataset, n_train, n_test : override the dense card's (``n_test``: the size of the set the
        accuracies were measured on).
    command, device : what produced this checkpoint, and where.

    Returns
    -------
    dict
        A :func:`make_card` card for the pruned model: ``dataset``, ``layout``, ``n_train``,
        ``epochs`` and ``seed`` from the dense card (the dense model's training; without a dense
        card: ``"unknown"``, ``"rows"``, 0, 0 and the pruning seed), ``n_test``, ``device``,
        ``command``, the pruned model's ``config``, ``test_accuracy`` = the accuracy of the model
        in the file (``accuracy_finetuned`` when fine-tuned, else ``accuracy``), the versions and
        time; then ``pruned`` (every argument above from ``method`` to ``source``, always all of
        them: None when not measured; options that JSON cannot hold as their ``repr``) and
        ``dense_card`` (the dense card without its ``history``).

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 2})
    >>> card = pruned_card({"dataset": "digits", "epochs": 5, "seed": 1, "history": []}, model,
    ...                    method="magnitude", amount=0.5, scope="recurrent", seed=0, options={}, sparsity=0.5,
    ...                    hidden_units=2, accuracy=0.75, command="doctest", device="cpu")
    >>> card["test_accuracy"], card["epochs"], card["pruned"]["method"], "history" in card["dense_card"]
    (0.75, 5, 'magnitude', False)
    """
    if dense_card is not None:
        check_instance(dense_card, "dense_card", "pruned_card", dict, "a checkpoint card (a dict) or None")
    check_instance(pruned_model, "pruned_model", "pruned_card", SequenceClassifier,
                   "a lattice_lab SequenceClassifier")
    base = {key: value for key, value in (dense_card or {}).items() if key != "history"}
    pruned = {"method": method, "amount": amount, "scope": scope, "seed": seed,
              "options": {name: _option_text(value) for name, value in options.items()},
              "sparsity": sparsity, "sparsity_recurrent": sparsity_recurrent, "sparsity_input": sparsity_input,
              "hidden_units": hidden_units, "params_nonzero": params_nonzero, "flops": flops,
              "accuracy": accuracy, "dense_accuracy": dense_accuracy, "accuracy_finetuned": accuracy_finetuned,
              "finetune_epochs": finetune_epochs, "finetune_lr": finetune_lr, "distill": distill, "source": source}
    return make_card(
        pruned_model, dataset=base.get("dataset", "unknown") if dataset is None else dataset,
        layout=base.get("layout", "rows"), n_train=base.get("n_train", 0) if n_train is None else n_train,
        n_test=base.get("n_test", 0) if n_test is None else n_test, epochs=base.get("epochs", 0),
        seed=base.get("seed", seed), device=device,
        test_accuracy=accuracy if accuracy_finetuned is None else accuracy_finetuned, command=command,
        pruned=pruned, dense_card=base)


def _plain(card: dict[str, Any]) -> dict[str, Any]:
    """``card`` as plain JSON types (str subclasses become str, tuples lists, NaN None); TypeError if not JSON-able."""
    try:
        return strict_json.plain(card)
    except (TypeError, ValueError) as error:
        raise TypeError(f"card must be JSON-serializable (plain dicts, lists, str, numbers): {error}") from error


def sidecar_text(card: dict[str, Any]) -> str:
    """The text of the ``.json`` written beside a checkpoint: its card, indented, keys sorted, strict JSON.

    >>> print(sidecar_text({"b": float("nan"), "a": 1}))
    {
      "a": 1,
      "b": null
    }
    <BLANKLINE>
    """
    return strict_json.dumps(card, indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- saving


def save(path: str | os.PathLike, model: SequenceClassifier, card: dict[str, Any]) -> Path:
    """Write ``model`` and its card to ``path`` (``.pt``) and the card to ``path.with_suffix(".json")``.

    Both files are written atomically (:func:`lattice_lab.atomic.atomic_write`), the ``.pt``
    first: a failed save leaves each file old or complete, and a ``.json`` left behind by an
    interruption between the two is repaired by :func:`load`. New files get the permissions of the
    user's umask. A copy of ``card`` is stored with ``sha256`` (of the weights), ``masks_sha256``
    and ``masked`` (names of the masked tensors) added, non-finite numbers as None; neither
    ``model`` nor ``card`` is modified. Returns the path written.

    Examples
    --------
    >>> import tempfile
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 2})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save(Path(folder) / "tiny.pt", model, {"command": "doctest"}).name
    'tiny.pt'
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        raise ValueError(f"path must end with {SUFFIX!r}, got {str(path)!r}")
    if not isinstance(model, SequenceClassifier):
        raise TypeError(f"model must be a lattice_lab SequenceClassifier, got {type(model).__name__}")
    if not isinstance(card, dict):
        raise TypeError(f"card must be a dict (see make_card), got {type(card).__name__}")
    state, masks = _stored_tensors(model)
    card = {**card, "sha256": weights_sha256(state), "masks_sha256": weights_sha256(masks),
            "masked": sorted(masks)}
    card = _plain(card)
    payload = {"config": dict(model.config), "state_dict": state, "masks": masks, "card": card}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda file: torch.save(payload, file))
    atomic_write(path.with_suffix(".json"), sidecar_text(card))
    return path


# --------------------------------------------------------------------------- loading

def _shipped_dir() -> Path:
    return Path(str(importlib.resources.files("lattice_lab").joinpath(SHIPPED_FOLDER)))


def list_shipped() -> list[str]:
    """Names of the checkpoints shipped with the package (``lattice_lab/shipped/<name>.pt``).

    >>> isinstance(list_shipped(), list)
    True
    """
    folder = _shipped_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob(f"*{SUFFIX}"))


def resolve(path_or_name: str | os.PathLike) -> Path:
    """The file for a path, or for the name of a shipped checkpoint; FileNotFoundError otherwise."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    name = path.stem if path.suffix == SUFFIX else path.name
    if path.parent == Path(".") and name in list_shipped():
        return _shipped_dir() / f"{name}{SUFFIX}"
    raise FileNotFoundError(f"no checkpoint file {str(path_or_name)!r} and no shipped checkpoint of that name; "
                            f"shipped checkpoints: {list_shipped()}")


def _reason(error: Exception) -> str:
    """The informative line of torch's long weights_only error (e.g. 'Unsupported global ...')."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Check the documentation")]
    return lines[-1] if lines else type(error).__name__


def _check_archive(path: Path) -> None:
    """The sizes a zip checkpoint's directory declares, summed, must fit the machine (nothing is inflated).

    torch writes its records uncompressed, but a crafted zip's directory can declare records far larger
    than the file, which a reader sizes its buffers by; a file that is no zip is left to ``torch.load``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    check_fits(declared, f"checkpoint {path} (its records declare {declared} bytes)")


def _read(path: Path) -> dict[str, Any]:
    _check_archive(path)
    with open(path, "rb") as handle:  # an unreadable file (permissions, I/O) is an OSError naming it
        try:
            payload = torch.load(handle, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:
            raise ValueError(f"{path} was refused by torch.load(weights_only=True), which loads only tensors and "
                             f"plain containers and never runs pickled code; the file is not a torch checkpoint "
                             f"or holds other objects ({_reason(error)})") from error
        except Exception as error:  # torch's ways to say "damaged": RuntimeError, OSError, EOFError, KeyError...
            reason = _reason(error) if str(error) else type(error).__name__
            raise ValueError(f"{path} is not a readable torch checkpoint (truncated, damaged or another kind of "
                             f"file): {reason}") from error
    required = ("config", "state_dict", "masks", "card")
    if not isinstance(payload, dict) or any(key not in payload for key in required):
        found = sorted(map(str, payload)) if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{path} is not a lattice_lab checkpoint: expected a dict with keys {list(required)}, "
                         f"found {found}")
    for key in ("config", "card"):
        if not isinstance(payload[key], dict):
            raise ValueError(f"{path} is not a lattice_lab checkpoint: its {key!r} is a "
                             f"{type(payload[key]).__name__}, not a dict")
    for key in ("state_dict", "masks"):
        tensors = payload[key]
        if not isinstance(tensors, dict) or not all(isinstance(name, str) and isinstance(value, torch.Tensor)
                                                    for name, value in tensors.items()):
            raise ValueError(f"{path} is not a lattice_lab checkpoint: its {key!r} must map names to tensors")
        for name, tensor in tensors.items():
            problem = _tensor_problem(tensor, mask=key == "masks")
            if problem:
                raise ValueError(f"checkpoint {path}: the tensor {quote(name)} of its {key!r} {problem}; "
                                 "refused before reading its values")
    for key in ("config", "card"):  # a JsonLimitError (a ValueError) for a tensor, a deep or a huge value
        strict_json.check_plain(payload[key], f"the {key} of checkpoint {path}", max_bytes=CARD_BYTES)
    return payload


def _tensor_problem(tensor: torch.Tensor, mask: bool) -> str:
    """What makes ``tensor`` unlike a tensor a state dict stores ("" if nothing); reads no values.

    >>> _tensor_problem(torch.zeros(1).expand(2 ** 20, 2 ** 20), mask=False)
    'is a view of 4 bytes of storage as shape (1048576, 1048576) with strides (0, 0), not a tensor of its own'
    >>> _tensor_problem(torch.zeros(3, dtype=torch.int64), mask=False), _tensor_problem(torch.ones(2), mask=False)
    ('has dtype torch.int64: weights must be real floating-point numbers', '')
    """
    if tensor.layout != torch.strided:
        return f"is a {str(tensor.layout).removeprefix('torch.')} tensor, not a dense one"
    if tensor.device.type != "cpu":
        return f"is on the {tensor.device.type!r} device, which stores no values"
    if tensor.is_complex() or not (tensor.is_floating_point() or (mask and tensor.dtype == torch.bool)):
        return f"has dtype {tensor.dtype}: {'masks' if mask else 'weights'} must be real floating-point numbers"
    storage = tensor.untyped_storage().nbytes()
    if not tensor.is_contiguous() or tensor.storage_offset() != 0 or storage != tensor.numel() * tensor.element_size():
        return (f"is a view of {storage} bytes of storage as shape {tuple(tensor.shape)} with strides "
                f"{tensor.stride()}, not a tensor of its own")
    return ""


def _verify(path: Path, payload: dict[str, Any]) -> None:
    card = payload["card"]
    for key, tensors in (("sha256", payload["state_dict"]), ("masks_sha256", payload["masks"])):
        if not isinstance(card, dict) or key not in card:
            raise ValueError(f"checkpoint {path} has no {key!r} in its card; it cannot be verified")
        actual = weights_sha256(tensors)
        if actual != card[key]:
            raise ValueError(f"checkpoint {path} was modified: {key} {actual} != card {quote(card[key])}")


def _check_dtypes(path: Path, state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Refuse a stored tensor whose cast to the model's dtype would change a value, naming it and the change.

    float16 and bfloat16 go into float32 exactly; float64 only where every value is a float32 (NaNs count as kept).
    """
    for key, tensor in state.items():
        target = expected[key].dtype
        if tensor.dtype == target or torch.promote_types(tensor.dtype, target) == target:
            continue
        cast = tensor.to(target).to(tensor.dtype)
        changed = (cast != tensor) & ~(cast.isnan() & tensor.isnan())
        if bool(changed.any()):
            change = (cast - tensor).abs()[changed].max().item()
            raise ValueError(f"checkpoint {path}: the tensor {quote(key)} is {tensor.dtype}, and "
                             f"{int(changed.sum())} of its {tensor.numel()} values would be rounded in the model's "
                             f"{target} (by up to {change:.3g}); refused rather than rounded silently")


def _check_config(path: Path, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(the checkpoint's config normalized, the model's state dict on the meta device), once both fit.

    Nothing is allocated: the memory check counts parameters on the meta device, and the keys and
    shapes of the stored weights (and of the masks of known weights) are compared with a model built there.
    """
    try:
        config = normalize_config(payload["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"checkpoint {path} has an invalid model config: {error}") from error
    check_model_fits(config, f"checkpoint {path}: its config (kind {config['kind']!r}, hidden_size "
                             f"{config['hidden_size']}, ")
    with torch.device("meta"):
        model = build(config).state_dict()
    expected = {key: tuple(value.shape) for key, value in model.items()}
    stored = {key: tuple(value.shape) for key, value in payload["state_dict"].items()}
    stored_masks = {key: tuple(value.shape) for key, value in payload["masks"].items() if key in expected}
    if stored != expected or any(shape != expected[key] for key, shape in stored_masks.items()):
        missing = sorted(set(expected) - set(stored))
        unexpected = sorted(set(stored) - set(expected))
        wrong = [f"{key} is {stored[key]} in the file, {expected[key]} by the config"
                 for key in sorted(set(stored) & set(expected)) if stored[key] != expected[key]]
        wrong += [f"the mask of {key} is {shape} in the file, {expected[key]} by the config"
                  for key, shape in sorted(stored_masks.items()) if shape != expected[key]]
        details = "; ".join(part for part in (
            f"missing {quote(missing)}" if missing else "",
            f"unexpected {quote(unexpected)}" if unexpected else "",
            "; ".join(wrong[:4])) if part)
        raise ValueError(f"checkpoint {path}: the weights do not fit its config {quote(config)} (another "
                         f"architecture?): {details}")
    return config, model


def _repair_sidecar(path: Path, card: dict[str, Any]) -> None:
    """Rewrite ``<name>.json`` from the card in the ``.pt`` when it is missing, unreadable or different.

    Best effort: a folder that cannot be written (a read-only install) only costs a warning.
    """
    sidecar = path.with_suffix(".json")
    try:
        if strict_json.read(sidecar, max_bytes=_SIDECAR_BYTES) == card:
            return
    except (OSError, ValueError):
        pass  # missing, unreadable, not JSON or beyond the limits (never parsed then): write it
    try:
        atomic_write(sidecar, sidecar_text(card))
    except OSError as error:
        warnings.warn(f"{sidecar} does not match the card inside {path} and could not be repaired: {error}",
                      RuntimeWarning, stacklevel=3)


def load(path_or_name: str | os.PathLike, *, device: str | torch.device = "cpu",
         expect_kind: str | None = None) -> tuple[SequenceClassifier, dict[str, Any]]:
    """Load a checkpoint written by :func:`save`: returns ``(model, card)``.

    Parameters
    ----------
    path_or_name : a ``.pt`` file, or the name of a shipped checkpoint (:func:`list_shipped`).
    device : where to put the model (see :func:`lattice_lab.devices.select_device`).
    expect_kind : if given, the model kind the caller needs (``"lstm"``, ...).

    The file is read with ``weights_only=True``; its tensors must be dense, contiguous CPU tensors
    owning their storage, of a real floating dtype; the card and config plain JSON; the config must
    fit the machine's memory and the stored tensors' keys and shapes (all checked before anything is
    allocated or hashed); then the weights' sha256 must match the card, and a weight stored in
    another floating dtype must cast to the model's exactly. Prune masks are re-attached, so a
    pruned model loads back pruned. The model is returned in eval mode. A ``.json`` beside the file
    that is missing or differs from the card inside it is rewritten from that card.

    Raises
    ------
    FileNotFoundError : no such file and no shipped checkpoint of that name.
    ValueError : unreadable or not a lattice_lab checkpoint, tensors that are views, sparse, on
        the meta device or not real floating, a card that is not plain JSON, modified since it was
        saved (sha256 mismatch), of another kind than ``expect_kind``, weights that do not fit the
        config or would be rounded by its dtype, or masks that name no tensor of the model.
    lattice_lab.memory.MemoryLimitError : (a ValueError) a config whose model could not fit in memory.
    OSError : the file cannot be read (permissions, I/O).

    Examples
    --------
    >>> load("no-such-checkpoint")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: no checkpoint file 'no-such-checkpoint' and no shipped checkpoint of that name; ...
    """
    if expect_kind is not None and expect_kind not in KINDS:
        raise ValueError(f"expect_kind must be None or one of {KINDS}, got {expect_kind!r}")
    device = select_device(device)
    path = resolve(path_or_name)
    payload = _read(path)
    kind = payload["config"].get("kind")
    if expect_kind is not None and kind != expect_kind:
        raise ValueError(f"checkpoint {path} holds a {quote(kind)} model, expected kind {expect_kind!r}")
    config, expected = _check_config(path, payload)
    _verify(path, payload)
    _check_dtypes(path, payload["state_dict"], expected)
    model = build(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as error:  # the shapes and dtypes were checked: a safety net
        raise ValueError(f"checkpoint {path}: the weights do not fit its config {quote(config)} "
                         f"(another architecture?): {error}") from error
    if payload["masks"]:
        try:
            apply_masks(model, payload["masks"], inplace=True)
        except ValueError as error:
            raise ValueError(f"checkpoint {path}: {error}") from error
    _repair_sidecar(path, payload["card"])
    return to_device(model, device).eval(), payload["card"]
