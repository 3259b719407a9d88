"""`ape run status`: the same click command as `supplytrace status` (one implementation)."""

from supplytrace.cli import status as cli

__all__ = ["cli"]
