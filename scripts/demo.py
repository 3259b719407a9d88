"""`ape run demo`: the same click command as `supplytrace demo` (one implementation)."""

from supplytrace.cli import demo as cli

__all__ = ["cli"]
