"""``python -m emi_core`` is the same as the ``emi`` command."""

from emi_core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
