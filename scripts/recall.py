"""`ape run recall`: the same click command as `supplytrace recall` (one implementation)."""

from supplytrace.cli import recall as cli

__all__ = ["cli"]
