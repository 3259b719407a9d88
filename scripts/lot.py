"""`ape run lot`: the same click command as `supplytrace lot` (one implementation)."""

from supplytrace.cli import lot as cli

__all__ = ["cli"]
