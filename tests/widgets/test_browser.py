"""Real-browser tests: the live-pruning notebook in JupyterLab and in Voilà, driven by Playwright.

Each test starts a server on a free port (in fast mode, on a temporary copy of the notebook),
opens the page in Debian's chromium, runs the notebook, moves the PruningLab's amount slider
with the keyboard and waits for the accuracy readout to change. Screenshots go to the test's
temporary folder. Voilà is opened twice: standalone on notebook 08 (``voila file.ipynb``), and on the
dashboard the way Binder serves the README's Voilà badge, through Voilà's server extension of a
``jupyter server`` (``/voila/render/notebooks/dashboard.ipynb``), in a 1366×768 window: there the lab's
accuracy readout and the explorer's figure must lie inside the first screen (a screenshot of it is
kept), and the explorer over the committed results must answer a change of method too.

Skip policy: without ``/usr/bin/chromium`` (or the playwright package) the tests skip with the
reason, except when the environment variable ``CI`` is set: there a missing browser fails.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "08_compare_everything.ipynb"
DASHBOARD = NOTEBOOK.parent / "dashboard.ipynb"
SCREEN = {"width": 1366, "height": 768}
"""The first screen of a common laptop: the dashboard's lab readout and figure must be in it."""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_S = 90
NOTEBOOK_RUN_MS = 150_000
READOUT_CHANGE_MS = 120_000  # the notebook's later cells (its exercises) run first
# JupyterLab exposes its application object (--LabApp.expose_app_in_browser): the notebook's kernel is ready
# when its status is idle, and "Run All Cells" is then one command, whatever the menus look like.
KERNEL_IDLE = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = widget && widget.sessionContext && widget.sessionContext.session
        && widget.sessionContext.session.kernel;
    return !!kernel && kernel.status === "idle";
}"""


def missing(reason: str) -> None:
    """Skip locally, fail in CI (where .ci/run installs the browser)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run here)")
    pytest.skip(reason)


@pytest.fixture
def playwright_api():
    if not CHROMIUM.exists():
        missing("chromium not installed: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed: pip install playwright (never `playwright install`)")
    return sync_playwright


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_env(tmp_path):
    """Fast mode, and every Jupyter folder inside the test's temporary folder."""
    env = dict(os.environ, LATTICE_LAB_FAST="1", LATTICE_LAB_QUIET="1", PYTHONUNBUFFERED="1")
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        folder = tmp_path / "jupyter" / name.lower()
        folder.mkdir(parents=True)
        env[name] = str(folder)
    return env


@pytest.fixture
def notebook_dir(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    return folder


def answers(url: str | None, port: int) -> bool:
    """Whether the server is up: ``url`` returns a page, or (no url) the port accepts connections."""
    if url is None:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def running(command: list[str], port: int, url: str | None, env: dict, log: Path):
    """Start a server in its own process group, wait until it answers, stop it afterwards.

    Voilà runs the notebook for every page it serves, so it is probed by its port, not a page.
    """
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + SERVER_START_S
            while True:
                if process.poll() is not None:
                    pytest.fail(f"{command[2]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
                if answers(url, port):
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"{command[2]} did not answer within {SERVER_START_S} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def move_slider_and_read(page, readout, tmp_path: Path, name: str) -> tuple[str, str]:
    """Wait for the accuracy readout, press End on the amount slider, wait for the readout to change."""
    from playwright.sync_api import expect

    expect(readout).to_contain_text("%", timeout=NOTEBOOK_RUN_MS)
    status = page.locator(".ll-status").first
    expect(status).not_to_contain_text("computing", timeout=NOTEBOOK_RUN_MS)
    # textContent, not innerText: JupyterLab 4 renders off-screen cells with content-visibility: auto,
    # whose innerText is empty, and "run all" leaves the view at the notebook's end, far below the lab.
    before = readout.text_content()
    page.screenshot(path=str(tmp_path / f"{name}-before.png"), full_page=True)
    handle = page.locator(".ll-amount .noUi-handle").first
    handle.focus()
    handle.press("End")
    expect(readout).not_to_have_text(before, timeout=READOUT_CHANGE_MS)
    expect(readout).to_contain_text("%", timeout=READOUT_CHANGE_MS)
    after = readout.text_content()
    page.screenshot(path=str(tmp_path / f"{name}-after.png"), full_page=True)
    return before, after


def accuracy_of(text: str) -> str:
    match = re.search(r"accuracy\s+([\d.]+%)", text)
    assert match, text
    return match.group(1)


def launch(api):
    return api.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def test_jupyterlab_runs_the_notebook_and_the_slider_changes_the_accuracy(playwright_api, server_env,
                                                                          notebook_dir, tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}", f"--notebook-dir={notebook_dir}",
               f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.news_url=None",
               "--LabApp.expose_app_in_browser=True",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    base = f"http://127.0.0.1:{port}"
    with running(command, port, f"{base}/api/status?token={token}", server_env, tmp_path / "jupyterlab.log"):
        with playwright_api() as api:
            browser = launch(api)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.locator(".jp-Notebook").first.wait_for(timeout=90_000)
            page.locator(".jp-Notebook-cell").first.wait_for(timeout=90_000)
            page.wait_for_function(KERNEL_IDLE, timeout=90_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            readout = page.locator(".ll-accuracy").first
            readout.wait_for(timeout=NOTEBOOK_RUN_MS)
            before, after = move_slider_and_read(page, readout, tmp_path, "jupyterlab")
            browser.close()
    assert accuracy_of(before) != accuracy_of(after)
    assert (tmp_path / "jupyterlab-after.png").stat().st_size > 0


def test_voila_renders_the_lab_and_the_slider_changes_the_accuracy(playwright_api, server_env, notebook_dir,
                                                                   tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               str(notebook_dir / NOTEBOOK.name)]
    base = f"http://127.0.0.1:{port}"
    with running(command, port, None, server_env, tmp_path / "voila.log"):
        with playwright_api() as api:
            browser = launch(api)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(base, timeout=NOTEBOOK_RUN_MS)
            readout = page.locator(".ll-accuracy").first
            readout.wait_for(timeout=NOTEBOOK_RUN_MS)
            before, after = move_slider_and_read(page, readout, tmp_path, "voila")
            browser.close()
    assert accuracy_of(before) != accuracy_of(after)
    assert (tmp_path / "voila-after.png").stat().st_size > 0


def inside_the_screen(page, locator) -> dict:
    """The element's box (viewport coordinates, the page scrolled to its top); fails unless it lies in SCREEN."""
    page.evaluate("window.scrollTo(0, 0)")
    box = locator.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0, box
    assert 0 <= box["x"] and box["x"] + box["width"] <= SCREEN["width"] and 0 <= box["y"] \
        and box["y"] + box["height"] <= SCREEN["height"], f"{box} is not inside the first {SCREEN} screen"
    return box


def test_voila_badge_route_renders_the_dashboard_with_lab_and_figure_in_the_first_screen(playwright_api, server_env,
                                                                                        tmp_path):
    """The Binder badge's URL: Voilà's server extension (``voila/render/...``) of a ``jupyter server``."""
    from playwright.sync_api import expect
    from PIL import Image, ImageStat

    root = tmp_path / "repository"  # Binder serves the repository root; the badge names notebooks/dashboard...
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(DASHBOARD, root / "notebooks" / DASHBOARD.name)
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "server", "--allow-root", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}"]
    base = f"http://127.0.0.1:{port}"
    with running(command, port, f"{base}/api/status?token={token}", server_env, tmp_path / "server.log"):
        with playwright_api() as api:
            browser = launch(api)
            page = browser.new_page(viewport=SCREEN)
            response = page.goto(f"{base}/voila/render/notebooks/{DASHBOARD.name}?token={token}",
                                 timeout=NOTEBOOK_RUN_MS)
            assert response is not None and response.status == 200
            readout = page.locator(".ll-accuracy").first
            expect(readout).to_contain_text("%", timeout=NOTEBOOK_RUN_MS)
            expect(page.locator(".ll-status").first).not_to_contain_text("computing", timeout=NOTEBOOK_RUN_MS)
            figure = page.locator(".ll-dashboard-results img").first
            page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=figure.element_handle(),
                                   timeout=NOTEBOOK_RUN_MS)
            inside_the_screen(page, readout)
            box = inside_the_screen(page, figure)
            assert box["width"] > 300, box  # a figure, not a thumbnail
            page.screenshot(path=str(tmp_path / "dashboard-first-screen.png"))  # the viewport only: the first screen
            shot = Image.open(tmp_path / "dashboard-first-screen.png").convert("L")
            assert shot.size == (SCREEN["width"], SCREEN["height"])
            left, top = int(box["x"]), int(box["y"])
            drawn = shot.crop((left, top, left + int(box["width"]), top + int(box["height"])))
            assert ImageStat.Stat(drawn).stddev[0] > 10, "the figure's place in the screenshot is blank"
            explorer = page.locator(".ll-dashboard-results").first
            readouts = explorer.locator(".ll-readouts").first
            expect(readouts).to_contain_text("what structure bought", timeout=NOTEBOOK_RUN_MS)
            before_explorer = readouts.inner_text()
            explorer.locator("select").nth(2).select_option(label="spectral")  # dataset, model, method
            expect(readouts).not_to_have_text(before_explorer, timeout=READOUT_CHANGE_MS)
            expect(readouts).to_contain_text("magnitude-units at the same number of units", timeout=READOUT_CHANGE_MS)
            before, after = move_slider_and_read(page, readout, tmp_path, "voila-route")
            browser.close()
    assert accuracy_of(before) != accuracy_of(after)
    assert (tmp_path / "voila-route-after.png").stat().st_size > 0


LIVE_SOURCE = """\
import lattice_lab as ll
import lattice_lab.widgets

model = ll.checkpoints.load("digits-lstm")[0]
lab = ll.widgets.PruningLab(model, ll.data.load("digits", "test"), train_data=ll.data.load("digits", "train"),
                            method="gradual-magnitude", quick=True)
lab.controls["option.epochs"].value = 400  # a run long enough to be seen running
lab"""


def test_voila_a_schedule_runs_in_the_background_with_the_controls_usable(playwright_api, server_env, tmp_path):
    """Widgets updated from the lab's worker thread reach a real page: progress while it runs, the source after."""
    import nbformat
    from playwright.sync_api import expect

    folder = tmp_path / "live"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LIVE_SOURCE)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "live.ipynb")
    port = free_port()
    command = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               str(folder / "live.ipynb")]
    with running(command, port, None, server_env, tmp_path / "voila.log"):
        with playwright_api() as api:
            browser = launch(api)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(f"http://127.0.0.1:{port}", timeout=NOTEBOOK_RUN_MS)
            job = page.locator(".ll-job").first
            expect(job).to_contain_text("step", timeout=NOTEBOOK_RUN_MS)  # the worker thread's progress arrives
            assert page.locator(".ll-lab select").first.is_enabled()  # the method dropdown, while it runs
            expect(page.locator(".ll-status").first).to_contain_text("not computed yet")
            expect(page.locator(".ll-source").first).to_contain_text("from one gradual-magnitude run",
                                                                     timeout=READOUT_CHANGE_MS)
            expect(page.locator(".ll-accuracy").first).to_contain_text("%")
            page.screenshot(path=str(tmp_path / "live-done.png"), full_page=True)
            browser.close()
