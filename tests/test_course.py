"""lattice_lab.course and the notebooks' first cells: the dataset a notebook uses is said, never silently swapped.

Also ``lattice-lab notebooks DIR`` (the course copied out of a checkout or a wheel) and the Colab
cell every notebook starts with (it installs nothing where the package imports).
"""
from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from lattice_lab import cli, course, data
from lattice_lab.validation import InvalidParameterError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [path.name for path in NOTEBOOKS]
LESSON_PATHS = sorted((ROOT / "notebooks").glob(course.LESSONS))
LESSON_IDS = [path.name for path in LESSON_PATHS]
HAVE_MNIST = data.available("mnist")


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """A machine without MNIST: an empty data folder and an empty cache; returns both folders."""
    empty, cache = tmp_path / "data", tmp_path / "cache"
    empty.mkdir()
    monkeypatch.setenv("LATTICE_LAB_DATA", str(empty))
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(cache))
    return empty, cache


# ------------------------------------------------------------------------------ the dataset choice

@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST is not here (set LATTICE_LAB_DATA to a folder holding it)")
def test_course_data_gives_mnist_and_says_so_in_one_line(capsys, monkeypatch):
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    train, test, dataset = course.course_data("mnist")
    assert (dataset, train.name, test.name, train.split, test.split) == ("mnist", "mnist", "mnist", "train", "test")
    assert capsys.readouterr().out == ("Dataset: MNIST (rows layout), 2,000 training and 1,000 test sequences "
                                       "(fast mode: a seeded subset).\n")


def test_course_data_falls_back_to_the_digits_with_a_banner_naming_the_folders(no_mnist, capsys):
    empty, cache = no_mnist
    train, test, dataset = course.course_data("mnist", test_subset=100)
    assert dataset == "digits" and (train.name, len(train), len(test)) == ("digits", 1437, 360)  # digits are whole
    reason = f"its files are in neither {empty} nor {cache / 'data'}"
    assert capsys.readouterr().out == course.banner("mnist", reason) + "\n"
    assert course.banner("mnist", reason).startswith(
        f"MNIST is not available here ({reason}); this notebook uses the 8x8 digits instead: numbers will differ "
        "from the text.")


def test_course_data_falls_back_when_the_files_are_there_but_unreadable(no_mnist, capsys):
    empty, _ = no_mnist
    raw = empty / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            (raw / f"{split}-{kind}.gz").write_bytes(gzip.compress(b"not an IDX file"))
    before = {p: p.read_bytes() for p in raw.iterdir()}
    assert data.available("fashion-mnist")
    *_, dataset = course.course_data("fashion-mnist")
    out = capsys.readouterr().out
    assert dataset == "digits"
    assert out.startswith("Fashion-MNIST is not available here (its files could not be read: ")
    assert "not an IDX file" in out
    assert "this notebook uses the 8x8 digits instead: numbers will differ from the text." in out
    assert {p: p.read_bytes() for p in raw.iterdir()} == before  # the data folder is only read


def test_choose_dataset_shows_the_same_banner_and_loads_nothing(no_mnist, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("choose_dataset must not load data")

    monkeypatch.setattr(data, "load", refuse)
    assert course.choose_dataset("mnist") == "digits"
    assert capsys.readouterr().out.startswith("MNIST is not available here (its files are in neither ")
    assert course.choose_dataset("mnist", show=False) == "digits"
    assert capsys.readouterr().out == ""
    assert course.choose_dataset("digits") == "digits"


def test_in_a_kernel_the_banner_is_a_display_with_text_and_html(no_mnist, monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda bundle, raw: shown.append((bundle, raw)))
    course.choose_dataset("mnist")
    (bundle, raw), = shown
    assert raw is True and bundle["text/plain"].startswith("MNIST is not available here (")
    assert "class='ll-dataset'" in bundle["text/html"] and "⚠️" in bundle["text/html"]
    assert "numbers will differ from the text" in bundle["text/html"]


def test_subsets_apply_to_real_datasets_only_and_fast_mode_caps_them(monkeypatch):
    assert course._cap("train", None) is None
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    assert course._cap("train", 10_000) is None and course._cap("test", 500) == 500  # the fast cap is 2000 / 1000
    monkeypatch.delenv("LATTICE_LAB_FAST")
    assert course._cap("train", 10_000) == 10_000
    train, test, _ = course.course_data("digits", train_subset=5, test_subset=5, show=False)
    assert (len(train), len(test)) == (1437, 360)


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST is not here (set LATTICE_LAB_DATA to a folder holding it)")
def test_a_subset_larger_than_the_split_is_the_callers_error_not_a_fallback(monkeypatch):
    monkeypatch.delenv("LATTICE_LAB_FAST", raising=False)
    with pytest.raises(InvalidParameterError, match="'subset' parameter of load"):
        course.course_data("mnist", test_subset=10_001, show=False)


@pytest.mark.parametrize("kwargs, name", [({"name": "cifar10"}, "name"), ({"layout": "columns"}, "layout"),
                                          ({"test_subset": 0}, "test_subset"), ({"train_subset": 1.5}, "train_subset"),
                                          ({"show": "yes"}, "show")])
def test_course_data_refuses_bad_arguments_by_name(kwargs, name):
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of course_data"):
        course.course_data(**kwargs)


# ------------------------------------------------------------------------------ the course's files

def test_in_a_checkout_the_notebooks_and_results_come_from_its_folders():
    assert course.notebook_paths() == NOTEBOOKS
    assert course.results_file("quality.json") == ROOT / "benchmarks" / "results" / "quality.json"
    with pytest.raises(FileNotFoundError, match="no-such.json is in none of .*benchmarks/results"):
        course.results_file("no-such.json")


def test_an_installed_package_finds_them_in_its_package_data(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"  # no pyproject.toml beside the package: not a checkout
    shipped = site / "lattice_lab"
    (shipped / "_notebooks").mkdir(parents=True)
    (shipped / "_results").mkdir()
    (shipped / "_notebooks" / "00_a.ipynb").write_text("{}")
    (shipped / "_results" / "quality.json").write_text("{}")
    monkeypatch.setattr(course, "_ROOT", site)
    monkeypatch.setattr(course, "_PACKAGE", shipped)
    assert course.notebook_paths() == [shipped / "_notebooks" / "00_a.ipynb"]
    assert course.results_file("quality.json") == shipped / "_results" / "quality.json"
    (shipped / "_notebooks" / "00_a.ipynb").unlink()
    with pytest.raises(FileNotFoundError, match="no notebooks in"):
        course.notebook_paths()


def test_notebooks_command_copies_the_course_and_never_overwrites_a_learners_work(tmp_path, capsys):
    target = tmp_path / "my course"
    assert cli.main(["notebooks", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == IDS
    assert all((target / p.name).read_bytes() == p.read_bytes() for p in NOTEBOOKS)
    assert f"{len(IDS)} notebook(s) written to {target}" in capsys.readouterr().out
    assert cli.main(["notebooks", str(target)]) == 0
    assert f"0 notebook(s) written to {target}, {len(IDS)} already there unchanged" in capsys.readouterr().out
    edited = target / IDS[0]
    edited.write_text(edited.read_text() + " ")
    work = edited.read_bytes()
    assert cli.main(["notebooks", str(target)]) == 2
    assert f"1 notebook(s) in {target} differ from the course's and would be overwritten ({IDS[0]})" \
        in capsys.readouterr().err
    assert edited.read_bytes() == work
    assert cli.main(["notebooks", str(target), "--force", "--json"]) == 0
    assert edited.read_bytes() == NOTEBOOKS[0].read_bytes()


def test_notebooks_command_refuses_a_file_as_its_folder(tmp_path, capsys):
    (tmp_path / "course").write_text("a file")
    assert cli.main(["notebooks", str(tmp_path / "course")]) == 2
    assert "is a file; give a folder to copy the notebooks into" in capsys.readouterr().err


# ------------------------------------------------------------------------------ the notebooks' first cells

@pytest.mark.parametrize("path", LESSON_PATHS, ids=LESSON_IDS)
def test_every_lesson_opens_with_its_colab_badge_and_the_install_cell(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].cell_type == "markdown" and cells[0].get("id") == "colab-badge"
    assert cells[0].source == course.colab_badge(path.name)
    first_code = next(c for c in cells if c.cell_type == "code")
    assert first_code.get("id") == "install-if-missing" and first_code.source == course.INSTALL_CELL


@pytest.mark.parametrize("name", [course.DASHBOARD, "08_compare_everything.ipynb"])
def test_the_notebooks_voila_renders_have_no_markdown_image(name):
    """Voilà's server extension (the Binder badge's route) fails on any markdown image: voila-dashboards/voila#1473."""
    cells = nbformat.read(ROOT / "notebooks" / name, as_version=4).cells
    images = [c.get("id") for c in cells if c.cell_type == "markdown" and re.search(r"!\[[^\]]*\]\(", c.source)]
    assert not images, f"markdown images in cells {images}: write them as <img> HTML"


def test_the_dashboard_is_no_lesson_the_install_cell_then_one_cell_that_ends_with_the_dashboard():
    cells = nbformat.read(ROOT / "notebooks" / course.DASHBOARD, as_version=4).cells
    code = [c for c in cells if c.cell_type == "code"]
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert [c.get("id") for c in code] == ["install-if-missing", "dashboard"] and code[0].source == course.INSTALL_CELL
    assert code[1].source.splitlines()[-1] == "ll.widgets.dashboard_widget(explorer, lab)"
    assert "print(" not in code[1].source and "display(" not in code[1].source  # nothing shown but the dashboard
    assert "colab" not in text.lower() and "<img" not in text, "no badge on the dashboard"
    assert not any(heading in text for heading in ("## Exercises", "## Summary", "Learning goals"))
    assert not any(c.get("metadata", {}).get("tags") for c in cells), "no exercise cells (stub, solution, check)"


@pytest.mark.parametrize("page", ["README.md", "book/intro.md", "notebooks/08_compare_everything.ipynb"])
def test_the_voila_badge_opens_the_dashboard_from_the_readme_the_book_and_notebook_08(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    assert course.VOILA_URL in text and course.VOILA_BADGE in text, f"{page}: no Voilà badge to {course.VOILA_URL}"
    routes = re.findall(r"urlpath=voila/render/([\w./-]+)", text)
    assert routes and set(routes) == {f"notebooks/{course.DASHBOARD}"}, routes


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_notebook_chooses_its_dataset_behind_the_learners_back(path):
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert not re.search(r"available\(\s*[\"'](mnist|fashion-mnist)[\"']", code), \
        f"{path.name}: choose the dataset with ll.course.course_data / choose_dataset (they say when they fall back)"


def test_the_install_cell_installs_nothing_where_the_package_imports(monkeypatch):
    import subprocess

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail(f"the install cell ran {a}"))
    exec(course.INSTALL_CELL, {})


def test_on_colab_the_install_cell_installs_from_git_then_fetches_mnist(monkeypatch):
    import subprocess

    calls, fetched = [], []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lattice_lab" else object())
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append((command, check)))
    monkeypatch.setattr(cli, "main", lambda argv: fetched.append(argv) or 0)
    exec(course.INSTALL_CELL, {})
    (command, check), = calls
    assert command[1:5] == ["-m", "pip", "install", "--quiet"] and check is True
    assert command[-1] == "git+https://github.com/lattice-lab/lattice_lab"
    assert fetched == [["fetch", "mnist", "fashion-mnist"]]
