"""Redis missing at start or lost mid-run, a shared tablet changing hands, a deactivated operator."""

import shutil
import subprocess
import time

import pytest
from sqlmodel import Session

from tests.conftest import actor_for, unavailable
from tests.e2e.conftest import TABLET, free_port, login, screenshot, serve_app
from tests.e2e.seed import approved_order, engine_for, one_person_department, publish_and_dispatch, tasks_of
from work_dispatch.models import User, UserDepartment
from work_dispatch.services import task_flow

pytestmark = pytest.mark.e2e


class PrivateRedis:
    """A redis-server of this test only, on its own port, ended by its PID."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"], capture_output=True
                ).stdout.strip()
                == b"PONG"
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _wait(check, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(message)


@pytest.fixture
def private_redis(tmp_path):
    if not shutil.which("redis-server"):
        unavailable("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    yield redis
    redis.stop()


@pytest.mark.slow
def test_redis_missing_at_start_is_refused_and_loss_mid_run_is_reported(tmp_path, private_redis):
    url = f"sqlite:///{tmp_path / 'redis-faults.db'}"
    with pytest.raises(RuntimeError, match="Unable to connect to Redis"):
        serve_app(tmp_path, url, {"REFLEX_REDIS_URL": private_redis.url, "GRANIAN_WORKERS": "1"})

    private_redis.start()
    app = serve_app(
        tmp_path, url, {"REFLEX_REDIS_URL": private_redis.url, "GRANIAN_WORKERS": "1"}, load_demo=False
    )
    try:
        _wait(lambda: app.health()["worker"]["dispatcher"], 15, "never became dispatcher")
        assert app.health()["status"] == "ok"
        private_redis.stop()
        _wait(lambda: app.health()["redis"]["ok"] is False, 10, "health did not notice Redis going away")
        body = app.health()
        assert body["status"] == "degraded"
        _wait(lambda: not app.health()["worker"]["dispatcher"], 15, "kept dispatching without Redis")
        assert "giving up dispatcher leadership" in app.log.read_text()
        private_redis.start()
        _wait(
            lambda: app.health()["status"] == "ok" and app.health()["worker"]["dispatcher"],
            20,
            "did not recover when Redis came back",
        )
    finally:
        app.stop()


def test_shared_tablet_hand_over_and_deactivated_operator(served_app, browser):
    url = served_app.database_url
    ids = one_person_department(url, "SH")
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        second = User(
            username="shop2",
            display_name="Sam Second",
            password_hash=db.get(User, ids["operator"]).password_hash,
            role="operator",
            wip_limit=5,
        )
        db.add(second)
        db.flush()
        db.add(UserDepartment(user_id=second.id, department_id=ids["department"]))
        db.commit()
    order_id, _ = approved_order(url, [ids["process"], ids["second_process"]])
    publish_and_dispatch(url, order_id)
    first_task = tasks_of(url, order_id)[0]

    tablet = browser.new_context(viewport=TABLET, has_touch=True).new_page()
    login(tablet, served_app.base_url, ids["username"])
    tablet.wait_for_selector(f'.my-task[data-task-id="{first_task.id}"]')
    tablet.click("#logout-button")
    tablet.wait_for_url("**/login**")
    assert "Tess SH" not in tablet.inner_text("body")
    assert tablet.locator(".my-task").count() == 0
    login(tablet, served_app.base_url, "shop2")
    tablet.wait_for_selector("#page-title")
    tablet.wait_for_function("() => document.querySelector('#page-title')?.innerText.includes('Sam Second')")
    assert tablet.locator(f'.my-task[data-task-id="{first_task.id}"]').count() == 0
    assert "Tess SH" not in tablet.inner_text("body")
    screenshot(tablet, "shared-tablet-second-operator")

    other = browser.new_context(viewport=TABLET).new_page()
    login(other, served_app.base_url, ids["username"])
    other.wait_for_selector(f'.my-task[data-task-id="{first_task.id}"]')
    with Session(engine) as db:
        user = db.get(User, ids["operator"])
        user.is_active = False
        db.add(user)
        db.commit()
    second_task = tasks_of(url, order_id)[1]
    with Session(engine) as db:
        task_flow.unassign(db, actor_for(db, "super1"), second_task.id, "for the pool")
    tablet.reload()
    claim = tablet.locator(f'.pool-task[data-task-id="{second_task.id}"] .claim-button')
    claim.click()
    tablet.wait_for_selector(f'.my-task[data-task-id="{second_task.id}"]')
    # The claim reached the deactivated operator's session as a department change: its data is wiped
    # instead of refreshed, without a reload.
    other.wait_for_selector(f'.my-task[data-task-id="{first_task.id}"]', state="detached", timeout=10_000)
    assert "Tess SH" not in other.inner_text("body")
    other.reload()
    other.wait_for_url("**/login**")
    engine.dispose()
