"""Chinese on the shop floor: a shared tablet set to 中文 stays Chinese whoever logs in.

The operator claims, starts, reports and completes a task with every word on screen in Chinese;
the same tablet switched to English reads English; the login page follows ``Accept-Language``;
and every supervisor page renders in both languages with no catalog key left on screen.
Screenshots of each land in artifacts/screenshots/ (``zh-*`` and ``en-*``).
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import approved_order, engine_for, tasks_of
from work_dispatch.models import AssignmentRule, Department, Process, User, UserDepartment
from work_dispatch.services import auth
from work_dispatch.services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

LEFT_OVER_KEY = re.compile(r"\b(ui|enum|error|field)\.[a-z_]+\.[a-z_.]+")
"""A catalog key shown instead of its text."""


def pool_department(url: str, code: str) -> dict:
    """A department whose tasks wait in its pool (operators claim them), with one operator."""
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        department = Department(code=code, name=f"Pool {code}", names={"zh-CN": "包装"}, sort_order=98)
        process = Process(code=f"P{code}", name=f"Boxing {code}", names={"zh-CN": "装箱"}, standard_minutes=5)
        operator = User(
            username=f"{code.lower()}op",
            display_name="Li Na",
            password_hash=auth.hash_password(DEMO_PASSWORD),
            role="operator",
            wip_limit=5,
        )
        db.add_all([department, process, operator])
        db.flush()
        db.add(UserDepartment(user_id=operator.id, department_id=department.id))
        db.add(
            AssignmentRule(process_id=process.id, department_id=department.id, priority=90, strategy="pool")
        )
        db.commit()
        ids = {"process": process.id, "username": operator.username, "operator": operator.id}
    engine.dispose()
    return ids


def _preferred_locale(url: str, username: str) -> str:
    engine = engine_for(url)
    with Session(engine) as db:
        locale = db.exec(select(User.locale).where(User.username == username)).one()
    engine.dispose()
    return locale


def _no_keys_on_screen(page) -> None:
    text = page.inner_text("body")
    assert not LEFT_OVER_KEY.search(text), f"catalog key on screen: {LEFT_OVER_KEY.search(text).group(0)}"


def _card_shows(page, task_id: int, text: str) -> None:
    card = f'.my-task[data-task-id="{task_id}"]'
    page.wait_for_function(f"() => document.querySelector('{card}')?.innerText.includes({text!r})")


def _choose(page, locale: str) -> None:
    page.click(f"#locale-switcher .locale-{locale}")


def test_operator_works_a_task_in_chinese_on_a_shared_tablet(served_app, browser):
    url = served_app.database_url
    ids = pool_department(url, "ZH")
    order_id, _ = approved_order(url, [ids["process"]], quantity=30000)
    task = tasks_of(url, order_id)[0]

    # A shared tablet whose browser says English: someone picks 中文 on the login page.
    tablet = browser.new_context(viewport=TABLET, has_touch=True, locale="en-US").new_page()
    tablet.goto(f"{served_app.base_url}/login")
    tablet.wait_for_function("() => document.querySelector('#login-submit')?.innerText === 'Log in'")
    _choose(tablet, "zh-CN")
    tablet.wait_for_function("() => document.querySelector('#login-submit')?.innerText === '登录'")
    assert "车间任务生成与派工" in tablet.inner_text("body")
    screenshot(tablet, "zh-login-tablet")

    login(tablet, served_app.base_url, ids["username"])
    tablet.wait_for_url("**/operator")
    tablet.wait_for_selector("#pool-empty")
    assert tablet.inner_text("#page-title") == "你好，Li Na"
    body = tablet.inner_text("body")
    for text in ("我的任务", "部门任务池", "目前没有派给你的任务。", "任务池是空的。", "包装", "退出登录"):
        assert text in body, text

    # A supervisor publishes the work order; dispatch queues its task in the pool and pushes it.
    supervisor = browser.new_context(viewport=DESKTOP).new_page()
    login(supervisor, served_app.base_url, "super1")
    supervisor.wait_for_url("**/supervisor")
    supervisor.goto(f"{served_app.base_url}/supervisor/drafts?work_order={order_id}")
    supervisor.click(".publish-order")
    card = tablet.locator(f'.pool-task[data-task-id="{task.id}"]')
    card.wait_for(timeout=20_000)
    card_text = card.inner_text()
    for text in ("装箱", "加急", "在任务池", "0 / 30,000", "领取"):
        assert text in card_text, text

    card.locator(".claim-button").click()
    tablet.wait_for_selector(f"text=任务 #{task.id} 已领取。")
    mine = tablet.locator(f'.my-task[data-task-id="{task.id}"]')
    mine.wait_for()
    assert "已派工" in mine.inner_text()
    mine.locator(".start-button").click()
    _card_shows(tablet, task.id, "进行中")
    mine.locator(".report-button").click()
    tablet.wait_for_selector(f"text=报工 · 任务 #{task.id}")
    assert "合格数量" in tablet.inner_text("[role=dialog]")
    tablet.fill("#report-completed", "12000")
    tablet.click("#submit-report")
    tablet.wait_for_selector("text=报工成功。")
    _card_shows(tablet, task.id, "12,000 / 30,000")
    _no_keys_on_screen(tablet)
    screenshot(tablet, "zh-operator-tablet")

    # The same tablet in English, then back: static text switches at once, server text reloads.
    _choose(tablet, "en")
    tablet.wait_for_selector("text=My tasks")
    _card_shows(tablet, task.id, "Boxing ZH")
    assert "in progress" in mine.inner_text().lower() and "Complete" in mine.inner_text()
    screenshot(tablet, "en-operator-tablet")
    assert _preferred_locale(url, ids["username"]) == "en", "the switch is the user's preference too"
    tablet.set_viewport_size(DESKTOP)
    screenshot(tablet, "en-operator-desktop")
    _choose(tablet, "zh-CN")
    tablet.wait_for_selector("text=我的任务")
    _card_shows(tablet, task.id, "装箱")
    screenshot(tablet, "zh-operator-desktop")
    tablet.set_viewport_size(TABLET)
    assert _preferred_locale(url, ids["username"]) == "zh-CN"

    mine.locator(".pause-button").click()
    tablet.wait_for_selector("text=暂停原因是什么？")
    assert "等待物料" in tablet.inner_text("#pause-reasons")
    screenshot(tablet, "zh-pause-dialog-tablet")
    tablet.click("#confirm-pause")
    _card_shows(tablet, task.id, "已暂停：设备故障")  # the first category is preselected
    mine.locator(".resume-button").click()
    mine.locator(".complete-button").wait_for()
    mine.locator(".complete-button").click()
    tablet.wait_for_selector(f"text=任务 #{task.id} 已完成。")
    tablet.wait_for_selector(f'.my-task[data-task-id="{task.id}"]', state="detached")

    # Logging out keeps the tablet Chinese for the next person.
    tablet.click("#logout-button")
    tablet.wait_for_url("**/login**")
    tablet.wait_for_function("() => document.querySelector('#login-submit')?.innerText === '登录'")

    # Another device: the login page follows Accept-Language ...
    chinese_browser = browser.new_context(viewport=TABLET, locale="zh-CN").new_page()
    chinese_browser.goto(f"{served_app.base_url}/login")
    chinese_browser.wait_for_function("() => document.querySelector('#login-submit')?.innerText === '登录'")
    english_browser = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    english_browser.goto(f"{served_app.base_url}/login")
    english_browser.wait_for_function("() => document.querySelector('#login-submit')?.innerText === 'Log in'")
    screenshot(english_browser, "en-login-desktop")
    # ... and, once signed in, the user's preference wins over the browser's language.
    login(english_browser, served_app.base_url, ids["username"])
    english_browser.wait_for_url("**/operator")
    english_browser.wait_for_selector("text=我的任务")


SUPERVISOR_PAGES = [
    ("/supervisor", "总览", "Dashboard"),
    ("/supervisor/work-orders", "工单", "Work orders"),
    ("/supervisor/work-orders/edit", "工单", "Work orders"),
    ("/supervisor/drafts", "草稿审核", "Draft review"),
    ("/supervisor/board", "实时看板", "Live board"),
    ("/supervisor/rules", "派工规则", "Assignment rules"),
    ("/supervisor/catalog", "基础资料", "Catalog"),
    ("/supervisor/people", "人员", "People"),
    ("/supervisor/connect", "连接平板", "Connect tablets"),
]


@pytest.mark.parametrize(("locale", "viewport"), [("zh-CN", DESKTOP), ("en", DESKTOP), ("zh-CN", TABLET)])
def test_every_supervisor_page_reads_in_the_chosen_language(served_app, browser, locale, viewport):
    page = browser.new_context(viewport=viewport, locale="en-US").new_page()
    page.goto(f"{served_app.base_url}/login?lang={locale}")  # a link can set the device's language
    submit = "登录" if locale == "zh-CN" else "Log in"
    page.wait_for_function(f"() => document.querySelector('#login-submit')?.innerText === {submit!r}")
    login(page, served_app.base_url, "admin")
    page.wait_for_url("**/supervisor")
    size = "desktop" if viewport is DESKTOP else "tablet"
    prefix = "zh" if locale == "zh-CN" else "en"
    for path, chinese, english in SUPERVISOR_PAGES:
        page.goto(f"{served_app.base_url}{path}")
        expected = chinese if locale == "zh-CN" else english
        page.wait_for_function(
            f"() => document.querySelector('#page-title')?.innerText.includes({expected!r})", timeout=20_000
        )
        page.wait_for_selector(".rt-Spinner", state="detached")
        _no_keys_on_screen(page)
        if locale == "zh-CN":
            assert page.title().endswith("· work_dispatch") and expected[:2] in page.title()
        name = path.strip("/").replace("/", "-") or "supervisor"
        screenshot(page, f"{prefix}-{name}-{size}")
