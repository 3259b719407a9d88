// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Gs1Text} from "../libraries/Gs1Text.sol";

/// @dev The second storage word of a lot: its quantities, its lot code and a quarter of the
/// metadata hash's bits.
///
///     bits     [0, 64)    stock          what is left of a measured lot's quantity
///              [64, 96)   itemQuantity   each item's net quantity in a measured lot
///              [96, 128)  metadataLow    the low 32 bits of the lot's metadata hash; the high
///                                        224 bits are in the lot's {LotIndex}
///              [128, 256) code           the lot code, packed by {Gs1Text.packCode} (a GS1 lot
///                                        code has 1 to 20 characters of CSET 82: 83^20 < 2^128)
///
/// A lot is then three words: its {LotWord}, this word and its {LotIndex} (the lot key's entry).
/// The code is packed once, at registration; only reads unpack it. Stock is the lowest field, so
/// drawing on it is one subtraction.
type LotDetails is uint256;

using LotDetailsLibrary for LotDetails global;

/// @dev Reads and writes of a {LotDetails} word: the one place that knows the layout above.
/// Writers return a new word; they never touch storage.
library LotDetailsLibrary {
    uint256 private constant _ITEM_QUANTITY_SHIFT = 64;
    uint256 private constant _METADATA_LOW_SHIFT = 96;
    uint256 private constant _CODE_SHIFT = 128;

    /// @dev The word of a lot opened with lot code `code_` (a GS1 lot code), stock `stock_`, item
    /// quantity `itemQuantity_` and metadata hash `metadataHash` (of which it keeps the low 32 bits).
    function opened(bytes32 code_, uint64 stock_, uint32 itemQuantity_, bytes32 metadataHash)
        internal
        pure
        returns (LotDetails)
    {
        return LotDetails.wrap(
            uint256(stock_) | (uint256(itemQuantity_) << _ITEM_QUANTITY_SHIFT)
                | (uint256(uint32(uint256(metadataHash))) << _METADATA_LOW_SHIFT)
                | (uint256(Gs1Text.packCode(code_)) << _CODE_SHIFT)
        );
    }

    function stock(LotDetails details) internal pure returns (uint64) {
        return uint64(LotDetails.unwrap(details));
    }

    function itemQuantity(LotDetails details) internal pure returns (uint32) {
        return uint32(LotDetails.unwrap(details) >> _ITEM_QUANTITY_SHIFT);
    }

    /// @dev The low 32 bits of the lot's metadata hash (see {LotIndexLibrary.metadataHash}).
    function metadataLow(LotDetails details) internal pure returns (uint32) {
        return uint32(LotDetails.unwrap(details) >> _METADATA_LOW_SHIFT);
    }

    /// @dev The lot code: left-aligned, zero-padded, as registered.
    function code(LotDetails details) internal pure returns (bytes32) {
        return Gs1Text.unpackCode(uint128(LotDetails.unwrap(details) >> _CODE_SHIFT));
    }

    /// @dev The word with `amount` taken from the stock; `amount` is at most {stock}.
    function withDrawn(LotDetails details, uint256 amount) internal pure returns (LotDetails) {
        unchecked {
            return LotDetails.wrap(LotDetails.unwrap(details) - amount);
        }
    }
}
