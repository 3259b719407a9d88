"""`ape run deploy`: the same click command as `supplytrace deploy` (one implementation)."""

from supplytrace.cli import deploy as cli

__all__ = ["cli"]
