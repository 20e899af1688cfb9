"""Mount a Gradio app on your FastAPI app, behind login.

The integration note's first snippet, with the portal doing the mounting:
``gr.mount_gradio_app(app, io, path="/gradio")`` becomes ``portal.mount(io, path="/gradio")``,
which takes the same options and adds sessions, login and the guard.

Run: ``uvicorn docs.examples.mount_interface:app``
"""

import gradio as gr
from fastapi import FastAPI

from gradio_portal import Portal

app = FastAPI()


@app.get("/api/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}


io = gr.Interface(lambda x: "Hello, " + x + "!", "textbox", "textbox", api_name="greet")
portal = Portal(app)
portal.mount(io, path="/gradio")
