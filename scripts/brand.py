"""`ape run brand`: the same click command as `supplytrace brand` (one implementation)."""

from supplytrace.cli import brand as cli

__all__ = ["cli"]
