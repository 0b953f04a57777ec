"""What the tabs share: named JSON endpoints (for ``gradio_client`` and the "Use via API" page) and
how a user's mistake reaches them (a one-line message, never a traceback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import gradio as gr

from emi_core.errors import EMIError


def json_endpoint(
    fn: Callable, inputs: Sequence[gr.components.Component], name: str, description: str, **options
) -> None:
    """Expose ``fn`` as ``/name`` returning JSON, with no trigger in the page.

    The inputs are real components (hidden or shared with the UI), so an uploaded file goes through
    Gradio's checks exactly as in the page: a client cannot name a file it did not upload.
    """
    gr.on(
        [],
        fn,
        inputs=list(inputs),
        outputs=gr.JSON(visible=False),
        api_name=name,
        api_description=description,
        **options,
    )


def message(text: str) -> gr.Error:
    """A one-line message for the page or the API client (no traceback in the server log either)."""
    return gr.Error(text, print_exception=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn an :class:`~emi_core.errors.EMIError` (bad file, unknown split, refused submission) into its
    one-line message; anything else is a bug and keeps its traceback in the log."""
    try:
        yield
    except EMIError as err:
        raise message(str(err)) from None
