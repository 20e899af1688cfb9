"""gr.I18n: labels and texts translated to the browser's language."""

from __future__ import annotations

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit

TRANSLATIONS = gr.I18n(
    en={"name": "Your name", "greet": "Greet", "title": "Welcome"},
    fr={"name": "Votre nom", "greet": "Saluer", "title": "Bienvenue"},
)


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown(TRANSLATIONS("title"), elem_id="title")
        name = gr.Textbox(label=TRANSLATIONS("name"), elem_id="name")
        out = gr.Textbox(label="Out", elem_id="out")
        gr.Button(TRANSLATIONS("greet"), elem_id="greet").click(lambda n: f"hi {n}", name, out)
    return demo


def drive(visit: Visit) -> None:
    for locale in ("en-US", "fr-FR"):
        page = visit.open(context=visit.new_context(locale=locale), ready="#greet")
        expect(page.locator("#greet")).not_to_have_text("greet")
        visit.snapshot(f"render in {locale}", page)
        page.locator("#name textarea").fill(locale)
        page.locator("#greet").click()
        expect(page.locator("#out textarea")).not_to_have_value("")
        visit.value(f"output in {locale}", page.locator("#out textarea"))


APP = CompatApp("i18n", build, drive, mount_options={"i18n": TRANSLATIONS})
