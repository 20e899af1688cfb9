"""The apps of the compatibility corpus, one Gradio feature each (see tests/compat/harness.py).

Each module defines ``build()`` (a new Blocks, called once per server) and ``drive(visit)``
(the clicks and inputs of one user, played on both sides), and exports them as ``APP``.
"""

from __future__ import annotations

from tests.compat.apps import (
    api_visibility,
    audio,
    blocks,
    browser_state,
    cached_examples,
    cancels,
    chat_multimodal,
    concurrency,
    dataframe,
    deep_links,
    downloads,
    dropdown_then,
    gallery,
    gr_on,
    html_js,
    i18n,
    image,
    interactive_visibility,
    interface,
    layout,
    markdown_latex,
    mcp,
    multipage,
    progress,
    render,
    request_query,
    slider_release,
    state,
    streaming,
    tabs,
    timer,
    toasts,
    uploads,
)
from tests.compat.harness import CompatApp

APPS: tuple[CompatApp, ...] = tuple(
    module.APP
    for module in (
        # the two ways to build an app
        interface,
        blocks,
        # state and rendering
        state,
        browser_state,
        render,
        # events
        streaming,
        progress,
        cancels,
        timer,
        concurrency,
        dropdown_then,
        gr_on,
        slider_release,
        interactive_visibility,
        toasts,
        request_query,
        # files
        uploads,
        downloads,
        image,
        audio,
        gallery,
        chat_multimodal,
        cached_examples,
        # pages, layout and content
        tabs,
        layout,
        multipage,
        deep_links,
        markdown_latex,
        dataframe,
        html_js,
        i18n,
        # API
        api_visibility,
        mcp,
    )
)
