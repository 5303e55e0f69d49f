"""Serve the real app (``reflex run --env prod``) and drive Debian's Chromium with Playwright."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from work_dispatch.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("WD_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "artifacts" / "screenshots"
FAILURES = PROJECT_ROOT / "artifacts" / "e2e-failures"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
MONITOR_TOKEN = "e2e-monitor-token-0123456789"
"""``WD_MONITOR_TOKEN`` of every served app: :meth:`ServedApp.health` sends it to read the details."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"app did not answer {url} in {timeout} s:\n{log.read_text()[-4000:]}")


class ServedApp:
    """A running app: its base URL, database URL and process."""

    def __init__(self, base_url: str, database_url: str, process: subprocess.Popen, log: Path):
        self.base_url = base_url
        self.database_url = database_url
        self.process = process
        self.log = log
        _SERVED.append(self)

    def kill(self) -> None:
        """Crash the server: SIGKILL to the process group we started."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def health(self, token: str | None = MONITOR_TOKEN) -> dict:
        """The server's /health body (also when it answers 503), with the details by default.

        Args:
            token: The monitoring token to send; None asks as an anonymous caller.
        """
        import json
        import urllib.error

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(f"{self.base_url}/health", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())

    def stop(self) -> None:
        """End the process group we started, by its PID."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


_SERVED: list[ServedApp] = []
"""Every app served in this test session, so a failing test can leave their logs behind."""
_SERVICE_LOGS: list[Path] = []
"""Logs of the private PostgreSQL clusters and Redis servers started in this session."""
PG_BIN = Path(os.environ.get("WD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _ping_redis(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class PrivateRedis:
    """A redis-server of one test only, on a free port, without persistence; ended by its PID.

    Never the machine's shared Redis: it listens on a port of its own, and :meth:`kill` sends SIGKILL
    to the process this object started, nothing else.
    """

    def __init__(self, directory: Path):
        if not shutil.which("redis-server"):
            unavailable("redis-server is not installed")
        self.port = free_port()
        self.dir = directory
        self.log = directory / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None
        _SERVICE_LOGS.append(self.log)

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on this object's port and wait until it answers PING."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(self.port)),
                *("--bind", "127.0.0.1"),
                *("--save", ""),
                *("--appendonly", "no"),
                *("--dir", str(self.dir)),
                *("--logfile", str(self.log)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _ping_redis(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"private redis did not start on {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """Crash it: SIGKILL, no shutdown, nothing saved."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """End it cleanly (SIGTERM), or by SIGKILL when it does not go."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class PrivatePostgres:
    """A PostgreSQL cluster of one test only: ``initdb`` into a temporary directory, its own port.

    Never the machine's shared PostgreSQL. ``initdb`` refuses to run as root, so under root the
    cluster belongs to the ``postgres`` system user (``runuser``). :meth:`destroy` stops it and removes
    the directory.
    """

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            unavailable(f"PostgreSQL server binaries are not in {PG_BIN} (set WD_PG_BIN)")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="wd-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                unavailable("running as root, and there is no postgres user to own a test cluster")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._as_owner = ["runuser", "-u", "postgres", "--"]
        _SERVICE_LOGS.append(self.log)
        self._run(
            "initdb",
            *("-D", str(self.data)),
            *("-U", "postgres"),
            *("-A", "trust"),
            *("-E", "UTF8"),
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [*self._as_owner, str(PG_BIN / program), *args], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        """The postmaster's PID while it runs."""
        pid_file = self.data / "postmaster.pid"
        return int(pid_file.read_text().split()[0]) if pid_file.exists() else None

    def start(self) -> None:
        """Start on this object's port (TCP on 127.0.0.1, socket in its own directory)."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._pg_ctl("-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop it (``fast``: disconnect every client, roll back their transactions)."""
        self._pg_ctl("-m", mode, "stop")

    def create_database(self, name: str) -> str:
        """Create a database; its URL."""
        from sqlalchemy import create_engine, text

        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def destroy(self) -> None:
        """Stop the cluster (SIGKILL to its postmaster if it will not stop) and remove its directory."""
        pid = self.pid
        if pid is not None:
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


_BROWSERS: list = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, for :func:`leave_evidence_on_failure`."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(autouse=True)
def leave_evidence_on_failure(request):
    """When an e2e test fails, save every open page's screenshot and every server log.

    They land in ``artifacts/e2e-failures/<test>/`` so that a flaky failure explains itself.
    """
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    target = FAILURES / request.node.name.replace("/", "_")
    target.mkdir(parents=True, exist_ok=True)
    for browser in _BROWSERS:
        for c_index, context in enumerate(browser.contexts):
            for p_index, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(target / f"page-{c_index}-{p_index}.png"), full_page=True)
                    (target / f"page-{c_index}-{p_index}.url").write_text(page.url)
                except Exception as error:  # a crashed page must not hide the test's own failure
                    (target / f"page-{c_index}-{p_index}.error").write_text(repr(error))
    for log in [app.log for app in _SERVED] + _SERVICE_LOGS:
        if log.exists():
            shutil.copy(log, target / log.name)
    print(f"\ne2e failure evidence saved in {target}")


def serve_app(
    tmp_dir: Path,
    database_url: str,
    extra_env: dict[str, str] | None = None,
    root: Path | None = None,
    load_demo: bool = True,
) -> ServedApp:
    """Migrate, load the demo shop and start the production server on a free port.

    Args:
        tmp_dir: Where the log goes.
        database_url: The database the app uses.
        extra_env: More environment for the server.
        root: Project directory to serve from; by default a private copy, because every
            ``reflex run`` rebuilds the frontend with its own port baked in.
        load_demo: Migrate and load the demo shop first.

    Returns:
        The running app.
    """
    port = free_port()
    root = root or project_copy(tmp_dir, f"project-{port}")
    env = {
        **os.environ,
        "WD_DATABASE_URL": database_url,
        "WD_PORT": str(port),
        "REFLEX_USE_NPM": "1",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "WD_MONITOR_TOKEN": MONITOR_TOKEN,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        **(extra_env or {}),
    }
    if "REFLEX_REDIS_URL" not in (extra_env or {}):
        env.pop("REFLEX_REDIS_URL", None)
    if load_demo:
        subprocess.run(
            [sys.executable, "-m", "work_dispatch", "demo"],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
    log = tmp_dir / f"app-{port}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod", "--loglevel", "info"],
            cwd=root,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    app = ServedApp(f"http://127.0.0.1:{port}", database_url, process, log)
    try:
        _wait_for(f"{app.base_url}/ping", process, log, timeout=420)
        _wait_for(f"{app.base_url}/login", process, log, timeout=60)
    except Exception:
        app.stop()
        raise
    return app


@pytest.fixture(scope="session")
def served_app(tmp_path_factory) -> Iterator[ServedApp]:
    """The app on a fresh SQLite database with the demo shop, for the whole session."""
    tmp_dir = tmp_path_factory.mktemp("app")
    app = serve_app(tmp_dir, f"sqlite:///{tmp_dir / 'e2e.db'}", {"WD_DISPATCH_INTERVAL_S": "1"})
    yield app
    app.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        _BROWSERS.append(browser)
        yield browser
        _BROWSERS.remove(browser)
        browser.close()


_COPY_SOURCES: list[Path] = []
_TOP_LEVEL_IGNORED = {
    ".venv",
    ".git",
    "artifacts",
    "data",
    ".states",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
}


def project_copy(tmp_dir: Path, name: str = "project-copy") -> Path:
    """A private copy of the project for one server to build its frontend in.

    Every ``reflex run`` rebuilds ``.web`` with its own port baked in, so two servers must not
    share a directory. Copies come from the first copy whose frontend is installed (one
    ``npm install`` per test session), else from the project itself.
    """
    target = tmp_dir / name
    if not target.exists():
        installed = [p for p in _COPY_SOURCES if (p / ".web" / "node_modules").exists()]
        source = installed[0] if installed else PROJECT_ROOT

        def ignored(directory: str, names: list[str]) -> set[str]:
            return _TOP_LEVEL_IGNORED & set(names) if Path(directory) == source else set()

        shutil.copytree(source, target, symlinks=True, ignore=ignored)
        _COPY_SOURCES.append(target)
    return target


def login(page, base_url: str, username: str, password: str = "demo1234") -> None:
    """Log in through the form."""
    page.goto(f"{base_url}/login")
    page.wait_for_selector("#login-submit")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/screenshots/.

    The page is scrolled to the top first (sticky navigation would otherwise be drawn
    where the scrolled viewport left it) and passing toasts are hidden for the shot.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    hide_toasts = page.add_style_tag(content="[data-sonner-toaster] { visibility: hidden !important; }")
    page.screenshot(path=str(path), full_page=True)
    hide_toasts.evaluate("node => node.remove()")
    return path
