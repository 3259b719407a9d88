"""`ape run gtin`: the same click command as `supplytrace gtin` (one implementation)."""

from supplytrace.cli import gtin as cli

__all__ = ["cli"]
