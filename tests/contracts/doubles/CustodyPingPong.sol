// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface ICustody {
    function handoff(bytes32 itemId, address to, uint256 deadline, bytes calldata signature) external;
    function offer(bytes32 itemId, address to) external;
}

/// @title Test double: two contract wallets that hand an item back and forth
/// @notice Spends an item's custody nonce with real handoffs, many per transaction, so that the
/// tests can reach the 65,535-move limit (CustodyNonceExhausted). Each wallet consents to every
/// handoff through ERC-1271, like a smart account whose policy pre-approves its twin.
/// Compiled by tests/contracts/test_custody.py; not part of the project's contracts.
contract CustodyPingPong {
    error NotTwin(address account);

    ICustody private immutable _registry;
    address public twin;

    constructor(ICustody registry_) {
        _registry = registry_;
    }

    function pair(address twin_) external {
        twin = twin_;
    }

    /// @notice ERC-1271: accepts every handoff offered to this wallet.
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return 0x1626ba7e;
    }

    /// @notice Hands `itemId` to the twin and takes it back, `rounds` times (two custody changes
    /// per round). The wallet holds the item before and after.
    function spin(bytes32 itemId, uint256 rounds) external {
        address other = twin;
        for (uint256 i; i < rounds; ++i) {
            uint256 freeMemory;
            assembly ("memory-safe") {
                freeMemory := mload(0x40)
            }
            _registry.handoff(itemId, other, type(uint256).max, "");
            CustodyPingPong(other).handBack(itemId);
            assembly ("memory-safe") {
                mstore(0x40, freeMemory) // reuse call-encoding memory: keeps memory cost flat
            }
        }
    }

    /// @notice Hands `itemId` back to the twin (which called this).
    function handBack(bytes32 itemId) external {
        if (msg.sender != twin) revert NotTwin(msg.sender);
        _registry.handoff(itemId, msg.sender, type(uint256).max, "");
    }

    /// @notice Offers `itemId` to `to` (to leave the ping-pong through an ordinary offer).
    function offer(bytes32 itemId, address to) external {
        _registry.offer(itemId, to);
    }
}
