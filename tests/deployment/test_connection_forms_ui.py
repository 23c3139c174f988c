"""The add-connection form of each of our connection types, in the real Airflow UI, in a real browser.

Headless Chromium (Debian's ``chromium`` package, driven by Playwright's
bundled driver; no browser download) opens Admin > Connections > Add
Connection on the deployment's api-server, picks each connection type by
its hook name, and checks what a user sees: relabelled standard fields with
their placeholders, hidden fields gone, the password as a password input,
and our extra fields with their labels and help texts. A screenshot of the
standard and of the extra fields of each form is saved under
``test-artifacts/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_docstatus.connection_forms import CONNECTION_FORMS
from tests.deployment.harness import ARTIFACTS

pytestmark = pytest.mark.deployment

CHROMIUM = Path(os.environ.get("DOCSTATUS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STANDARD_FIELDS = ("host", "schema", "login", "password", "port")


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API keeps an asyncio loop running in this thread while it is open,
    # which the asyncio tests of other modules must not inherit.
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing, so the connection forms cannot be checked in a browser. Install Debian's "
            "chromium package (apt-get install --no-install-recommends chromium); `make test` does it when it "
            "runs as root or with sudo. Set DOCSTATUS_CHROMIUM to use another Chromium binary.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("conn_type", sorted(CONNECTION_FORMS))
def test_add_connection_form_shows_our_fields(browser, deployment, conn_type):
    from playwright.sync_api import expect

    form = CONNECTION_FORMS[conn_type]
    behaviour = form["ui-field-behaviour"]
    hidden = set(behaviour.get("hidden-fields", []))
    relabeling = behaviour.get("relabeling", {})
    placeholders = behaviour.get("placeholders", {})
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    try:
        page.goto(f"{deployment.base_url}/connections")
        page.get_by_role("button", name="Add Connection").click()
        dialog = page.get_by_role("dialog")
        type_box = dialog.get_by_role("combobox", name="Connection Type")
        type_box.fill(form["hook-name"])
        page.get_by_role("option", name=form["hook-name"], exact=True).click()
        expect(dialog.get_by_text(form["hook-name"], exact=True)).to_be_visible()

        # the standard fields: relabelled, with placeholders, hidden where we hide them
        for name in STANDARD_FIELDS:
            field = dialog.locator(f"input[name='{name}']")
            if name in hidden:
                expect(field).to_have_count(0)
                continue
            expect(field).to_be_visible()
            if name in relabeling:
                expect(dialog.get_by_label(relabeling[name], exact=True)).to_have_attribute("name", name)
            if name in placeholders:
                expect(field).to_have_attribute("placeholder", placeholders[name])
        if "password" not in hidden:
            expect(dialog.locator("input[name='password']")).to_have_attribute("type", "password")
        dialog.screenshot(path=ARTIFACTS / f"connection-{conn_type}.png")

        # our extra fields: label, help text, a password input for secrets
        dialog.get_by_role("button", name="Extra Fields", exact=True).click()
        for name, spec in form["conn-fields"].items():
            field = dialog.locator(f"input[name='element_{name}']")
            expect(field).to_be_visible()
            row = dialog.locator("[data-part='root'][role='group']", has=page.locator(f"input[name='element_{name}']"))
            expect(row.locator("label")).to_have_text(spec["label"], use_inner_text=True)
            if spec.get("description"):
                expect(row).to_contain_text(spec["description"])
            if spec.get("schema", {}).get("format") == "password":
                expect(field).to_have_attribute("type", "password")
        dialog.screenshot(path=ARTIFACTS / f"connection-{conn_type}-extra.png")
    finally:
        page.close()
