"""`ape run export_fsma204`: the same click command as `supplytrace export-fsma204` (one implementation)."""

from supplytrace.cli import export_fsma204 as cli

__all__ = ["cli"]
