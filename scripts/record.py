"""`ape run record`: the same click command as `supplytrace record` (one implementation)."""

from supplytrace.cli import record as cli

__all__ = ["cli"]
