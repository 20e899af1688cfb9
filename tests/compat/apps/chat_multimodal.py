"""gr.ChatInterface(multimodal=True): a message with an attached file, and a reply that is
text plus a file the user downloads."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
from playwright.sync_api import expect
from tests.compat.harness import CompatApp, Visit


def reply(message: dict[str, Any], history: list[dict[str, Any]]) -> list[Any]:
    names = []
    for path in message.get("files", []):
        data = Path(path).read_bytes()
        names.append(f"{Path(path).name} ({len(data)} bytes)")
    text = f"You said {message['text']!r} and sent {', '.join(names) or 'no file'}"
    digest = hashlib.sha256(message["text"].encode()).hexdigest()
    answer = Path(tempfile.mkdtemp()) / "answer.txt"
    answer.write_text(f"{text}\nturn {len(history) // 2 + 1}\n{digest}\n")
    # The file goes back as a file message: a gr.File component in a reply makes Gradio 6.31
    # fail to read the history back in the chat's next event (FileData built from a list).
    return [text, {"role": "assistant", "content": {"path": str(answer)}}]


def build() -> gr.Blocks:
    return gr.ChatInterface(reply, multimodal=True, title="Files in a chat")


def drive(visit: Visit) -> None:
    page = visit.open(ready="textarea[data-testid='textbox']")
    visit.snapshot("render", page)
    box = page.locator("textarea[data-testid='textbox']")
    messages = page.locator("[data-testid='user'], [data-testid='bot']")
    page.locator("input[type=file]").first.set_input_files(
        visit.make_file("note.txt", b"a note for the bot\n")
    )
    expect(page.locator(".thumbnail-item, .thumbnails").first).to_be_visible()
    box.fill("hello bot")
    box.press("Enter")
    bot_files = page.locator("[data-testid='bot'] a[data-testid='chatbot-file']")
    expect(bot_files).to_have_count(1)
    # A second turn: the history, with both files in it, goes back to the server.
    box.fill("again")
    box.press("Enter")
    expect(bot_files).to_have_count(2)
    expect(box).to_be_editable()
    visit.record("conversation", messages.evaluate_all("l => l.map(m => m.ariaLabel)"))
    visit.fetch(
        "uploaded file, as shown in the chat",
        page,
        page.locator("[data-testid='user'] a[data-testid='chatbot-file']").get_attribute("href")
        or "",
    )
    visit.download("first file reply", page, bot_files.first)
    visit.download("second file reply", page, bot_files.nth(1))
    visit.snapshot("after two turns", page)


APP = CompatApp("chat_multimodal", build, drive)
