"""Benchmarks of gradio-portal against bare Gradio; `python -m bench` writes docs/benchmarks.md."""
