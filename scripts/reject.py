"""`ape run reject`: the same click command as `supplytrace reject` (one implementation)."""

from supplytrace.cli import reject as cli

__all__ = ["cli"]
