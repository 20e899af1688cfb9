"""A logout button that is a plain link, as in the integration note.

``/logout`` answers a GET with a one-click confirmation form (a POST protected by a CSRF
token), so a link elsewhere on the web cannot sign your users out.

Run: ``gradio-portal serve docs.examples.logout_button:demo``
"""

import gradio as gr

with gr.Blocks() as demo:
    gr.Markdown("You are signed in.")
    gr.Button("Logout", link="/logout", link_target="_self", elem_id="logout")
