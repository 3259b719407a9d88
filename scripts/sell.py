"""`ape run sell`: the same click command as `supplytrace sell` (one implementation)."""

from supplytrace.cli import sell as cli

__all__ = ["cli"]
