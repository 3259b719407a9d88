// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IProvenanceRegistry} from "../interfaces/IProvenanceRegistry.sol";

/// @dev An item's one storage word: everything the registry keeps per item except an open offer.
///
///     bits     [0, 160)   custodian     who holds the item now
///              [160, 192) lotId         the item's lot (its brand, GTIN and lot code live there)
///              [192, 232) updatedAt     block time of registration or of the last change
///              [232, 248) custodyNonce  custody changes so far: moves, withdrawn or declined
///                                       offers and observations (signatures sign it)
///              [248, 256) status        IProvenanceRegistry.ItemStatus
///
/// A registered item's word is never zero (status Active, Sold or Claimed); an unknown item's is.
type ItemWord is uint256;

using ItemWordLibrary for ItemWord global;

/// @dev Reads and writes of an {ItemWord} (in the style of Uniswap v4's `Slot0`): the one place
/// that knows the layout above. Writers return a new word; they never touch storage.
library ItemWordLibrary {
    uint256 private constant _LOT_SHIFT = 160;
    uint256 private constant _UPDATED_SHIFT = 192;
    uint256 private constant _NONCE_SHIFT = 232;
    uint256 private constant _STATUS_SHIFT = 248;

    uint256 private constant _ADDRESS_MASK = (1 << 160) - 1;
    uint256 private constant _UPDATED_MASK = uint256(type(uint40).max) << _UPDATED_SHIFT;
    uint256 private constant _NONCE_MASK = uint256(type(uint16).max) << _NONCE_SHIFT;
    uint256 private constant _NONCE_ONE = 1 << _NONCE_SHIFT;
    uint256 private constant _STATUS_MASK = uint256(type(uint8).max) << _STATUS_SHIFT;
    uint256 private constant _ACTIVE = uint256(uint8(IProvenanceRegistry.ItemStatus.Active)) << _STATUS_SHIFT;
    uint256 private constant _SOLD = uint256(uint8(IProvenanceRegistry.ItemStatus.Sold)) << _STATUS_SHIFT;
    uint256 private constant _CLAIMED = uint256(uint8(IProvenanceRegistry.ItemStatus.Claimed)) << _STATUS_SHIFT;

    /// @dev The word of an item just registered into `lotId` by `custodian` at time `timestamp`:
    /// status Active, custody nonce 0.
    function registered(address custodian_, uint32 lotId_, uint256 timestamp) internal pure returns (ItemWord) {
        return ItemWord.wrap(
            uint256(uint160(custodian_)) | (uint256(lotId_) << _LOT_SHIFT) | (timestamp << _UPDATED_SHIFT) | _ACTIVE
        );
    }

    function isRegistered(ItemWord word) internal pure returns (bool) {
        return ItemWord.unwrap(word) != 0;
    }

    function custodian(ItemWord word) internal pure returns (address) {
        return address(uint160(ItemWord.unwrap(word)));
    }

    function lotId(ItemWord word) internal pure returns (uint32) {
        return uint32(ItemWord.unwrap(word) >> _LOT_SHIFT);
    }

    function updatedAt(ItemWord word) internal pure returns (uint40) {
        return uint40(ItemWord.unwrap(word) >> _UPDATED_SHIFT);
    }

    function custodyNonce(ItemWord word) internal pure returns (uint16) {
        return uint16(ItemWord.unwrap(word) >> _NONCE_SHIFT);
    }

    function status(ItemWord word) internal pure returns (IProvenanceRegistry.ItemStatus) {
        return IProvenanceRegistry.ItemStatus(uint8(ItemWord.unwrap(word) >> _STATUS_SHIFT));
    }

    /// @dev True while the item is in the supply chain (neither sold nor claimed): it may move.
    function isActive(ItemWord word) internal pure returns (bool) {
        return ItemWord.unwrap(word) & _STATUS_MASK == _ACTIVE;
    }

    function isClaimed(ItemWord word) internal pure returns (bool) {
        return ItemWord.unwrap(word) & _STATUS_MASK == _CLAIMED;
    }

    /// @dev True when the custody nonce is at its maximum: the item cannot move again.
    function isNonceExhausted(ItemWord word) internal pure returns (bool) {
        return ItemWord.unwrap(word) & _NONCE_MASK == _NONCE_MASK;
    }

    /// @dev The word after custody moves to `to` at `timestamp`: new custodian, nonce + 1.
    /// The caller checks {isNonceExhausted} first (the nonce would carry into the status).
    function movedTo(ItemWord word, address to, uint256 timestamp) internal pure returns (ItemWord) {
        uint256 kept = ItemWord.unwrap(word) & ~(_ADDRESS_MASK | _UPDATED_MASK);
        return ItemWord.wrap((kept + _NONCE_ONE) | (timestamp << _UPDATED_SHIFT) | uint256(uint160(to)));
    }

    /// @dev The word after the item is sold at `timestamp`.
    function soldAt(ItemWord word, uint256 timestamp) internal pure returns (ItemWord) {
        uint256 kept = ItemWord.unwrap(word) & ~(_STATUS_MASK | _UPDATED_MASK);
        return ItemWord.wrap(kept | (timestamp << _UPDATED_SHIFT) | _SOLD);
    }

    /// @dev The word after a change that moves nothing (an offer withdrawn or declined, a signed
    /// observation): nonce + 1, so signatures made before it no longer work. Same caveat as
    /// {movedTo} about {isNonceExhausted}.
    function withNextNonce(ItemWord word) internal pure returns (ItemWord) {
        return ItemWord.wrap(ItemWord.unwrap(word) + _NONCE_ONE);
    }

    /// @dev The word after the item's hidden code is claimed at `timestamp` (from Active or Sold).
    function claimedAt(ItemWord word, uint256 timestamp) internal pure returns (ItemWord) {
        uint256 kept = ItemWord.unwrap(word) & ~(_STATUS_MASK | _UPDATED_MASK);
        return ItemWord.wrap(kept | (timestamp << _UPDATED_SHIFT) | _CLAIMED);
    }
}
