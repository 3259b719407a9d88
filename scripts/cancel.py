"""`ape run cancel`: the same click command as `supplytrace cancel` (one implementation)."""

from supplytrace.cli import cancel as cli

__all__ = ["cli"]
