"""EMI studio: the Gradio app (also the Hugging Face Space entry point).

``python app.py`` serves on 127.0.0.1:7860 (``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` change
that); the model named by ``EMI_MODEL`` (default: the offline EMI prior) is loaded once, at start.
"""

from __future__ import annotations

import sys

from emi_core.errors import EMIError
from emi_core.native_logs import quiet_native_stderr


def main() -> int:
    """Build the app and serve it until interrupted; a configuration error exits with code 2."""
    from demo.app import build_app, launch_options

    quiet_native_stderr()
    try:
        app = build_app()
    except EMIError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    app.launch(**launch_options())
    return 0


if __name__ == "__main__":
    sys.exit(main())
