"""The README's first example, as a file a test runs (tests/integration/test_readme.py).

Run: ``uvicorn docs.examples.readme_app:app``
"""

import gradio as gr
from fastapi import FastAPI
from gradio_portal import Context, Portal, Redirect

def greet(ctx: Context) -> str:
    ctx.session["visits"] = ctx.session.get("visits", 0) + 1
    return f"Hello, {ctx.user.display_name} (visit {ctx.session['visits']})"

def open_report(report_id: float, ctx: Context) -> Redirect:
    return Redirect(f"/reports/?id={int(report_id)}")

with gr.Blocks() as demo:
    hello = gr.Markdown()
    number = gr.Number(label="Report")
    gr.Button("Open").click(open_report, number, None)
    demo.load(greet, outputs=hello)

app = FastAPI()          # your application, or let Portal() create one
portal = Portal(app)     # settings from GRADIO_PORTAL_* environment variables
portal.mount(demo, path="/app")
