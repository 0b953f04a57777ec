"""Keep native libraries' start-up chatter off the terminal without hiding Python's own output.

MediaPipe (absl) and TFLite write INFO/W0000 lines straight to file descriptor 2 from native
threads, whatever the Python logging settings. :func:`quiet_native_stderr` points fd 2 at
``/dev/null`` and gives Python a ``sys.stderr`` on a duplicate of the real stderr, so tracebacks,
warnings, progress bars and error messages still reach the user. Set ``EMI_NATIVE_LOGS=1`` to keep
the native lines (e.g. to debug MediaPipe).
"""

from __future__ import annotations

import os
import sys


def quiet_native_stderr() -> bool:
    """Route native writes to fd 2 to ``/dev/null``; return whether anything was changed.

    Call it once at the start of a program (the ``emi`` command and the app do), never in a library.
    """
    if os.environ.get("EMI_NATIVE_LOGS") == "1":
        return False
    try:
        real = os.dup(2)
    except OSError:
        return False
    sys.stderr.flush()
    sys.stderr = os.fdopen(real, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8", errors="backslashreplace")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    return True
