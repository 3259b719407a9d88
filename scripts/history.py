"""`ape run history`: the same click command as `supplytrace history` (one implementation)."""

from supplytrace.cli import history as cli

__all__ = ["cli"]
