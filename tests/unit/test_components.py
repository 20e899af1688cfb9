"""The portal's Gradio components build quietly: no warning at every start of an app."""

from __future__ import annotations

import warnings

import gradio as gr

from gradio_portal import logout_button


def test_logout_button_registers_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with gr.Blocks():
            button = logout_button("Sign out")
    assert button.value == "Sign out"
