"""EMI studio: the Gradio app (also the Hugging Face Space entry point).

``python app.py`` serves on 127.0.0.1:7860 (``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` change
that); the model named by ``EMI_MODEL`` (default: the offline EMI prior) is loaded once, at start.
Stopped by SIGTERM (Docker, systemd, a Space restart) or Ctrl-C, it deletes every upload, cached
copy and result file before exiting; at start it deletes what a crashed earlier run left behind.
"""

from __future__ import annotations

import signal
import sys

from emi_core.errors import EMIError
from emi_core.native_logs import quiet_native_stderr


def _interrupt(signum, frame) -> None:
    """SIGTERM stops the app as Ctrl-C does (Gradio closes its server on KeyboardInterrupt)."""
    raise KeyboardInterrupt


def main() -> int:
    """Build the app and serve it until stopped; a configuration error exits with code 2."""
    from demo.app import build_app, launch_options
    from demo.uploads import RunFolders

    quiet_native_stderr()
    folders = RunFolders()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        app = build_app(folders=folders)
        app.launch(**launch_options())
    except EMIError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        folders.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
