"""Fixtures for the browser tests: a throw-away JupyterLab server and headless Debian Chromium
driven by Playwright, plus helpers that act on a notebook the way a user does (menu clicks,
mouse drags, dropdown choices) and read back what the page shows.

Nothing here touches the user's Jupyter set-up: settings, workspaces, runtime files, config and
the browser profile all live in pytest temp dirs, and the notebooks are served from a temp copy
(with their stored outputs and widget state removed, so only the live kernel can draw a widget).
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("VAELIB_CHROMIUM", "/usr/bin/chromium"))  # Debian's; never `playwright install`
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 90.0  # s until /api/status answers
NOTEBOOK_RUN_TIMEOUT = 150.0  # s for "Run All Cells" to finish (kernel start included)
UI_TIMEOUT_MS = 60_000  # Playwright waits for the Lab UI
# errors a notebook can show: tracebacks on stderr, error outputs, widgets that failed to render
ERROR_OUTPUTS = (
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]:has-text("Traceback"), '
    '.jp-RenderedText[data-mime-type*="error"], '
    '.jp-OutputArea-output:has-text("Error displaying widget")'
)

# JupyterLab user settings that keep pop-ups off the notebook: no news/update toasts, no toasts at
# all, and every cell attached to the DOM (the explorers sit at the end of long notebooks).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
# Server config (a temp JUPYTER_CONFIG_DIR): no "build recommended" check, no announcements.
SERVER_CONFIG = {
    "ServerApp": {"tornado_settings": {"page_config_data": {"buildCheck": False, "buildAvailable": False}}},
    "LabApp": {"news_url": None,
               "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate"},
}


NOTES: list[str] = []  # lines for the terminal summary: which notebook ran, what changed, how long


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if NOTES:
        terminalreporter.write_sep("-", "browser tests")
        for line in NOTES:
            terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the item, and list the test's saved screenshots in a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    artifacts = getattr(item, "browser_artifacts", None)
    if report.failed and artifacts:
        report.sections.append(("browser artifacts", "\n".join(str(p) for p in artifacts)))


# ----------------------------------------------------------------------------- JupyterLab server


@dataclass
class LabServer:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # served folder (ServerApp.root_dir)
    log: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self, relpath: str) -> str:
        return f"{self.url}/lab/tree/{relpath}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder JupyterLab serves: notebooks/ gets the (prepared) notebook copies; data/ and
    reference/ point at the repository's, so notebooks that read ../data or the committed
    ../reference runs work as in the repository."""
    root = tmp_path_factory.mktemp("lab-root")
    (root / "notebooks").mkdir()
    for shared in ("data", "reference"):
        if (REPO / shared).is_dir():
            (root / shared).symlink_to(REPO / shared, target_is_directory=True)
    return root


@pytest.fixture(scope="session")
def lab_server(lab_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    pytest.importorskip("jupyterlab")
    pytest.importorskip("ipywidgets")
    home = tmp_path_factory.mktemp("lab-home")
    settings_dir, config_dir = home / "settings", home / "config"
    for name, value in LAB_SETTINGS.items():
        (settings_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (settings_dir / name).write_text(json.dumps(value))
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
    env = dict(os.environ)
    env.update({
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "MPLBACKEND": "Agg",
        # one torch/BLAS thread per kernel: on 2 busy cores more threads fight Chromium (and other
        # processes) and make the notebooks' training several times slower
        "OMP_NUM_THREADS": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    })
    port, token = free_port(), secrets.token_hex(24)
    log = home / "jupyter-lab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={lab_root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command.append("--ServerApp.allow_root=True")
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=lab_root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, lab_root, log, process)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {process.returncode} before answering; "
                                   f"log {log}:\n{server.log_tail()}")
            try:
                server.api("/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer {server.url}/api/status within "
                                   f"{SERVER_START_TIMEOUT:.0f} s; log {log}:\n{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        stop_server(server)


def stop_server(server: LabServer) -> None:
    """Shut the kernels and the server down politely, then terminate, then kill (its process group,
    which holds the kernels it started)."""
    process = server.process
    if process.poll() is None:
        try:
            server.api("/api/shutdown", method="POST")
            process.wait(timeout=15)
        except Exception:  # noqa: BLE001 - fall through to terminate/kill
            pass
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    try:  # kernels left behind in the group (normally none after /api/shutdown)
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ----------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[browser]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@dataclass
class BrowserPage:
    page: Any
    console_errors: list[str]
    artifacts: list[Path]
    opened: list[tuple[LabServer, str]] = field(default_factory=list)  # (server, notebook path)


@pytest.fixture
def browser_page(browser_context: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BrowserPage]:
    """A fresh tab that records console errors and uncaught page errors; on failure a full-page
    screenshot is added to the test's artifacts (listed in the failure report)."""
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    artifacts: list[Path] = []
    request.node.browser_artifacts = artifacts
    bp = BrowserPage(page, errors, artifacts)
    yield bp
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "page-at-failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            artifacts.append(shot)
            print(f"browser artifacts: {', '.join(str(p) for p in artifacts)}")
        except Exception:  # noqa: BLE001 - the page may be gone
            pass
    page.close()
    for server, relpath in bp.opened:  # free the CPU for the next test: shut the notebooks' kernels down
        shutdown_session(server, relpath)


# ----------------------------------------------------------------------------- notebook helpers


def prepare_notebook(source: Path, dest: Path, overrides: dict[str, Any] | None = None) -> Path:
    """Copy ``source`` to ``dest`` without outputs, execution counts or stored widget state, and
    with ``overrides`` (name -> value) as a cell right after the ``parameters``-tagged cell, as
    papermill would inject them. The browser still runs every cell of the copy."""
    notebook = json.loads(source.read_text())
    notebook.get("metadata", {}).pop("widgets", None)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    if overrides:
        tagged = [i for i, cell in enumerate(notebook["cells"]) if "parameters" in cell.get("metadata", {}).get("tags", [])]
        if not tagged:
            raise ValueError(f"{source} has no cell tagged 'parameters' to override")
        lines = ["# injected by tests/browser for a short run\n"] + [f"{k} = {v!r}\n" for k, v in overrides.items()]
        notebook["cells"].insert(tagged[0] + 1, {
            "cell_type": "code", "execution_count": None, "id": "browser-test-parameters",
            "metadata": {"tags": ["injected-parameters"]}, "outputs": [], "source": lines,
        })
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(notebook, indent=1))
    return dest


def open_and_run_all(bp: BrowserPage, server: LabServer, relpath: str) -> Any:
    """Open ``relpath`` in JupyterLab, wait for its kernel, choose Run > Run All Cells and wait
    until every code cell has run and the kernel is idle. Returns the notebook panel locator.
    A "Select Kernel" dialog (shown when the notebook's kernelspec is unknown) gets Python 3."""
    page = bp.page
    page.goto(server.lab_url(relpath), wait_until="domcontentloaded")
    bp.opened.append((server, relpath))
    # the workspace may restore other notebooks as background tabs: take the shown panel, and
    # check that its tab is ours
    name = relpath.rsplit("/", 1)[-1]
    page.locator(f'.lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel:text-is("{name}")').first.wait_for()
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
    panel.wait_for(state="visible")
    indicator = panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    deadline = time.monotonic() + NOTEBOOK_RUN_TIMEOUT

    def step(what: str, detail: Any = "") -> None:
        accept_kernel_dialog(page)
        errors = error_outputs(panel)
        if errors:
            raise AssertionError(f"{relpath}: a cell failed in the browser:\n" + "\n---\n".join(errors))
        if time.monotonic() > deadline:
            raise AssertionError(f"{relpath}: {what} within {NOTEBOOK_RUN_TIMEOUT:.0f} s {detail}; "
                                 f"server log:\n{server.log_tail()}")
        page.wait_for_timeout(300)

    # the page's kernel indicator says "idle" before a kernel exists: ask the server
    while not (kernel_state(server, relpath) == "idle" and indicator.count()):
        step("no idle kernel", f"(server says {kernel_state(server, relpath)!r})")
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator('.lm-Menu-itemLabel:text-is("Run All Cells")').click()
    prompts = panel.locator(".jp-CodeCell .jp-InputPrompt")
    while True:
        texts = [t.strip() for t in prompts.all_inner_texts()]
        if (texts and all(t[:2] != "[ " and t[:2] != "[*" for t in texts)
                and indicator.count() and kernel_state(server, relpath) == "idle"):
            return panel
        step("Run All Cells did not finish", f"(prompts {texts})")


def accept_kernel_dialog(page: Any) -> None:
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible() and "kernel" in dialog.first.inner_text().lower():
        select = dialog.locator("select")
        if select.count():
            select.first.select_option(label="Python 3 (ipykernel)")
        dialog.locator(".jp-mod-accept").first.click()


def shutdown_session(server: LabServer, relpath: str) -> None:
    try:
        for session in server.api("/api/sessions"):
            if session.get("path") == relpath:
                server.api(f"/api/sessions/{session['id']}", method="DELETE")
    except (urllib.error.URLError, OSError, ValueError):
        pass


def kernel_state(server: LabServer, relpath: str) -> str | None:
    """The execution state the server reports for the kernel of the notebook at ``relpath``."""
    try:
        for session in server.api("/api/sessions"):
            if session.get("path") == relpath and session.get("kernel"):
                return server.api(f"/api/kernels/{session['kernel']['id']}").get("execution_state")
    except (urllib.error.URLError, OSError, ValueError):
        pass
    return None


def error_outputs(panel: Any) -> list[str]:
    """The texts of the error outputs the notebook shows (tracebacks, error mime types, widgets
    that could not be displayed)."""
    return panel.locator(ERROR_OUTPUTS).all_inner_texts()


def image_bytes(page: Any, image: Any) -> bytes:
    """The bytes behind the widget's ``<img>`` (ipywidgets 8 shows them through a blob: URL)."""
    encoded = page.evaluate(
        """async (img) => {
            const data = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
            let text = "";
            for (let i = 0; i < data.length; i += 8192) text += String.fromCharCode(...data.subarray(i, i + 8192));
            return btoa(text);
        }""",
        image.element_handle(),
    )
    return base64.b64decode(encoded)


def wait_for_new_image(page: Any, image: Any, old_src: str, timeout_ms: int = 30_000, settle_ms: int = 600) -> str:
    """Wait until the ``<img>`` shows another picture than ``old_src`` and then stays unchanged
    for ``settle_ms`` (a drag sends several updates); returns the final src."""
    page.wait_for_function("([img, old]) => img.src && img.src !== old", arg=[image.element_handle(), old_src],
                           timeout=timeout_ms)
    src = image.get_attribute("src")
    while True:
        page.wait_for_timeout(settle_ms)
        now = image.get_attribute("src")
        if now == src:
            wait_for_image_loaded(page, image)
            return src
        src = now


def wait_for_image_loaded(page: Any, image: Any) -> None:
    """Wait until the ``<img>`` has a picture, decoded and laid out (before reading or shooting it)."""
    page.wait_for_function("img => img.src && img.complete && img.naturalWidth > 0", arg=image.element_handle())


def drag_slider(page: Any, slider: Any, fraction: float = 0.25) -> None:
    """Drag the slider's handle with the mouse, in small steps, by ``fraction`` of its track's
    width towards the middle of the track (so a handle at either end still moves)."""
    handle = slider.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    box, track = handle.bounding_box(), slider.locator(".noUi-base").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    direction = 1.0 if x < track["x"] + track["width"] / 2 + 1 else -1.0
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + direction * fraction * track["width"], y, steps=12)
    page.mouse.up()


def pixels_differ(png_a: bytes, png_b: bytes, columns: tuple[float, float] = (0.0, 1.0)) -> float:
    """Fraction of pixels that differ between two PNGs of the same size (1.0 if the sizes differ),
    within the band of ``columns`` (fractions of the width, e.g. (0.6, 1.0) for the right 40 %)."""
    import io

    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(png_a)).convert("RGB"))
    b = np.asarray(Image.open(io.BytesIO(png_b)).convert("RGB"))
    if a.shape != b.shape:
        return 1.0
    lo, hi = (round(f * a.shape[1]) for f in columns)
    return float(np.any(a[:, lo:hi] != b[:, lo:hi], axis=-1).mean())


@pytest.fixture(scope="session")
def lab() -> SimpleNamespace:
    """The helpers above, for the test modules (conftest.py is not importable by name)."""
    return SimpleNamespace(
        prepare_notebook=prepare_notebook, open_and_run_all=open_and_run_all, error_outputs=error_outputs,
        image_bytes=image_bytes, wait_for_new_image=wait_for_new_image, wait_for_image_loaded=wait_for_image_loaded,
        drag_slider=drag_slider, pixels_differ=pixels_differ, note=NOTES.append,
    )
