"""Assemble the EMI studio Gradio app from its tabs."""

from __future__ import annotations

import gradio as gr

TITLE = "EMI studio"


def build_app() -> gr.Blocks:
    """Return the EMI studio Blocks (not launched)."""
    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"# {TITLE}\nEmotional Mimicry Intensity estimation for the ABAW EMI challenge.")
    return app
