"""`ape run labels`: the same click command as `supplytrace labels` (one implementation)."""

from supplytrace.cli import labels as cli

__all__ = ["cli"]
