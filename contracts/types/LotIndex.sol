// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {LotDetails} from "./LotDetails.sol";

/// @dev The storage word a lot key (`keccak256(abi.encode(gtin, lotCode))`) maps to: the lot's id
/// and the rest of its metadata hash.
///
///     bits     [0, 32)    lotId          the lot with this GTIN and lot code; zero: none
///              [32, 256)  metadataHigh   the high 224 bits of the lot's metadata hash, in place
///                                        (the low 32 bits are in the lot's {LotDetails})
///
/// Every lot has this word, written once at registration, so it carries the hash bits its other
/// two words have no room for. A read of the full hash recomputes the key from the lot's GTIN and
/// code. No lot has id 0, so the word of a key that names a lot is never zero.
type LotIndex is uint256;

using LotIndexLibrary for LotIndex global;

/// @dev Reads and writes of a {LotIndex} word: the one place that knows the layout above.
library LotIndexLibrary {
    uint256 private constant _LOT_ID_MASK = type(uint32).max;

    /// @dev The word of lot `lotId_` with metadata hash `metadataHash_` (of which it keeps the high
    /// 224 bits).
    function entry(uint32 lotId_, bytes32 metadataHash_) internal pure returns (LotIndex) {
        return LotIndex.wrap((uint256(metadataHash_) & ~_LOT_ID_MASK) | lotId_);
    }

    /// @dev The lot's id; 0 if no lot has the key.
    function lotId(LotIndex index) internal pure returns (uint32) {
        return uint32(LotIndex.unwrap(index));
    }

    /// @dev The lot's full metadata hash, from this word and the lot's `details`.
    function metadataHash(LotIndex index, LotDetails details) internal pure returns (bytes32) {
        return bytes32((LotIndex.unwrap(index) & ~_LOT_ID_MASK) | details.metadataLow());
    }
}
