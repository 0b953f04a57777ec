"""Gradio UI pieces of EMI studio; all logic lives in :mod:`emi_core`."""
