"""What the portal reads from a built Blocks through Gradio's component classes."""

from __future__ import annotations

from typing import Any

import gradio as gr

from gradio_portal.compat.internals import private

__all__ = ["gradio_app_blocks", "takes_uploads"]


def takes_uploads(blocks: gr.Blocks) -> bool:
    """True when a component of ``blocks`` can upload files (or may appear later).

    A component uploads when it has Gradio's ``upload`` event (File, Image, Audio, Video,
    UploadButton, Gallery, ImageEditor, Model3D, HTML server functions, ...) or is a
    MultimodalTextbox. Components made by ``@gr.render`` are not known until a page renders,
    so a Blocks with a render function counts as one that uploads.
    """
    for block in blocks.blocks.values():
        if isinstance(block, gr.MultimodalTextbox):
            return True
        events = getattr(block, "EVENTS", ())
        if any(getattr(event, "event_name", event) == "upload" for event in events):
            return True
    return any(fn.renderable is not None for fn in blocks.fns.values())


def gradio_app_blocks(app: Any) -> gr.Blocks | None:
    """The Blocks served by ``app`` when it is the FastAPI app ``gr.mount_gradio_app`` mounts."""
    if isinstance(app, private("gradio.routes", "App")):
        blocks = app.get_blocks()
        return blocks if isinstance(blocks, gr.Blocks) else None
    return None
