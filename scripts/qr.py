"""`ape run qr`: the same click command as `supplytrace qr` (one implementation)."""

from supplytrace.cli import qr as cli

__all__ = ["cli"]
