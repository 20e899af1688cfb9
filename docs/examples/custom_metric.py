"""An app that counts its own work in the portal's metrics: served at /metrics with the rest.

Run it with ``gradio-portal serve docs.examples.custom_metric:app``.
"""

from __future__ import annotations

import gradio as gr
from prometheus_client import Counter

from gradio_portal import Context, Portal

portal = Portal()
reports = Counter(
    "myapp_reports",
    "Reports built, by format.",
    ("format",),
    registry=portal.metrics.registry,
)


def build_report(kind: str, ctx: Context) -> str:
    reports.labels(format=kind).inc()
    return f"{kind} report for {ctx.user.display_name}"


with gr.Blocks() as demo:
    kind = gr.Radio(["pdf", "csv"], value="pdf")
    out = gr.Markdown()
    gr.Button("Build").click(build_report, kind, out, api_name="build_report")

portal.mount(demo, path="/reports")
app = portal.app
