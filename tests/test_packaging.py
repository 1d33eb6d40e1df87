"""Packaging: the sdist is the whole course (its own test suite runs after unpacking), the wheel carries the course.

Built the way a release is (PEP 517 through setuptools' backend, no build isolation, no network):
an sdist from a copy of this tree, then a wheel from the unpacked sdist (so the wheel proves the
sdist complete). The wheel is installed into a fresh virtual environment that sees this
interpreter's installed packages (torch ...) through a ``.pth`` file: ``venv --system-site-packages``
would show the *base* interpreter's packages, not those of the environment running the tests. From
there, with no access to this checkout, ``lattice-lab notebooks`` must write every notebook and
``lattice-lab demo`` must run. Also: the license, the Python floor, the ``[audio]`` extra and
``CITATION.cff``.
"""
from __future__ import annotations

import email.message
import email.parser
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BUILD_JUNK = (".git", ".venv", ".cache", "__pycache__", "*.egg-info", "build", "dist", "_build", ".pytest_cache",
              ".hypothesis", "lattice_lab_results", "*_fast.json", "*_fast.png")
SUITE_NEEDS = ("tests", "notebooks", "benchmarks", "docs", "book", "binder", "examples")
"""What the test suite reads besides the package, and the examples: all of it must be in the sdist."""
CHECKPOINT_FOLDERS = ("notebooks", "docs", "examples", "tests/widgets")
"""Where the source copy gets a ``.ipynb_checkpoints`` folder, as JupyterLab leaves them: the sdist must prune them."""
REPOSITORY = "https://github.com/lattice-lab/lattice_lab"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without PYTHONPATH (nothing may import this checkout) plus ``extra``."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | extra


def build(kind: str, source: Path, out: Path) -> Path:
    """``build_sdist`` or ``build_wheel`` of setuptools' PEP 517 backend, run in ``source``; the file written."""
    code = f"import sys; from setuptools import build_meta; print(build_meta.build_{kind}(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, str(out)], cwd=source, env=clean_env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(source copy, sdist, unpacked sdist, wheel)."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*BUILD_JUNK))
    for folder in CHECKPOINT_FOLDERS:
        checkpoints = source / folder / ".ipynb_checkpoints"
        checkpoints.mkdir(exist_ok=True)
        (checkpoints / "scratch-checkpoint.ipynb").write_text("{}")
    sdist = build("sdist", source, base / "dist")
    with tarfile.open(sdist) as archive:
        archive.extractall(base / "unpacked", filter="data")
    unpacked = base / "unpacked" / sdist.name[: -len(".tar.gz")]
    wheel = build("wheel", unpacked, base / "dist")
    return source, sdist, unpacked, wheel


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """A fresh venv with the wheel installed (no dependencies, no index); returns its bin folder."""
    wheel = built[3]
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    (Path(own) / "outer-site-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", "--disable-pip-version-check", str(wheel)], env=clean_env(), check=True, timeout=600)
    return env_dir / "bin"


def test_every_subpackage_is_listed_for_the_build():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lattice_lab").rglob("__init__.py")}
    mapped = set(config["package-dir"])
    assert set(config["packages"]) == found | mapped | {"lattice_lab.shipped"}, \
        "pyproject.toml's [tool.setuptools] packages must list every package (a missing one is not in the wheel)"


def test_metadata_declares_mit_python_3_11_and_torchaudio_as_the_audio_extra(built):
    with zipfile.ZipFile(built[3]) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(wheel.read(name).decode())
        licenses = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    assert metadata["License-Expression"] == "MIT" and metadata["License-File"] == "LICENSE" and licenses
    assert metadata["Requires-Python"] == ">=3.11"
    assert "audio" in metadata.get_all("Provides-Extra")
    torchaudio = [r for r in metadata.get_all("Requires-Dist") if r.startswith("torchaudio")]
    assert torchaudio and all('extra == "audio"' in r for r in torchaudio)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode())


def test_metadata_carries_classifiers_urls_authors_and_keywords_as_citation_cff_has_them(built):
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    metadata = wheel_metadata(built[3])
    classifiers = metadata.get_all("Classifier") or []
    assert {"Framework :: Jupyter", "Intended Audience :: Education", "Programming Language :: Python :: 3.11",
            "Topic :: Scientific/Engineering :: Artificial Intelligence"} <= set(classifiers), classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: the expression, not a classifier
    urls = dict(line.split(", ", 1) for line in metadata.get_all("Project-URL") or [])
    assert urls.get("Source") == citation["repository-code"] == REPOSITORY and urls["Issues"] == f"{REPOSITORY}/issues"
    assert "urlpath=voila/render/notebooks/dashboard.ipynb" in urls["Dashboard"]
    assert metadata["Author"] == ", ".join(a["name"] for a in citation["authors"])
    assert metadata["Keywords"].split(",") == citation["keywords"]


def readme_links(text: str) -> list[str]:
    """Every link target of a markdown text: inline links and images, reference definitions, HTML href and src."""
    inline = re.findall(r"\]\(\s*<?([^)\s>]+)", text)
    references = re.findall(r"^\s*\[[^\]]+\]:\s*(\S+)", text, re.MULTILINE)
    html = re.findall(r"(?:href|src)=[\"']([^\"']+)", text)
    return inline + references + html


def test_the_long_description_links_only_absolute_urls_and_those_into_the_repository_exist(built):
    """A package index shows the README without the repository around it: a relative link there leads nowhere."""
    description = wheel_metadata(built[3]).get_payload()
    assert description.strip() == (ROOT / "README.md").read_text().strip()
    links = readme_links(description)
    assert len(links) > 20, links
    relative = [link for link in links if not re.match(r"https?://", link)]
    assert not relative, f"relative links in the long description: {relative}"
    headings = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", description, re.MULTILINE)}
    for link in links:
        inside = re.match(rf"{re.escape(REPOSITORY)}(?:/(?:blob|tree)/main/([^#?]+))?(?:#(.+))?$", link)
        if inside is None:
            continue
        path, anchor = inside.groups()
        if path:
            assert (ROOT / path).exists(), f"{link}: {path} is not in the repository"
        else:
            assert anchor in headings, f"{link}: the README has no heading #{anchor}"


def test_the_wheel_carries_the_notebooks_the_results_and_the_checkpoints(built):
    with zipfile.ZipFile(built[3]) as wheel:
        names = set(wheel.namelist())
    assert {f"lattice_lab/_notebooks/{p.name}" for p in NOTEBOOKS} <= names
    assert "lattice_lab/_results/quality.json" in names
    shipped = {f"lattice_lab/shipped/{p.name}" for p in (ROOT / "lattice_lab" / "shipped").iterdir()}
    assert shipped <= names


def test_the_sdist_holds_everything_its_test_suite_reads_and_prunes_checkpoint_folders(built):
    source, sdist, *_ = built
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    checkpoints = sorted(n for n in names if ".ipynb_checkpoints" in n.split("/"))
    assert not checkpoints, f"{top} ships Jupyter's checkpoint folders: {checkpoints}"
    examples = {f"examples/{p.name}" for p in (ROOT / "examples").glob("*.py")}
    assert "examples/sweep_on_ray.py" in examples and examples <= names, f"{top} lacks {sorted(examples - names)}"
    needed = {str(p.relative_to(source)) for folder in SUITE_NEEDS for p in (source / folder).rglob("*")
              if p.is_file() and ".ipynb_checkpoints" not in p.parts}
    needed |= {"LICENSE", "CITATION.cff", "README.md", "constraints.txt", "Makefile", "pyproject.toml", ".ci/run"}
    assert not needed - names, f"missing from {top}: {sorted(needed - names)[:20]}"


def test_the_unpacked_sdists_own_test_suite_collects_and_runs(built):
    unpacked = built[2]
    env = clean_env(PYTHONPATH=str(unpacked), LATTICE_LAB_FAST="1")
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                "tests", "lattice_lab"], cwd=unpacked, env=env, capture_output=True, text=True,
                               timeout=900)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]
    assert re.search(r"^\d+ tests collected", collected.stdout, re.MULTILINE), collected.stdout[-500:]
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_notebooks.py",
                          "tests/test_import_rules.py", "tests/test_course.py", "lattice_lab/course.py"],
                         cwd=unpacked, env=env, capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    imported = subprocess.run([sys.executable, "-c", "import lattice_lab; print(lattice_lab.__file__)"],
                              cwd=unpacked, env=env, capture_output=True, text=True, check=True).stdout
    assert imported.startswith(str(unpacked))  # it tested its own package, not this checkout


def test_from_the_wheel_lattice_lab_notebooks_writes_the_course(installed, tmp_path):
    env = clean_env(LATTICE_LAB_FAST="1")
    done = subprocess.run([str(installed / "lattice-lab"), "notebooks", str(tmp_path / "course"), "--json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{installed.parent}" in done.stdout  # copied from the installed package, not from a checkout
    for path in NOTEBOOKS:
        assert (tmp_path / "course" / path.name).read_bytes() == path.read_bytes(), path.name
    found = subprocess.run([str(installed / "python"), "-c", "import lattice_lab.course as c; "
                            "print(c.__file__); print(c.results_file('quality.json'))"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(line.startswith(str(installed.parent)) for line in found), found


RUN_NOTEBOOK = """
import sys

import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(notebook, sys.argv[3])
"""


def output_texts(notebook) -> list[str]:
    """Every text a notebook's cells output: streams, plain text, HTML, errors."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            data = output.get("data", {})
            texts += [str(data.get(kind, "")) for kind in ("text/plain", "text/html", "text/markdown")]
            texts += output.get("traceback", [])
    return texts


def test_notebook_04_copied_out_of_the_wheel_finds_the_committed_results_of_the_package(installed, tmp_path):
    """``lattice-lab notebooks DIR``, then notebook 04 from DIR in fast mode, with the wheel's Python as its kernel."""
    nbformat = pytest.importorskip("nbformat")
    course = tmp_path / "course"
    env = clean_env(LATTICE_LAB_FAST="1", LATTICE_LAB_QUIET="1", MPLBACKEND="Agg",
                    JUPYTER_PATH=str(tmp_path / "jupyter"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    kernel = tmp_path / "jupyter" / "kernels" / "python3"  # JUPYTER_PATH comes first: the kernel is the wheel's Python
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({"argv": [str(installed / "python"), "-m", "ipykernel_launcher",
                                                             "-f", "{connection_file}"],
                                                    "display_name": "the wheel", "language": "python"}))
    subprocess.run([str(installed / "lattice-lab"), "notebooks", str(course)], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=600)
    name = "04_lattice_pruning_live.ipynb"
    done = subprocess.run([str(installed / "python"), "-c", RUN_NOTEBOOK, str(course / name), str(course),
                           str(tmp_path / "ran.ipynb")], cwd=course, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    texts = output_texts(nbformat.read(tmp_path / "ran.ipynb", as_version=4))
    missing = [text[:300] for text in texts if "not found" in text.lower()]
    assert not missing, f"notebook 04 says something is not found: {missing}"
    results = str(installed.parent / "lib")
    assert any("_results/quality.json" in text and results in text for text in texts), \
        "notebook 04 did not read quality.json from the installed package"


def test_from_the_wheel_lattice_lab_demo_runs(installed, tmp_path):
    done = subprocess.run([str(installed / "lattice-lab"), "demo", "--out", str(tmp_path / "demo")], cwd=tmp_path,
                          env=clean_env(LATTICE_LAB_FAST="1", LATTICE_LAB_QUIET="1", MPLBACKEND="Agg"),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "demo" / "results.json").is_file() and "dense accuracy" in done.stdout


def test_citation_cites_the_project_and_the_three_papers():
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert citation["license"] == project["license"] and str(citation["version"]) == project["version"]
    assert citation["title"].startswith(project["name"])
    arxiv = {i["value"] for r in citation["references"] for i in r["identifiers"]}
    assert arxiv == {"arXiv:2502.16525", "arXiv:2105.10832", "arXiv:2403.11100"}
    years = {r["authors"][0]["family-names"]: r["year"] for r in citation["references"]}
    assert years == {"Sengupta": 2025, "Furuya": 2022, "Kalra": 2024}
