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
///              [248, 250) status        IProvenanceRegistry.ItemStatus
///              [250, 253) level         a container's nesting level: 1 + the highest level
///                                       ever packed into it (an item's is 0)
///              254        container     set for a container (GS1 SSCC), clear for an item
///              255        packed        the word is inside a container: bits [0, 32) of the
///                                       custodian field hold the container's number and its
///                                       custodian is the outermost container's
///
/// A container uses the same word: its `lotId` field holds its own container number (1, 2, ...),
/// so the custody code that moves items moves containers, and packing or unpacking is one write
/// of the packed word. A registered item's or container's word is never zero; an unknown one's is.
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
    uint256 private constant _STATUS_MASK = uint256(3) << _STATUS_SHIFT;
    uint256 private constant _LEVEL_SHIFT = 250;
    uint256 private constant _LEVEL_MASK = uint256(7) << _LEVEL_SHIFT;
    uint256 private constant _CONTAINER_BIT = 1 << 254;
    uint256 private constant _PACKED_BIT = 1 << 255;
    /// @dev The deepest nesting: an item in up to 7 containers, one inside the next.
    uint8 internal constant MAX_LEVEL = 7;
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
        return IProvenanceRegistry.ItemStatus(uint8(ItemWord.unwrap(word) >> _STATUS_SHIFT) & 3);
    }

    /// @dev The word of a container just created with number `number_` by `custodian_`: Active,
    /// level 0 (empty), nonce 0.
    function created(address custodian_, uint32 number_, uint256 timestamp) internal pure returns (ItemWord) {
        return ItemWord.wrap(ItemWord.unwrap(registered(custodian_, number_, timestamp)) | _CONTAINER_BIT);
    }

    function isContainer(ItemWord word) internal pure returns (bool) {
        return ItemWord.unwrap(word) & _CONTAINER_BIT != 0;
    }

    function isPacked(ItemWord word) internal pure returns (bool) {
        return ItemWord.unwrap(word) & _PACKED_BIT != 0;
    }

    /// @dev The number of the container a packed word is in (meaningless unless {isPacked}).
    function parent(ItemWord word) internal pure returns (uint32) {
        return uint32(ItemWord.unwrap(word));
    }

    /// @dev A container's own number (its `lotId` field).
    function number(ItemWord word) internal pure returns (uint32) {
        return uint32(ItemWord.unwrap(word) >> _LOT_SHIFT);
    }

    function level(ItemWord word) internal pure returns (uint8) {
        return uint8((ItemWord.unwrap(word) & _LEVEL_MASK) >> _LEVEL_SHIFT);
    }

    /// @dev The container word with level `level_` (the caller checks `level_ <= MAX_LEVEL`).
    function withLevel(ItemWord word, uint8 level_) internal pure returns (ItemWord) {
        return ItemWord.wrap((ItemWord.unwrap(word) & ~_LEVEL_MASK) | (uint256(level_) << _LEVEL_SHIFT));
    }

    /// @dev True when `actor` holds the word itself (not through a container) and it is Active.
    function isHeldActiveBy(ItemWord word, address actor) internal pure returns (bool) {
        return ItemWord.unwrap(word) & (_ADDRESS_MASK | _STATUS_MASK | _PACKED_BIT)
            == uint256(uint160(actor)) | _ACTIVE;
    }

    /// @dev True when the word is packed in container number `container`.
    function isPackedIn(ItemWord word, uint32 container) internal pure returns (bool) {
        return ItemWord.unwrap(word) & (_ADDRESS_MASK | _PACKED_BIT) == uint256(container) | _PACKED_BIT;
    }

    /// @dev What {packedInto} sets for container number `container` at `timestamp` (computed once
    /// per call, not per item).
    function packTag(uint32 container, uint256 timestamp) internal pure returns (uint256) {
        return (timestamp << _UPDATED_SHIFT) | uint256(container) | _PACKED_BIT;
    }

    /// @dev What {unpackedWith} sets for `custodian_` at `timestamp`.
    function unpackTag(address custodian_, uint256 timestamp) internal pure returns (uint256) {
        return (timestamp << _UPDATED_SHIFT) | uint256(uint160(custodian_));
    }

    /// @dev The word after it is packed (`tag` from {packTag}): in the container, nonce + 1 (offers
    /// and signatures made before no longer work). Same caveat as {movedTo}.
    function packedWith(ItemWord word, uint256 tag) internal pure returns (ItemWord) {
        return ItemWord.wrap(((ItemWord.unwrap(word) & ~(_ADDRESS_MASK | _UPDATED_MASK)) + _NONCE_ONE) | tag);
    }

    /// @dev The word after it is taken out of its container (`tag` from {unpackTag}): held by the
    /// tag's custodian, nonce + 1. Same caveat as {movedTo}.
    function unpackedWith(ItemWord word, uint256 tag) internal pure returns (ItemWord) {
        return ItemWord.wrap(
            ((ItemWord.unwrap(word) & ~(_ADDRESS_MASK | _UPDATED_MASK | _PACKED_BIT)) + _NONCE_ONE) | tag
        );
    }

    /// @dev True for a container word or one whose nonce is exhausted: the rare cases packing
    /// looks at more closely.
    function needsCare(ItemWord word) internal pure returns (bool) {
        return ItemWord.unwrap(word) & _CONTAINER_BIT != 0 || ItemWord.unwrap(word) & _NONCE_MASK == _NONCE_MASK;
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

    /// @dev Packing's hot loop, in assembly for gas (the one place this library touches storage):
    /// from `ids[from]` on, while the word at `_items[id]` (`itemsSlot`: the mapping's slot) is an
    /// item held by `actor` itself, Active, with a nonce left, writes it {packedWith} `tag`.
    /// Returns the index of the first id it stopped at (a container, or one to refuse), or
    /// `ids.length`; the caller handles that id and calls again.
    function packRun(bytes32[] calldata ids, uint256 from, uint256 itemsSlot, address actor, uint256 tag)
        internal
        returns (uint256 stoppedAt)
    {
        uint256 expected = uint256(uint160(actor)) | _ACTIVE;
        uint256 checked = _ADDRESS_MASK | _STATUS_MASK | _PACKED_BIT | _CONTAINER_BIT;
        uint256 kept = ~(_ADDRESS_MASK | _UPDATED_MASK);
        uint256 nonceMask = _NONCE_MASK;
        uint256 nonceOne = _NONCE_ONE;
        assembly ("memory-safe") {
            let end := add(ids.offset, shl(5, ids.length))
            let p := add(ids.offset, shl(5, from))
            mstore(0x20, itemsSlot)
            for {} lt(p, end) { p := add(p, 0x20) } {
                mstore(0x00, calldataload(p))
                let slot := keccak256(0x00, 0x40)
                let w := sload(slot)
                if or(iszero(eq(and(w, checked), expected)), eq(and(w, nonceMask), nonceMask)) { break }
                sstore(slot, or(add(and(w, kept), nonceOne), tag))
            }
            stoppedAt := shr(5, sub(p, ids.offset))
        }
    }

    /// @dev Unpacking's hot loop (as {packRun}): while the word of `ids[i]` is packed in container
    /// number `container` with a nonce left, writes it {unpackedWith} `tag`. Returns the index of
    /// the first id it stopped at (one to refuse), or `ids.length`.
    function unpackRun(bytes32[] calldata ids, uint256 itemsSlot, uint32 container, uint256 tag)
        internal
        returns (uint256 stoppedAt)
    {
        uint256 expected = uint256(container) | _PACKED_BIT;
        uint256 checked = _ADDRESS_MASK | _PACKED_BIT;
        uint256 kept = ~(_ADDRESS_MASK | _UPDATED_MASK | _PACKED_BIT);
        uint256 nonceMask = _NONCE_MASK;
        uint256 nonceOne = _NONCE_ONE;
        assembly ("memory-safe") {
            let end := add(ids.offset, shl(5, ids.length))
            let p := ids.offset
            mstore(0x20, itemsSlot)
            for {} lt(p, end) { p := add(p, 0x20) } {
                mstore(0x00, calldataload(p))
                let slot := keccak256(0x00, 0x40)
                let w := sload(slot)
                if or(iszero(eq(and(w, checked), expected)), eq(and(w, nonceMask), nonceMask)) { break }
                sstore(slot, or(add(and(w, kept), nonceOne), tag))
            }
            stoppedAt := shr(5, sub(p, ids.offset))
        }
    }
}
