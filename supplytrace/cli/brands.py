"""`supplytrace brand add|name|revoke|describe` and `gtin assign|release|assign-prefix` (admin)."""

from __future__ import annotations

import click

from supplytrace.cli.options import (
    account_option,
    network_option,
    registry_session,
)
from supplytrace.cli.output import friendly_errors, listed, say, sent


@click.group()
def brand() -> None:
    """Brands: registrar role, verified names, self-descriptions."""


@brand.command("add")
@network_option
@account_option
@click.argument("address")
@click.option("--name", default=None, help="Verified display name to publish.")
@click.option("--gtin", "gtins", multiple=True, help="GTIN to assign to the brand (repeatable).")
@friendly_errors
def brand_add(network: str, account: str, address: str, name: str | None, gtins: tuple[str, ...]) -> None:
    """Make ADDRESS a brand (registrar), optionally naming it and assigning GTINs. Admin only."""
    with registry_session(network, account) as registry:
        registry.add_brand(address, name=name, gtins=gtins)
    say(f"{address} is a brand" + (f" named {name!r}" if name else "") + listed(" owning GTIN", gtins))


@brand.command("name")
@network_option
@account_option
@click.argument("address")
@click.argument("name")
@friendly_errors
def brand_name(network: str, account: str, address: str, name: str) -> None:
    """Publish the verified display NAME of brand ADDRESS. Admin only."""
    with registry_session(network, account) as registry:
        sent(f"{address} is now shown as {name!r}", registry.name_brand(address, name), registry)


@brand.command("revoke")
@network_option
@account_option
@click.argument("address")
@friendly_errors
def brand_revoke(network: str, account: str, address: str) -> None:
    """Revoke a brand's registrar role and close its open lots. Admin only."""
    with registry_session(network, account) as registry:
        closed = [str(lot.lot_id) for lot in registry.revoke_brand(address).closed]
    say(f"{address} is no longer a brand; closed lots: {', '.join(closed) or 'none'}")


@brand.command("describe")
@network_option
@account_option
@click.argument("description")
@friendly_errors
def brand_describe(network: str, account: str, description: str) -> None:
    """Describe your own account (shown to consumers as unverified)."""
    with registry_session(network, account) as registry:
        sent("description published (unverified)", registry.describe(description), registry)


@click.group()
def gtin() -> None:
    """GTIN and GS1 company prefix ownership (admin)."""


@gtin.command("assign")
@network_option
@account_option
@click.argument("value")
@click.argument("brand_address")
@friendly_errors
def gtin_assign(network: str, account: str, value: str, brand_address: str) -> None:
    """Assign GTIN VALUE to BRAND_ADDRESS. Admin only."""
    from supplytrace.core.ids import normalize_gtin

    gtin14 = normalize_gtin(value)
    with registry_session(network, account) as registry:
        sent(
            f"GTIN {gtin14} belongs to {brand_address}", registry.assign_gtin(value, brand_address), registry
        )


@gtin.command("release")
@network_option
@account_option
@click.argument("value")
@friendly_errors
def gtin_release(network: str, account: str, value: str) -> None:
    """Release the assignment of GTIN VALUE. Admin only."""
    from supplytrace.core.ids import normalize_gtin

    gtin14 = normalize_gtin(value)
    with registry_session(network, account) as registry:
        sent(f"GTIN {gtin14} released", registry.release_gtin(value), registry)


@gtin.command("assign-prefix")
@network_option
@account_option
@click.argument("prefix")
@click.argument("brand_address")
@friendly_errors
def gtin_assign_prefix(network: str, account: str, prefix: str, brand_address: str) -> None:
    """Assign GS1 company prefix PREFIX (4-12 digits, leading zeros count) to BRAND_ADDRESS. Admin only."""
    with registry_session(network, account) as registry:
        done = registry.assign_prefix(prefix, brand_address)
        sent(f"company prefix {prefix} belongs to {brand_address}", done, registry)
