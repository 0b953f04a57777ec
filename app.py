"""EMI studio: the Gradio app (also the Hugging Face Space entry point)."""

from __future__ import annotations

import os

from demo.app import build_app

if __name__ == "__main__":
    build_app().launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )
