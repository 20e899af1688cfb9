"""Read the signed-in user from the session inside a Gradio callback.

The integration note's pattern works unchanged: ``request.request.session`` is the portal's
server-side session. The typed alternative is a ``Context`` parameter.

Run: ``gradio-portal serve docs.examples.user_info:demo``
"""

import gradio as gr

from gradio_portal import Context


def get_user_info(request: gr.Request) -> str:
    username = request.request.session.get("username", "Guest")
    return f"Welcome, {username}!"


def get_user_info_typed(ctx: Context) -> str:
    return f"Welcome, {ctx.user.display_name}!"


with gr.Blocks() as demo:
    user_info = gr.Markdown()
    typed_info = gr.Markdown()
    demo.load(get_user_info, outputs=user_info, api_name="get_user_info")
    demo.load(get_user_info_typed, outputs=typed_info, api_name="get_user_info_typed")
