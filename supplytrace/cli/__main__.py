"""``python -m supplytrace.cli``."""

from supplytrace.cli import main

main()
