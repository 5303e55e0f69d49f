"""A supervisor whose sessions end while the board is open receives nothing more; other boards stay live."""

import pytest
from sqlmodel import Session, select

from tests.e2e.conftest import DESKTOP, TABLET, login
from tests.e2e.seed import approved_order, engine_for, one_person_department, publish_and_dispatch, tasks_of
from work_dispatch.models import User
from work_dispatch.services import auth

pytestmark = pytest.mark.e2e

IN_PROGRESS_COUNT = """() => {
    const button = document.querySelector('.status-count[data-status="in_progress"]');
    const count = button && button.innerText.match(/(\\d+)\\s*$/);
    return count ? parseInt(count[1], 10) : null;
}"""


def _open_board(browser, base_url: str, username: str):
    page = browser.new_context(viewport=DESKTOP).new_page()
    login(page, base_url, username)
    page.wait_for_url("**/supervisor")
    page.goto(f"{base_url}/supervisor/board")
    page.wait_for_selector(".board-row")
    page.wait_for_function(f"() => ({IN_PROGRESS_COUNT})() !== null")
    return page


def test_a_board_whose_sessions_ended_is_wiped_by_the_next_push_and_other_boards_stay_live(
    served_app, browser
):
    url = served_app.database_url
    ids = one_person_department(url, "LS")
    order_id, _ = approved_order(url, [ids["process"]], quantity=10)
    publish_and_dispatch(url, order_id)
    engine = engine_for(url)
    task = next(t for t in tasks_of(url, order_id) if t.assigned_operator_id == ids["operator"])

    ended = _open_board(browser, served_app.base_url, "super2")
    live = _open_board(browser, served_app.base_url, "admin")
    before = live.evaluate(IN_PROGRESS_COUNT)
    tablet = browser.new_context(viewport=TABLET).new_page()
    login(tablet, served_app.base_url, ids["username"])
    start = tablet.locator(f'.my-task[data-task-id="{task.id}"] .start-button')
    start.wait_for()

    # The admin ends super2's sessions (as People's "end sessions" does); nothing is published yet.
    with Session(engine) as db:
        user = db.exec(select(User).where(User.username == "super2")).one()
        assert auth.revoke_user_sessions(db, user.id) >= 1
    start.click()

    # The start is pushed to the boards: the live one counts it, the ended one is emptied instead.
    live.wait_for_function(f"() => ({IN_PROGRESS_COUNT})() === {before + 1}", timeout=10_000)
    ended.wait_for_function("() => document.querySelectorAll('.board-row').length === 0", timeout=10_000)
    assert ended.locator(".status-count").count() == 0
    assert "Sofia Supervisor" not in ended.inner_text("body")
    ended.reload()
    ended.wait_for_url("**/login**")
    engine.dispose()
