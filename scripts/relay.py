"""`ape run relay`: the same click command as `supplytrace relay` (one implementation)."""

from supplytrace.cli import relay as cli

__all__ = ["cli"]
