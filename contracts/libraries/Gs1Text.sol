// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @dev Checks of the short texts the registry stores as `bytes32` words (ASCII, left-aligned,
/// zero-padded): GS1 serials and lot codes, and business steps. Both checks are branch-free and
/// word-parallel (SWAR: SIMD within a register): all 32 bytes are tested at once with a dozen
/// additions, so a check costs the same (about a hundred gas) whatever the text.
///
/// The trick. For a byte `b < 0x80`, `b + (0x80 - n)` stays below 0x100 (no carry into the next
/// byte) and has its high bit set exactly when `b >= n`. Adding the constant `(0x80 - n)` repeated
/// in every byte therefore computes `b >= n` for all 32 bytes at once, in the high bit of each
/// byte (the low 7 bits are noise, masked off at the end). An allowed set that is a union of
/// ranges is then the parity of such threshold tests: with thresholds t1 < t2 < ... where the set
/// starts at each odd-numbered one and stops before each even-numbered one, `b` is in the set
/// exactly when it passes an odd number of them, i.e. when the XOR of the tests is 1. Starting the
/// list with the threshold 0x01 (`b` is not NUL) makes the XOR 0 for a NUL byte and for an allowed
/// byte, and 1 for any other: one word to test for zero. Bytes with the high bit set break the
/// no-carry premise; they are refused by testing the high bits of the value itself.
///
/// Shape. The text must start at byte 0 and have no NUL before its end (no interior NUL): with
/// `nz` the per-byte "not NUL" bits, `(nz << 8 | firstBit) & ~nz` has a bit wherever a NUL byte
/// is followed by a non-NUL one, or where the first byte is NUL (the empty text).
///
/// Packing. A lot code (1 to 20 characters of CSET 82) is stored in 128 bits, as the base-83
/// number whose 20 digits are its characters, first character first (most significant): a
/// character's digit is its rank in CSET 82 plus 1, padding's is 0, and 83^20 < 2^128. A digit is
/// the character less a byte of a constant table (`_DIGIT_OFFSETS`), and a loop pass takes four
/// characters: packing costs about 350 gas for a 1-character code and 1,300 for 20 characters.
library Gs1Text {
    // `(0x80 - n)` in every byte: adding it sets a byte's high bit iff the byte is >= n.
    uint256 private constant _AT_LEAST_01 = 0x7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f;
    uint256 private constant _AT_LEAST_21 = 0x5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f;
    uint256 private constant _AT_LEAST_23 = 0x5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d;
    uint256 private constant _AT_LEAST_25 = 0x5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b;
    uint256 private constant _AT_LEAST_40 = 0x4040404040404040404040404040404040404040404040404040404040404040;
    uint256 private constant _AT_LEAST_41 = 0x3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f;
    uint256 private constant _AT_LEAST_5B = 0x2525252525252525252525252525252525252525252525252525252525252525;
    uint256 private constant _AT_LEAST_5F = 0x2121212121212121212121212121212121212121212121212121212121212121;
    uint256 private constant _AT_LEAST_60 = 0x2020202020202020202020202020202020202020202020202020202020202020;
    uint256 private constant _AT_LEAST_61 = 0x1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f;
    uint256 private constant _AT_LEAST_7B = 0x0505050505050505050505050505050505050505050505050505050505050505;
    uint256 private constant _AT_LEAST_7F = 0x0101010101010101010101010101010101010101010101010101010101010101;
    /// The high bit of every byte.
    uint256 private constant _HIGH_BITS = 0x8080808080808080808080808080808080808080808080808080808080808080;
    /// The high bit of the first byte (bit 255).
    uint256 private constant _FIRST_HIGH_BIT = 0x8000000000000000000000000000000000000000000000000000000000000000;
    /// Bytes 20 to 31: a serial or lot code has at most 20 characters.
    uint256 private constant _LAST_12_BYTES = 0x0000000000000000000000000000000000000000ffffffffffffffffffffffff;
    /// The base of a packed code: CSET 82's characters are the digits 1 to 82.
    uint256 private constant _CODE_BASE = 83;
    /// Byte `c >> 2` of this word: what to subtract from a CSET 82 character `c` for its digit, 0x20
    /// plus the ASCII characters below `c` that CSET 82 leaves out (# $ @ [ \ ] ^ and the backtick).
    /// Those split ASCII at multiples of 4, so the four characters of each `c >> 2` share a byte.
    /// Byte 0 is 0: padding (NUL) is the digit 0.
    uint256 private constant _DIGIT_OFFSETS = 0x0000000000000000202222222222222223232323232323272828282828282800;

    /// @dev True if `value` is a GS1 serial (AI 21) or lot code (AI 10): 1 to 20 characters of
    /// GS1's character set 82 (`!"%&'()*+,-./0-9:;<=>?A-Z_a-z`), left-aligned, zero-padded, no
    /// interior NUL. The set's ranges are [0x21,0x22] [0x25,0x3F] [0x41,0x5A] [0x5F] [0x61,0x7A],
    /// so the thresholds are 0x01 (not NUL), then 0x21 0x23 0x25 0x40 0x41 0x5B 0x5F 0x60 0x61 0x7B.
    function isCode(bytes32 value) internal pure returns (bool ok) {
        assembly ("memory-safe") {
            let nonNul := add(value, _AT_LEAST_01)
            let outside := xor(nonNul, add(value, _AT_LEAST_21))
            outside := xor(outside, add(value, _AT_LEAST_23))
            outside := xor(outside, add(value, _AT_LEAST_25))
            outside := xor(outside, add(value, _AT_LEAST_40))
            outside := xor(outside, add(value, _AT_LEAST_41))
            outside := xor(outside, add(value, _AT_LEAST_5B))
            outside := xor(outside, add(value, _AT_LEAST_5F))
            outside := xor(outside, add(value, _AT_LEAST_60))
            outside := xor(outside, add(value, _AT_LEAST_61))
            outside := xor(outside, add(value, _AT_LEAST_7B))
            let gaps := and(or(shl(8, nonNul), _FIRST_HIGH_BIT), not(nonNul))
            ok := iszero(or(and(or(or(value, outside), gaps), _HIGH_BITS), and(value, _LAST_12_BYTES)))
        }
    }

    /// @dev True if `value` is a business step: 1 to 32 bytes of printable ASCII (0x21 to 0x7E),
    /// left-aligned, zero-padded, no interior NUL. Thresholds 0x01 (not NUL), 0x21, 0x7F.
    function isBizStep(bytes32 value) internal pure returns (bool ok) {
        assembly ("memory-safe") {
            let nonNul := add(value, _AT_LEAST_01)
            let outside := xor(xor(nonNul, add(value, _AT_LEAST_21)), add(value, _AT_LEAST_7F))
            let gaps := and(or(shl(8, nonNul), _FIRST_HIGH_BIT), not(nonNul))
            ok := iszero(and(or(or(value, outside), gaps), _HIGH_BITS))
        }
    }

    /// @dev The lot code `code` (a GS1 code: {isCode} holds) packed into 128 bits (see above).
    function packCode(bytes32 code) internal pure returns (uint128 packed) {
        assembly ("memory-safe") {
            function digit(character) -> d {
                d := sub(character, byte(shr(2, character), _DIGIT_OFFSETS))
            }
            let unpacked := 20 // digits not yet taken
            for {} code {} {
                // The next four digits (times 83^3, 83^2, 83 and 1), then the next four characters.
                let four := add(mul(digit(byte(0, code)), 571787), mul(digit(byte(1, code)), 6889))
                four := add(four, add(mul(digit(byte(2, code)), _CODE_BASE), digit(byte(3, code))))
                packed := add(mul(packed, 47458321), four) // 83^4
                code := shl(32, code)
                unpacked := sub(unpacked, 4)
            }
            packed := mul(packed, exp(_CODE_BASE, unpacked))
        }
    }

    /// @dev The code that {packCode} packed into `packed`: left-aligned, zero-padded.
    function unpackCode(uint128 packed) internal pure returns (bytes32 code) {
        assembly ("memory-safe") {
            // From the last digit (byte 19 of the code) up; the padding's digits are 0.
            for { let shift := 96 } packed { shift := add(shift, 8) } {
                let digit := mod(packed, _CODE_BASE)
                packed := div(packed, _CODE_BASE)
                // A character is its digit plus 0x20 and the characters CSET 82 leaves out below
                // it: 2 below the digit 3, 1 more below 30, 4 more below 56 and 1 more below 57.
                let skipped := add(add(shl(1, gt(digit, 2)), gt(digit, 29)), add(shl(2, gt(digit, 55)), gt(digit, 56)))
                if digit { code := or(code, shl(shift, add(add(digit, 0x20), skipped))) }
            }
        }
    }
}
