"""Colab: installing the course where a newer torch is already there plans no torch package.

Colab's images ship a newer torch than the pins of ``constraints.txt``. The notebooks' install cell runs
``pip install git+https://github.com/lattice-lab/lattice_lab``; when ``pyproject.toml`` capped torch below the
installed one, pip planned a downgrade: torch, triton and 15 CUDA packages, about 4.5 GB. These tests ask pip
itself (``pip install --dry-run --report``) what it would install into an environment that stands in for Colab:

- a fresh virtual environment that sees this interpreter's packages through a ``.pth`` file (numpy, scipy ...:
  what Colab has too), in whose own site-packages, which come first on ``sys.path``, stand-in distributions of
  torch 2.13.0, torchvision 0.28.0 and torchaudio 2.13.0 are installed (empty packages with real metadata);
- an "index" (``--find-links``, no network) that offers stand-ins of the pinned torch 2.11.0 family, so that a
  requirement the installed torch does not meet *can* be resolved by a downgrade, as on Colab.

The same holds for ipywidgets: Colab's own (a stand-in ipywidgets 8.99.0, newer than the pin, installed the same
way) works with the lab, whose requirement is ``ipywidgets>=8.0`` (``Tab(titles=...)`` and ``Accordion(titles=...)``
are ipywidgets 8), so the install cell keeps it: pip plans no ipywidgets package.

The control tests show that this set-up catches a cap: with ``torch<2.12`` pip plans torch 2.11.0, with
``ipywidgets<8.2`` the pinned ipywidgets.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEWER = {"torch": "2.13.0", "torchvision": "0.28.0", "torchaudio": "2.13.0", "ipywidgets": "8.99.0"}
"""What the Colab-like image has: newer than every pin of constraints.txt."""
PINNED = {"torch": "2.11.0", "torchvision": "0.26.0", "torchaudio": "2.11.0", "ipywidgets": "8.1.9"}
"""What the stand-in index offers: the tested pins, i.e. what a capped requirement would downgrade to."""
HEAVY_PREFIXES = ("torch", "triton", "nvidia-")


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def stand_in_wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal valid wheel of distribution ``name`` at ``version``: an empty package and its metadata."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'__version__ = "{version}"  # a stand-in for tests/test_colab_install.py\n'.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test_colab_install\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "\n".join([_record_line(path, data) for path, data in files.items()] + [f"{info}/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr(f"{info}/RECORD", record)
    return path


def pip_env() -> dict[str, str]:
    """This environment without the settings that would point pip elsewhere (find-links, constraints, index)."""
    drop = ("PYTHONPATH", "PIP_FIND_LINKS", "PIP_CONSTRAINT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX")
    return {k: v for k, v in os.environ.items() if k not in drop} | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.fixture(scope="module")
def colab_like(tmp_path_factory):
    """(python of the Colab-like environment, the stand-in index folder)."""
    base = tmp_path_factory.mktemp("colab")
    env_dir, index, installed = base / "env", base / "index", base / "installed"
    index.mkdir()
    installed.mkdir()
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    (Path(own) / "outer-site-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    wheels = [stand_in_wheel(installed, name, version) for name, version in NEWER.items()]
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", *map(str, wheels)], env=pip_env(), check=True, timeout=300)
    for name, version in PINNED.items():
        stand_in_wheel(index, name, version)
    return python, index


def planned(colab_like, tmp_path, *requirements: str) -> dict[str, str]:
    """``name -> version`` of what ``pip install --dry-run`` would install for ``requirements``."""
    python, index = colab_like
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--dry-run", "--quiet",
                           "--report", str(report), "--no-index", "--find-links", str(index), "--no-build-isolation",
                           *requirements], env=pip_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {item["metadata"]["name"].lower(): item["metadata"]["version"]
            for item in json.loads(report.read_text())["install"]}


def test_the_stand_in_environment_has_the_newer_torch(colab_like):
    python, _ = colab_like
    versions = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                               f"print([m.version(n) for n in {tuple(NEWER)}])"],
                              capture_output=True, text=True, check=True, env=pip_env()).stdout.strip()
    assert versions == str(list(NEWER.values()))


@pytest.mark.parametrize("cap, name", [("torch<2.12", "torch"), ("ipywidgets<8.2", "ipywidgets")])
def test_a_capped_requirement_would_be_downgraded_here(colab_like, tmp_path, cap, name):
    """The control: the set-up detects what the old ``torch<2.12`` cap did on Colab, and would for ipywidgets."""
    assert planned(colab_like, tmp_path, cap) == {name: PINNED[name]}


def test_the_lab_requires_an_ipywidgets_that_colabs_newer_one_meets():
    """The package's floor is what the lab needs (ipywidgets 8's ``titles=``), with no cap above."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    widgets = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == "ipywidgets"]
    assert len(widgets) == 1 and widgets[0].specifier.contains(NEWER["ipywidgets"])
    assert not widgets[0].specifier.contains("7.7.1"), "the lab's Tab(titles=...) needs ipywidgets 8"


@pytest.mark.parametrize("extra", ["", "[audio]", "[lab]"])
def test_installing_the_course_plans_no_torch_package_where_a_newer_torch_is_installed(colab_like, tmp_path, extra):
    plan = planned(colab_like, tmp_path, f"{ROOT}{extra}")
    heavy = sorted(name for name in plan if name.startswith(HEAVY_PREFIXES))
    assert not heavy, f"pip would install {heavy} over Colab's torch: {plan}"
    assert "ipywidgets" not in plan, f"pip would replace Colab's ipywidgets {NEWER['ipywidgets']}: {plan}"
    assert "lattice-lab" in plan or "lattice_lab" in plan, plan
