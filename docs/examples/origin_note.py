"""The integration note's app (shared/ORIGIN.md), behind the portal.

As the note writes it, then ``Portal(app)``. The note's ``gr.mount_gradio_app`` mount is
guarded like ``portal.mount``, and ``request.request.session`` is the portal's session, which
carries ``username``. The one line to drop is the note's
``app.add_middleware(SessionMiddleware, secret_key=SECRET_KEY)``: the portal refuses to start
with it, saying so (it would replace the portal's session in every request).

Run: ``gradio-portal serve docs.examples.origin_note:app`` (a FastAPI application).
"""

import gradio as gr
from fastapi import FastAPI

from gradio_portal import Portal

app = FastAPI()
io = gr.Interface(lambda x: "Hello, " + x + "!", "textbox", "textbox")
app = gr.mount_gradio_app(app, io, path="/gradio")


def get_user_info(request: gr.Request):
    username = request.request.session.get("username", "Guest")
    return f"Welcome, {username}!"


with gr.Blocks() as greeter:
    user_info = gr.Markdown(elem_id="user-info")
    greeter.load(get_user_info, outputs=user_info, api_name="get_user_info")
app = gr.mount_gradio_app(app, greeter, path="/greeter")

portal = Portal(app)
