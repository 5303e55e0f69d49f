"""A supervisor adds a customer and a process in the catalog and uses the customer on a work order."""

import pytest
from sqlmodel import Session, select

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import engine_for
from work_dispatch.models import Customer, Department, Process

pytestmark = pytest.mark.e2e


def test_supervisor_keeps_the_catalog(served_app, browser):
    page = browser.new_context(viewport=DESKTOP).new_page()
    login(page, served_app.base_url, "super1")
    page.wait_for_url("**/supervisor")
    page.click('a[href="/supervisor/catalog"]')
    page.wait_for_selector(".customer-row")

    page.fill("#customer-name", "Northwind Foods")
    page.click("#save-customer")
    page.wait_for_function("() => document.querySelector('.field-error')?.innerText.includes('already has')")
    page.fill("#customer-name", "Orchid Press")
    page.fill("#customer-contact", "ana@orchid.example")
    page.click("#save-customer")
    page.wait_for_selector("text=Saved customer Orchid Press.")

    page.fill("#process-code", "uv-coat")
    page.fill("#process-name", "UV coating")
    page.fill("#process-standard_minutes", "45")
    page.click("#save-process")
    page.wait_for_selector("text=Saved process UV coating.")
    page.locator('.process-row:has-text("UV coating") .edit-process').click()
    page.wait_for_function("() => document.querySelector('#process-code')?.value === 'UV-COAT'")
    page.fill("#process-standard_minutes", "50")
    page.click("#save-process")
    page.wait_for_selector('.process-row:has-text("UV coating"):has-text("50 min")')

    page.fill("#product-code", "flyer")
    page.fill("#product-name", "A5 flyer")
    page.fill("#product-unit", "sheets")
    page.click("#save-product")
    page.wait_for_function("() => document.body.innerText.includes('at least one process')")
    for process in ("Offset printing", "Preflight & imposition", "UV coating"):
        page.click("#product-add-step")
        page.get_by_role("option", name=process, exact=True).click()
    page.wait_for_function("() => document.querySelectorAll('.product-route-step').length === 3")
    page.locator(".product-route-step").nth(1).get_by_role("button", name="Move up").click()
    page.wait_for_function(
        "() => document.querySelector('.product-route-step')?.innerText.includes('Preflight')"
    )
    page.click("#save-product")
    page.wait_for_selector("text=Saved product A5 flyer.")
    page.wait_for_selector('.product-row:has-text("A5 flyer")')

    page.fill("#customer-search", "orchid")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.customer-row').length === 1")
    screenshot(page, "catalog-desktop")
    assert page.locator("#save-department").count() == 0
    assert "Only admins change departments." in page.inner_text("body")

    engine = engine_for(served_app.database_url)
    with Session(engine) as db:
        customer = db.exec(select(Customer).where(Customer.name == "Orchid Press")).one()
        assert customer.contact == "ana@orchid.example"
        process = db.exec(select(Process).where(Process.code == "UV-COAT")).one()
        assert (process.name, process.standard_minutes, process.is_active) == ("UV coating", 50, True)
    engine.dispose()

    page.goto(f"{served_app.base_url}/supervisor/work-orders")
    page.click("#new-work-order")
    page.wait_for_selector("#save")
    page.click("#customer")
    page.get_by_role("option", name="Orchid Press", exact=True).click()
    page.wait_for_function("() => document.querySelector('#customer')?.innerText.includes('Orchid Press')")
    page.click("#product")
    page.get_by_role("option", name="A5 flyer (FLYER)", exact=True).click()
    page.wait_for_function("() => document.querySelectorAll('.route-step').length === 3")
    steps = page.locator(".route-step").all_inner_texts()
    assert ["Preflight" in steps[0], "Offset" in steps[1], "UV coating" in steps[2]] == [True, True, True]

    tablet = browser.new_context(viewport=TABLET).new_page()
    login(tablet, served_app.base_url, "admin")
    tablet.wait_for_url("**/supervisor")
    tablet.goto(f"{served_app.base_url}/supervisor/catalog")
    tablet.wait_for_selector(".department-row")
    tablet.fill("#department-code", "lam")
    tablet.fill("#department-name", "Lamination")
    tablet.click("#save-department")
    tablet.wait_for_selector('.department-row:has-text("Lamination")')
    screenshot(tablet, "catalog-tablet")
    with Session(engine) as db:
        department = db.exec(select(Department).where(Department.code == "LAM")).one()
        assert department.name == "Lamination" and department.is_active
    engine.dispose()
