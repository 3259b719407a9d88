"""`ape run offer`: the same click command as `supplytrace offer` (one implementation)."""

from supplytrace.cli import offer as cli

__all__ = ["cli"]
