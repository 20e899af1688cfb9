"""The integration note's app exactly as written (Starlette's SessionMiddleware included),
plus ``Portal(app)``: the portal must refuse to start it, naming the line to remove."""

import gradio as gr
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from gradio_portal import Portal

SECRET_KEY = "the note's secret key"

app = FastAPI()
io = gr.Interface(lambda x: "Hello, " + x + "!", "textbox", "textbox")
app = gr.mount_gradio_app(app, io, path="/gradio")
app.add_middleware(SessionMiddleware, secret_key=SECRET_KEY)
portal = Portal(app)
