"""``python -m emi_core`` is the same as the ``emi`` command."""

from emi_core.cli import entry_point

if __name__ == "__main__":
    raise SystemExit(entry_point())
