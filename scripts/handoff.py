"""`ape run handoff`: the same click command as `supplytrace handoff` (one implementation)."""

from supplytrace.cli import handoff as cli

__all__ = ["cli"]
