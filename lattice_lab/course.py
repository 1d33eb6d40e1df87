"""The course where its learners open it: which dataset a notebook uses, said visibly, and the files it ships.

A notebook asks :func:`course_data` for its train and test sets. It gets MNIST (or Fashion-MNIST)
when the files are on this machine, and otherwise the 8x8 digits that ship with scikit-learn,
together with a banner that says so, why, and what that changes: "MNIST is not available here
(reason); this notebook uses the 8x8 digits instead: numbers will differ from the text." A
notebook never falls back silently. :func:`choose_dataset` makes the same choice, with the same
banner, for a notebook that needs only the name (to pick a shipped checkpoint).

The course also ships with the package, for learners who ``pip install`` it instead of cloning
the repository: :func:`notebook_paths` and :func:`results_file` find the notebooks (the numbered
lessons, :data:`LESSONS`, and the :data:`DASHBOARD`) and the committed benchmark results in a
checkout (``notebooks/``, ``benchmarks/results/``) or, in an installed wheel, in the package data
the build copies them into (``lattice_lab/_notebooks/``, ``lattice_lab/_results/``);
``lattice-lab notebooks DIR`` copies the notebooks out.
:data:`INSTALL_CELL` is the first code cell of every notebook: on Colab (or in any Python without
the package) it installs the course and fetches MNIST; where the package imports, it does nothing.

Must not import anything from the package (except data, settings and validation).

Examples
--------
>>> train, test, dataset = course_data("digits")
Dataset: digits (rows layout), 1,437 training and 360 test sequences.
>>> dataset, tuple(train.inputs.shape[1:]), len(test)
('digits', (8, 8), 360)
>>> [path.name for path in notebook_paths()][:2]
['00_welcome.ipynb', '01_posets.ipynb']
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import NamedTuple

from . import data
from .data import SequenceDataset
from .data.sequences import FAST_CAP
from .settings import fast
from .validation import InvalidParameterError, check_bool, check_choice, check_range

__all__ = ["CHOICES", "COLAB_URL", "CourseData", "DASHBOARD", "FALLBACK", "INSTALL_CELL", "LESSONS", "VOILA_BADGE",
           "VOILA_URL", "banner", "choose_dataset", "colab_badge", "course_data", "notebook_paths", "results_file",
           "unavailable_reason"]

CHOICES = ("mnist", "fashion-mnist", "digits")
"""The datasets a notebook may ask for; every one but ``digits`` falls back to ``digits``."""
FALLBACK = "digits"
TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "digits": "digits"}
REPOSITORY = "lattice-lab/lattice_lab"
LESSONS = "[0-9][0-9]*_*.ipynb"
"""The lessons among the course's notebooks (a glob): numbered, each with its exercises and closing sections; a
graded lab is numbered after the lesson it follows, with a letter (``04a_lab1_...``), and so is the second half of
a lesson split in two (``06b_does_structure_matter.ipynb``)."""
DASHBOARD = "dashboard.ipynb"
"""The notebook the Voilà badge opens: the explorer and the lab in one screen; no lesson (no exercises, no badge)."""
COLAB_URL = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{{name}}"
"""Where Colab opens a notebook of the course (``{name}``: the notebook's file name)."""
VOILA_URL = f"https://mybinder.org/v2/gh/{REPOSITORY}/HEAD?urlpath=voila/render/notebooks/{DASHBOARD}"
"""The Voilà badge's target (README, book, notebook 08): the dashboard, through Voilà's server extension on Binder."""
VOILA_BADGE = "https://img.shields.io/badge/Voil%C3%A0-the%20dashboard-orange"
"""The image of the Voilà badge."""

_PACKAGE = Path(__file__).resolve().parent
_ROOT = _PACKAGE.parent  # in a checkout: the repository, with notebooks/ and benchmarks/results/ beside the package

INSTALL_CELL = '''\
# On Colab, or in any Python without the course: install it and fetch MNIST. Where it is installed: nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("lattice_lab") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "git+https://github.com/lattice-lab/lattice_lab"], check=True)
    from lattice_lab.cli import main as lattice_lab_command

    lattice_lab_command(["fetch", "mnist", "fashion-mnist"])  # offline, the notebooks use digits and say so'''
"""The first code cell of every notebook (``tests/test_course.py`` checks that they all hold it)."""


def colab_badge(name: str) -> str:
    """The first cell of notebook ``name``: a badge that opens it on Colab.

    Written as HTML, not as a markdown image: Voilà's server extension (the README's Voilà badge on
    Binder) fails on any markdown image (voila-dashboards/voila#1473); GitHub, Colab and JupyterLab
    show both alike.

    >>> colab_badge("08_compare_everything.ipynb").startswith('<a href="https://colab.research.google.com/github/')
    True
    """
    return (f'<a href="{COLAB_URL.format(name=name)}"><img src="https://colab.research.google.com/assets/'
            'colab-badge.svg" alt="Open In Colab"/></a>')


class CourseData(NamedTuple):
    """What :func:`course_data` returns: ``train, test, dataset = course_data(...)``."""

    train: SequenceDataset
    test: SequenceDataset
    dataset: str
    """The dataset used: the one asked for, or ``"digits"`` after a fallback."""


def unavailable_reason(name: str) -> str | None:
    """Why dataset ``name`` cannot be loaded here without the network, or None when it can.

    Examples
    --------
    >>> unavailable_reason("digits") is None
    True
    """
    check_choice(name, "name", "unavailable_reason", CHOICES)
    if data.available(name):
        return None
    folders = dict.fromkeys(str(folder) for folder in (data.data_root(), data.cache_dir() / "data"))
    return f"its files are in neither {' nor '.join(folders)}"


def banner(name: str, reason: str) -> str:
    """The text a notebook shows when it falls back from ``name`` to the digits.

    Examples
    --------
    >>> print(banner("mnist", "offline"))  # doctest: +NORMALIZE_WHITESPACE
    MNIST is not available here (offline); this notebook uses the 8x8 digits instead: numbers will differ
    from the text. To get MNIST, run `lattice-lab fetch mnist` while online, or point LATTICE_LAB_DATA at a
    folder that holds its files.
    """
    title = TITLES[name]
    return (f"{title} is not available here ({reason}); this notebook uses the 8x8 digits instead: numbers will "
            f"differ from the text. To get {title}, run `lattice-lab fetch {name}` while online, or point "
            "LATTICE_LAB_DATA at a folder that holds its files.")


def _show(text: str, warning: bool) -> None:
    """``text`` as the cell's output: a coloured box in Jupyter (and Voilà), a plain line elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # IPython comes with every Jupyter kernel; plain Python prints
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(text)
        return
    colour, background = ("#8a4b00", "#fff4e0") if warning else ("#1b5e20", "#eef7ee")
    box = (f"<div class='ll-dataset' style='border-left:4px solid {colour};background:{background};"
           f"padding:6px 10px;color:{colour}'>{'⚠️ ' if warning else ''}{html.escape(text)}</div>")
    display({"text/plain": text, "text/html": box}, raw=True)


def choose_dataset(name: str = "mnist", *, show: bool = True) -> str:
    """The dataset a notebook uses: ``name`` when its files are here, else ``"digits"``, with a banner saying so.

    Parameters
    ----------
    name : one of :data:`CHOICES`.
    show : show the fallback banner (default); the choice is made either way.

    Returns
    -------
    str : ``name`` or ``"digits"``.

    Examples
    --------
    >>> choose_dataset("digits")
    'digits'
    """
    check_choice(name, "name", "choose_dataset", CHOICES)
    check_bool(show, "show", "choose_dataset")
    reason = unavailable_reason(name)
    if reason is None:
        return name
    if show:
        _show(banner(name, reason), warning=True)
    return FALLBACK


def _cap(split: str, asked: int | None) -> int | None:
    """The ``subset`` to load of a real dataset's split: ``asked``, unless fast mode's cap is smaller."""
    if asked is None or (fast() and FAST_CAP[split] <= asked):
        return None  # all of it, or fast mode's own (smaller) seeded subset
    return asked


def course_data(name: str = "mnist", layout: str = "rows", *, train_subset: int | None = None,
                test_subset: int | None = None, show: bool = True) -> CourseData:
    """The train and test sets of ``name`` when they are here, else of the digits, and which one it is.

    Parameters
    ----------
    name : one of :data:`CHOICES`.
    layout : ``"rows"`` (one step per image row) or ``"pixels"`` (one step per pixel).
    train_subset, test_subset : at most this many training / test sequences of ``name`` (a seeded
        subset: less memory and time; fast mode's cap wins when it is smaller); the digits, small as
        they are, are used whole.
    show : show what was loaded: one line, or the fallback banner (default True).

    Returns
    -------
    CourseData : ``(train, test, dataset)``; ``dataset`` is ``name`` or ``"digits"``.

    Notes
    -----
    Fast mode (``LATTICE_LAB_FAST=1``) caps the real datasets as :func:`lattice_lab.data.load` does.
    A file that is here but cannot be read (truncated, corrupted) is a fallback too, with the error
    as the reason.

    Examples
    --------
    >>> train, test, dataset = course_data("digits", "pixels", show=False)
    >>> dataset, tuple(train.inputs.shape[1:])
    ('digits', (64, 1))
    """
    check_choice(name, "name", "course_data", CHOICES)
    check_choice(layout, "layout", "course_data", data.LAYOUTS)
    check_range(train_subset, "train_subset", "course_data", "samples", allow_none=True)
    check_range(test_subset, "test_subset", "course_data", "samples", allow_none=True)
    check_bool(show, "show", "course_data")
    reason = unavailable_reason(name)
    if reason is None:
        try:
            whole = name == FALLBACK
            train = data.load(name, "train", layout=layout, subset=None if whole else _cap("train", train_subset))
            test = data.load(name, "test", layout=layout, subset=None if whole else _cap("test", test_subset))
        except InvalidParameterError:  # a subset larger than the split: the caller's mistake, not the files'
            raise
        except (OSError, ValueError, EOFError) as error:  # a file that is there but unreadable
            reason = f"its files could not be read: {error}"
        else:
            if show:
                subset = fast() or train_subset is not None or test_subset is not None
                capped = (" (fast mode: a seeded subset)" if fast() else " (a seeded subset)") \
                    if subset and name != FALLBACK else ""
                _show(f"Dataset: {TITLES[name]} ({layout} layout), {len(train):,} training and {len(test):,} test "
                      f"sequences{capped}.", warning=False)
            return CourseData(train, test, name)
    if show:
        _show(banner(name, reason), warning=True)
    return CourseData(data.load(FALLBACK, "train", layout=layout), data.load(FALLBACK, "test", layout=layout),
                      FALLBACK)


def _checkout() -> Path | None:
    """The repository this package is imported from, or None for an installed wheel (no pyproject.toml beside it)."""
    return _ROOT if (_ROOT / "pyproject.toml").is_file() else None


def _folders(checkout_folder: str, shipped_folder: str) -> list[Path]:
    root = _checkout()
    return ([root / checkout_folder] if root is not None else []) + [_PACKAGE / shipped_folder]


def results_file(name: str) -> Path:
    """A committed benchmark result: ``benchmarks/results/<name>`` of a checkout, else the installed copy.

    Raises
    ------
    FileNotFoundError : naming the places searched.

    Examples
    --------
    >>> results_file("quality.json").name
    'quality.json'
    """
    folders = _folders("benchmarks/results", "_results")
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is in none of {', '.join(str(f) for f in folders)} (the benchmarks' results "
                            "of a checkout, then of the installed package)")


def notebook_paths() -> list[Path]:
    """The course's notebooks in order: ``notebooks/`` of a checkout, else the installed copy.

    Examples
    --------
    >>> notebook_paths()[0].name
    '00_welcome.ipynb'
    """
    folders = _folders("notebooks", "_notebooks")
    for folder in folders:
        found = sorted(folder.glob("*.ipynb"))
        if found:
            return found
    raise FileNotFoundError(f"no notebooks in {' nor '.join(str(f) for f in folders)} (a checkout of the course, "
                            "then the installed package)")
