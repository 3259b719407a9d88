"""`ape run register`: the same click command as `supplytrace register` (one implementation)."""

from supplytrace.cli import register as cli

__all__ = ["cli"]
