"""`ape run accept`: the same click command as `supplytrace accept` (one implementation)."""

from supplytrace.cli import accept as cli

__all__ = ["cli"]
