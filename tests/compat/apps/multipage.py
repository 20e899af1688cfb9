"""Multipage apps: demo.route pages and gr.Navbar between them."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Navbar(main_page_name="Home")
        gr.Markdown("# Home page", elem_id="home-title")
        home_out = gr.Textbox(label="Home output", elem_id="home-out")
        gr.Button("Ping", elem_id="home-ping").click(lambda: "pong from home", None, home_out)
    with demo.route("Settings", "/settings"):
        gr.Markdown("# Settings page", elem_id="settings-title")
        level = gr.Slider(0, 10, value=3, step=1, label="Level", elem_id="level")
        settings_out = gr.Textbox(label="Settings output", elem_id="settings-out")
        gr.Button("Apply", elem_id="apply").click(lambda v: f"level {v}", level, settings_out)
    return demo


def drive(visit: Visit) -> None:
    page = visit.open(ready="#home-title")
    visit.snapshot("home page", page)
    page.locator("#home-ping").click()
    expect(page.locator("#home-out textarea")).to_have_value("pong from home")
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings**")
    # The navbar switches pages in place: the new page's kinds of components (the slider)
    # load then, after the page's own loading screen is long gone.
    page.locator("#level input[type=range]").wait_for()
    visit.record("address after the navbar link", page.url.removeprefix(visit.url))
    visit.snapshot("settings page", page)
    page.locator("#apply").click()
    expect(page.locator("#settings-out textarea")).not_to_have_value("")
    visit.value("settings output", page.locator("#settings-out textarea"))
    direct = visit.open("/settings", ready="#level input[type=range]")
    visit.snapshot("settings page opened directly", direct)
    direct.get_by_role("link", name="Home").click()
    direct.wait_for_url(lambda url: "/settings" not in url)
    direct.locator("#home-title").wait_for()
    visit.record("address after the Home link", direct.url.removeprefix(visit.url))


APP = CompatApp("multipage", build, drive, adopted=True)
