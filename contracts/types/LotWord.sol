// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IProvenanceRegistry} from "../interfaces/IProvenanceRegistry.sol";

/// @dev The first storage word of a lot: all that registering an item into it reads.
///
///     bits     [0, 160)   registrar   the brand that registered the lot; zero: no such lot
///              [160, 208) gtin        GTIN-14 as an integer (< 10^14 < 2^47)
///              [208, 248) stamp       while the lot is not recalled: its registration epoch
///                                     (its registrar's epoch when the lot was registered or
///                                     last renewed); once recalled: the recall's block time
///              248        recalled
///              249        closed
///              [250, 252) unit        IProvenanceRegistry.QuantityUnit: None for a lot without a
///                                     declared quantity (no mass balance); else the unit its
///                                     quantity, stock and item quantity are counted in
///
/// The stamp is one field for two values because a recall is final: a recalled lot never takes
/// items again, so its epoch no longer matters. 40 bits hold any epoch: only the admin's
/// revocations, releases and reassignments (and a registrar renouncing its role) advance one.
/// The bits above the GTIN (`word >> 208`, the unit masked out) of a lot that takes items equal
/// its registrar's current epoch exactly: recalled and closed set bits above the stamp, so
/// {acceptsItemsAt} is one comparison.
type LotWord is uint256;

using LotWordLibrary for LotWord global;

/// @dev Reads and writes of a {LotWord} (in the style of Uniswap v4's `Slot0`): the one place that
/// knows the layout above. Writers return a new word; they never touch storage.
library LotWordLibrary {
    uint256 private constant _GTIN_SHIFT = 160;
    uint256 private constant _STAMP_SHIFT = 208;
    uint256 private constant _RECALLED_BIT = 1 << 248;
    uint256 private constant _CLOSED_BIT = 1 << 249;
    uint256 private constant _GTIN_MASK = (1 << 48) - 1;
    uint256 private constant _STAMP_MASK = uint256(type(uint40).max) << _STAMP_SHIFT;
    uint256 private constant _UNIT_SHIFT = 250;
    uint256 private constant _UNIT_MASK = uint256(3) << _UNIT_SHIFT;

    /// @dev The word of a lot `registrar` registers for `gtin` at registration epoch `epoch`.
    function opened(address registrar_, uint256 gtin_, uint40 epoch_) internal pure returns (LotWord) {
        return LotWord.wrap(uint256(uint160(registrar_)) | (gtin_ << _GTIN_SHIFT) | (uint256(epoch_) << _STAMP_SHIFT));
    }

    /// @dev The lot word with quantity unit `unit_` (set once, when the lot is opened).
    function withUnit(LotWord word, IProvenanceRegistry.QuantityUnit unit_) internal pure returns (LotWord) {
        return LotWord.wrap(LotWord.unwrap(word) | (uint256(uint8(unit_)) << _UNIT_SHIFT));
    }

    function unit(LotWord word) internal pure returns (IProvenanceRegistry.QuantityUnit) {
        return IProvenanceRegistry.QuantityUnit(uint8(LotWord.unwrap(word) >> _UNIT_SHIFT) & 3);
    }

    /// @dev True when the lot declared a quantity: items and transformations draw on its stock.
    function isMeasured(LotWord word) internal pure returns (bool) {
        return LotWord.unwrap(word) & _UNIT_MASK != 0;
    }

    /// @dev The lot's registrar; address(0) if there is no such lot.
    function registrar(LotWord word) internal pure returns (address) {
        return address(uint160(LotWord.unwrap(word)));
    }

    function gtin(LotWord word) internal pure returns (uint256) {
        return (LotWord.unwrap(word) >> _GTIN_SHIFT) & _GTIN_MASK;
    }

    function recalled(LotWord word) internal pure returns (bool) {
        return LotWord.unwrap(word) & _RECALLED_BIT != 0;
    }

    function closed(LotWord word) internal pure returns (bool) {
        return LotWord.unwrap(word) & _CLOSED_BIT != 0;
    }

    /// @dev Block time of the recall; 0 unless recalled.
    function recalledAt(LotWord word) internal pure returns (uint40) {
        return word.recalled() ? uint40(LotWord.unwrap(word) >> _STAMP_SHIFT) : 0;
    }

    /// @dev True when the lot is neither recalled nor closed and was registered or last renewed at
    /// registration epoch `epoch` (its registrar's current one): it takes items.
    function acceptsItemsAt(LotWord word, uint40 epoch_) internal pure returns (bool) {
        return (LotWord.unwrap(word) & ~_UNIT_MASK) >> _STAMP_SHIFT == epoch_;
    }

    /// @dev The word of the lot renewed at registration epoch `epoch` (the lot is not recalled).
    function withEpoch(LotWord word, uint40 epoch_) internal pure returns (LotWord) {
        return LotWord.wrap((LotWord.unwrap(word) & ~_STAMP_MASK) | (uint256(epoch_) << _STAMP_SHIFT));
    }

    /// @dev The word of the lot recalled at `timestamp` (the lot is not recalled yet).
    function withRecall(LotWord word, uint256 timestamp) internal pure returns (LotWord) {
        return LotWord.wrap(
            (LotWord.unwrap(word) & ~_STAMP_MASK) | (uint256(uint40(timestamp)) << _STAMP_SHIFT) | _RECALLED_BIT
        );
    }

    /// @dev The word of the lot closed to new items.
    function withClosed(LotWord word) internal pure returns (LotWord) {
        return LotWord.wrap(LotWord.unwrap(word) | _CLOSED_BIT);
    }
}
