"""Navigate in the browser with a JavaScript event, as in the integration note.

This JS-only pattern still works under the portal. To decide the target in Python (after a
database look-up, say), return or raise ``gradio_portal.Redirect`` instead.

Run: ``gradio-portal serve docs.examples.js_redirect:demo --path /gradio``
"""

import gradio as gr

with gr.Blocks() as demo:
    btn = gr.Button("Go to the other page", elem_id="go")
    btn.click(None, None, None, js="() => { window.location.href = '/gradio/?page=other' }")
