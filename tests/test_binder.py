"""Binder: the image installs what the notebooks and both badges need, at the tested pins, and starts with MNIST.

repo2docker reads ``binder/``: ``requirements.txt`` (pip, from the repository root), ``runtime.txt``
(the Python version), ``postBuild`` (run once at build time, online, as the notebook user) and
``start`` (run before every session's server). These tests hold them to ``constraints.txt``, to what
the notebooks import (parsed with ``ast``), and run both scripts against stand-ins for the network.
The browser test of the Voilà badge's route is in ``tests/widgets/test_browser.py``.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import http.server
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import nbformat
import pytest


ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TORCH_FAMILY = {"torch", "torchvision", "torchaudio"}
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line of a requirements or constraints file."""
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def notebook_imports(path: Path) -> set[str]:
    """Top-level modules a notebook's code cells import (IPython magics and shell lines skipped)."""
    found = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def requirement_name(text: str) -> str:
    return canonical(re.split(r"[\s<>=!~;\[]", text.strip(), maxsplit=1)[0])


REQUIREMENTS = pins(BINDER / "requirements.txt")
CONSTRAINTS = pins(ROOT / "constraints.txt")


def test_every_binder_pin_is_the_tested_one_of_constraints():
    assert REQUIREMENTS, "binder/requirements.txt pins nothing"
    for name, version in REQUIREMENTS.items():
        assert name in CONSTRAINTS, f"binder pins {name}, which constraints.txt does not test"
        tested = CONSTRAINTS[name]
        if name in TORCH_FAMILY:  # the CPU index's build of the tested version
            assert version == f"{tested}+cpu", f"binder has {name}=={version}; the tested one is {tested} (+cpu)"
        else:
            assert version == tested, f"binder has {name}=={version}; constraints.txt tests {tested}"


def test_torch_comes_from_the_cpu_index_and_the_repository_itself_is_installed():
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert "-e ." in lines  # repo2docker stages the repository before installing a local requirement


def test_binder_installs_everything_the_notebooks_import():
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for path in NOTEBOOKS:
        for module in sorted(notebook_imports(path) - set(sys.stdlib_module_names) - {"lattice_lab"}):
            names = {canonical(d) for d in distributions.get(module, [module])}
            if not names & set(REQUIREMENTS):
                missing.setdefault(module, []).append(path.name)
    assert not missing, f"imported by the notebooks but not in binder/requirements.txt: {missing}"


def test_binder_pins_every_runtime_dependency_of_the_package_and_both_badges_servers():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {requirement_name(r) for r in project["dependencies"]} | {"jupyterlab", "voila"}
    assert needed <= set(REQUIREMENTS), f"not pinned for Binder: {sorted(needed - set(REQUIREMENTS))}"


def test_binder_pins_a_notebook_release_that_accepts_the_pinned_jupyterlab():
    """repo2docker's base image has notebook 7.4.7 (jupyterlab<4.5): the pin must replace it with one that fits.

    The requirement is read off the installed (tested) notebook's metadata: `make` installs the pin of
    constraints.txt through the ``[lab]`` extra.
    """
    from packaging.requirements import Requirement

    pinned = REQUIREMENTS["notebook"]
    assert pinned.startswith("7.") and importlib.metadata.version("notebook") == pinned == CONSTRAINTS["notebook"]
    wants = [Requirement(r) for r in importlib.metadata.requires("notebook") or []]
    jupyterlab = [r for r in wants if canonical(r.name) == "jupyterlab" and r.marker is None]
    assert jupyterlab, f"notebook {pinned} declares no jupyterlab requirement: {wants}"
    assert all(r.specifier.contains(REQUIREMENTS["jupyterlab"]) for r in jupyterlab), \
        f"notebook {pinned} wants {jupyterlab}; binder pins jupyterlab=={REQUIREMENTS['jupyterlab']}"
    assert not Requirement("jupyterlab<4.5").specifier.contains(REQUIREMENTS["jupyterlab"])  # why 7.4.7 would not do


def test_runtime_is_the_oldest_python_the_package_supports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lowest = re.fullmatch(r">=(\d+\.\d+)", project["requires-python"]).group(1)
    assert (BINDER / "runtime.txt").read_text().strip() == f"python-{lowest}"


def test_the_readme_badges_open_jupyterlab_and_the_voila_route_of_the_dashboard():
    readme = (ROOT / "README.md").read_text()
    binder = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", readme)
    assert any(url.endswith("?urlpath=lab/tree/notebooks") for url in binder), binder
    voila = [url for url in binder if "urlpath=voila/render/" in url]
    assert voila, "no Voilà badge (urlpath=voila/render/...)"
    for url in voila:
        assert (ROOT / url.split("urlpath=voila/render/")[1]).is_file(), url


# ------------------------------------------------------------------------------ postBuild and start

def stand_in(folder: Path, fetched: set[str]) -> Path:
    """A ``lattice-lab`` that records its arguments and creates empty files for ``fetched`` datasets."""
    folders = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
    script = folder / "lattice-lab"
    touch = "\n".join(f'mkdir -p "$LATTICE_LAB_CACHE/data/{folders[n]}/raw" && cd "$LATTICE_LAB_CACHE/data/'
                      f'{folders[n]}/raw" && touch train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz '
                      f't10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz' for n in sorted(fetched))
    script.write_text(f'#!/bin/bash\necho "$@ -> $LATTICE_LAB_CACHE" >> "{folder}/calls"\n{touch}\n')
    script.chmod(0o755)
    return python_here(folder)


def python_here(folder: Path) -> Path:
    """``folder`` with a ``python`` that runs this interpreter (the scripts call ``python``); returns it."""
    wrapper = folder / "python"
    wrapper.write_text(f'#!/bin/bash\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    return folder


def script_env(home: Path, bin_dir: Path) -> dict[str, str]:
    """A clean session: a fresh HOME, no data or cache variables, this package importable."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("LATTICE_LAB_")}
    return keep | {"HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                   "MPLCONFIGDIR": str(home / ".config" / "matplotlib")}


@pytest.mark.parametrize("name", ["postBuild", "start"])
def test_binder_scripts_are_executable_bash_that_parses(name):
    path = BINDER / name
    assert os.access(path, os.X_OK), f"binder/{name} must be executable (git update-index --chmod=+x)"
    assert path.read_text().startswith("#!/bin/bash\n")
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_post_build_fetches_both_datasets_into_the_cache_the_sessions_read(tmp_path):
    (tmp_path / "bin").mkdir()
    bin_dir = stand_in(tmp_path / "bin", {"mnist", "fashion-mnist"})
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=script_env(home, bin_dir), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    cache = home / ".cache" / "lattice_lab"
    assert (bin_dir / "calls").read_text() == f"fetch mnist fashion-mnist -> {cache}\n"
    session = subprocess.run([str(BINDER / "start"), "bash", "-c", 'echo "$LATTICE_LAB_CACHE"'],
                             env=script_env(home, bin_dir), capture_output=True, text=True, check=True)
    assert session.stdout.strip() == str(cache)


def test_post_build_writes_the_culling_settings_of_the_server_and_of_voila(tmp_path):
    (tmp_path / "bin").mkdir()
    bin_dir = stand_in(tmp_path / "bin", {"mnist", "fashion-mnist"})
    home = tmp_path / "home"
    (home / ".jupyter").mkdir(parents=True)
    (home / ".jupyter" / "voila.json").write_text('{"VoilaConfiguration": {"theme": "dark"}}')  # kept
    done = subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=script_env(home, bin_dir), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    server = json.loads((home / ".jupyter" / "jupyter_server_config.json").read_text())
    voila = json.loads((home / ".jupyter" / "voila.json").read_text())
    assert server["MappingKernelManager"] == {"cull_idle_timeout": 900, "cull_interval": 60, "cull_connected": False}
    assert voila["MappingKernelManager"] == {"cull_idle_timeout": 300, "cull_interval": 60, "cull_connected": False}
    assert voila["VoilaConfiguration"] == {"theme": "dark"}
    from traitlets.config import Config
    from jupyter_server.services.kernels.kernelmanager import MappingKernelManager

    manager = MappingKernelManager(config=Config(voila))  # the names are the kernel manager's own traits
    assert (manager.cull_idle_timeout, manager.cull_interval, manager.cull_connected) == (300, 60, False)


def test_start_sets_the_malloc_thresholds_every_kernel_inherits(tmp_path):
    env = {k: v for k, v in script_env(tmp_path, Path(sys.executable).parent).items() if not k.startswith("MALLOC_")}
    session = subprocess.run([str(BINDER / "start"), "bash", "-c",
                              'echo "$MALLOC_TRIM_THRESHOLD_ $MALLOC_MMAP_THRESHOLD_"'],
                             env=env, capture_output=True, text=True, check=True)
    from benchmarks.lab_memory import MALLOC_ENV

    assert session.stdout.split() == [MALLOC_ENV["MALLOC_TRIM_THRESHOLD_"], MALLOC_ENV["MALLOC_MMAP_THRESHOLD_"]]


def test_post_build_fails_the_build_when_a_dataset_did_not_arrive(tmp_path):
    (tmp_path / "bin").mkdir()
    bin_dir = stand_in(tmp_path / "bin", {"mnist"})
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=script_env(home, bin_dir), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode != 0 and "not in the cache: ['fashion-mnist']" in done.stderr


def test_start_keeps_a_cache_the_deployment_chose(tmp_path):
    env = script_env(tmp_path, Path(sys.executable).parent) | {"LATTICE_LAB_CACHE": "/srv/cache"}
    session = subprocess.run([str(BINDER / "start"), "bash", "-c", 'echo "$LATTICE_LAB_CACHE"'], env=env,
                             capture_output=True, text=True, check=True)
    assert session.stdout.strip() == "/srv/cache"


SHARED_DATA = Path(os.environ.get("LATTICE_LAB_DATA", ROOT.parent / "shared" / "data"))


@contextlib.contextmanager
def serving(folder: Path):
    """An HTTP server on 127.0.0.1 serving ``folder``; yields its URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(), reason=f"no MNIST files in {SHARED_DATA} to serve")
def test_post_build_really_downloads_mnist_and_fashion_mnist_from_a_mirror(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python_here(bin_dir)
    (bin_dir / "lattice-lab").write_text(f'#!/bin/bash\nexec "{sys.executable}" -c "import sys; from lattice_lab.cli '
                                         f'import main; sys.exit(main(sys.argv[1:]))" "$@"\n')
    (bin_dir / "lattice-lab").chmod(0o755)
    with serving(SHARED_DATA) as mirror:
        env = script_env(home, bin_dir) | {"LATTICE_LAB_MIRROR": mirror}
        done = subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    check = ("import lattice_lab as ll; d = ll.data.load('mnist', 'test'); f = ll.data.load('fashion-mnist', 'test');"
             "print(len(d), len(f), d.source.startswith(str(ll.data.cache_dir())))")
    after = subprocess.run([sys.executable, "-c", check], env=script_env(home, bin_dir)
                           | {"LATTICE_LAB_CACHE": str(home / ".cache" / "lattice_lab")},
                           capture_output=True, text=True, check=True)
    assert after.stdout.split() == ["10000", "10000", "True"]
