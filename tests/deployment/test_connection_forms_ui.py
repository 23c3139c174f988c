"""The add-connection form of each of our connection types, in the real Airflow UI, in a real browser.

Headless Chromium (Debian's ``chromium`` package, driven by Playwright's
bundled driver; no browser download) opens Admin > Connections > Add
Connection on the deployment's api-server, picks each connection type by
its hook name, and checks what a user sees: relabelled standard fields with
their placeholders, hidden fields gone, the password as a password input,
and our extra fields with their labels and help texts. A screenshot of the
standard and of the extra fields of each form is saved under
``test-artifacts/``.

The Test Connection button is pressed too: an Azure connection to the
simulator, added through the form with a good key and with a bad one, must
show Airflow's success toast with our message, and the failure toast with
the 401 and no key (``[core] test_connection`` is ``Enabled`` in the
deployment's environment).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

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


AZURE_KEY = "sim-azure-translation-key"  # the simulator's key (airflow_docstatus/simulator/scenarios/default.json)
BAD_AZURE_KEY = "canary-ui-test-key-5521"


def add_connection(page, deployment, conn_id: str, conn_type: str, fields: dict[str, str]) -> None:
    """Fill Admin > Connections > Add Connection and save it."""
    from playwright.sync_api import expect

    form = CONNECTION_FORMS[conn_type]
    page.goto(f"{deployment.base_url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name='connection_id']").fill(conn_id)
    dialog.get_by_role("combobox", name="Connection Type").fill(form["hook-name"])
    page.get_by_role("option", name=form["hook-name"], exact=True).click()
    for name, value in fields.items():
        dialog.locator(f"input[name='{name}']").fill(value)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)


def drop_zero_port(route) -> None:
    """Send the UI's test request without its ``"port": 0`` (what apache/airflow#73298 does on the server).

    Airflow 3.3.2's UI sends ``port: Number(connection.port)``, which is 0 for a
    connection with no port, and the API server then takes the test for one
    to another destination and refuses it with a 400 unless a new password is
    sent: the Test button fails for every saved connection without a port,
    whatever its type (ours hide the port: the host is a full URL).
    """
    body = json.loads(route.request.post_data or "{}")
    if body.get("port") == 0:
        del body["port"]
    route.continue_(post_data=json.dumps(body))


@pytest.mark.parametrize("good", [True, False], ids=["good-key", "bad-key"])
def test_the_test_connection_button_reports_what_the_vendor_said(browser, deployment, good):
    from playwright.sync_api import expect

    label = "good" if good else "bad"
    conn_id = f"ui_azure_{label}_key"
    key = AZURE_KEY if good else BAD_AZURE_KEY
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        add_connection(page, deployment, conn_id, "azure_document_translation",
                       {"host": f"{deployment.simulator_url}/azure/", "password": key})
        page.goto(f"{deployment.base_url}/connections")
        row = page.get_by_role("row").filter(has_text=conn_id)
        expect(row).to_have_count(1)
        button = row.get_by_role("button", name="Test Connection")
        notifications = page.get_by_role("region", name=re.compile("^Notifications"))

        def press() -> Any:
            with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test"), timeout=60_000) as done:
                button.click()
            return done.value

        answer = press()
        if answer.status == 400 and "differs from the stored connection" in answer.text():
            # Airflow 3.3.2 (apache/airflow#73298, see drop_zero_port): the UI shows the 400 as a failed test
            expect(notifications.get_by_text("Test Connection Failed")).to_be_visible()
            page.route("**/api/v2/connections/test", drop_zero_port)
            page.reload()
            answer = press()
        assert answer.status == 200, answer.text()
        result = answer.json()
        assert result["status"] is good, result
        title = "Test Connection Successful" if good else "Test Connection Failed"
        toast = notifications.locator("[data-part='root']").filter(has_text=title).last
        expect(toast).to_be_visible(timeout=30_000)
        expect(toast).to_contain_text("Azure Document Translation (connection ")
        if good:
            expect(toast).to_contain_text("the subscription key is good")
        else:
            expect(toast).to_contain_text("HTTP 401")
            assert BAD_AZURE_KEY not in toast.inner_text() and BAD_AZURE_KEY not in answer.text()
        page.wait_for_timeout(600)  # let the toast finish sliding in, for the screenshots only
        page.screenshot(path=ARTIFACTS / f"connection-test-azure-{label}-key.png")
        toast.screenshot(path=ARTIFACTS / f"connection-test-azure-{label}-key-toast.png")
    finally:
        page.close()
