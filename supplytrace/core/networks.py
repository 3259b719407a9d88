"""Networks as the package names them: the devnet, local networks, and each chain's confirmation
depth (how far behind the head the event index stays)."""

from __future__ import annotations

#: The persistent local devnet (``supplytrace devnet up``), as ape names it.
DEVNET_NETWORK = "ethereum:local:node"
#: The ``(ecosystem, network)`` name of a local network (a devnet) in every ecosystem.
LOCAL_NETWORK = "local"
#: Chain ids of local devnets (anvil's default and ape's local network): test accounts allowed.
LOCAL_CHAIN_IDS = frozenset({1337, 31337})

#: Confirmation depth by chain id: how far behind the head the index stays. Local devnets have
#: no reorgs of their own (0); Ethereum and its testnets reorganise a block or two now and then
#: (12 is ~2.4 minutes); Polygon PoS has had deeper reorgs; rollups' sequencers rarely reorg.
DEFAULT_CONFIRMATIONS = {
    1337: 0,
    31337: 0,
    1: 12,
    11155111: 12,
    17000: 12,
    560048: 12,
    137: 64,
    80002: 64,
    10: 10,
    11155420: 10,
    8453: 10,
    84532: 10,
    42161: 10,
    421614: 10,
}
UNKNOWN_CHAIN_CONFIRMATIONS = 12


#: How long a transfer of the registry's admin role must wait on a public network (OpenZeppelin
#: AccessControlDefaultAdminRules): two days to notice and cancel a transfer that a stolen key
#: started. None on a local devnet, where nothing is at stake.
PUBLIC_ADMIN_DELAY = 2 * 24 * 3600


def default_admin_delay(network: str) -> int:
    """The admin-transfer delay a deployment on ``network`` (a network name, e.g. ``sepolia``) gets."""
    return 0 if network == LOCAL_NETWORK else PUBLIC_ADMIN_DELAY


def default_confirmations(chain_id: int) -> int:
    return DEFAULT_CONFIRMATIONS.get(chain_id, UNKNOWN_CHAIN_CONFIRMATIONS)


def split_choice(choice: str) -> tuple[str, str, str]:
    """``ecosystem:network[:provider]`` as its three parts (missing ones empty)."""
    ecosystem, network, provider = [*choice.split(":"), "", "", ""][:3]
    return ecosystem, network, provider
