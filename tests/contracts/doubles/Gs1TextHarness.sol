// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Gs1Text} from "contracts/libraries/Gs1Text.sol";

/// @title Test double: the registry's text checks and lot code packing (contracts/libraries/Gs1Text.sol),
/// many per call
/// @notice Lets tests/contracts/test_gs1_text.py compare the word-parallel checks and the packing
/// with a plain Python reference over thousands of words in one eth_call. Not part of the
/// project's contracts.
contract Gs1TextHarness {
    function areCodes(bytes32[] calldata values) external pure returns (bool[] memory ok) {
        ok = new bool[](values.length);
        for (uint256 i; i < values.length; ++i) {
            ok[i] = Gs1Text.isCode(values[i]);
        }
    }

    function areBizSteps(bytes32[] calldata values) external pure returns (bool[] memory ok) {
        ok = new bool[](values.length);
        for (uint256 i; i < values.length; ++i) {
            ok[i] = Gs1Text.isBizStep(values[i]);
        }
    }

    function packCodes(bytes32[] calldata codes) external pure returns (uint128[] memory packed) {
        packed = new uint128[](codes.length);
        for (uint256 i; i < codes.length; ++i) {
            packed[i] = Gs1Text.packCode(codes[i]);
        }
    }

    function unpackCodes(uint128[] calldata packed) external pure returns (bytes32[] memory codes) {
        codes = new bytes32[](packed.length);
        for (uint256 i; i < packed.length; ++i) {
            codes[i] = Gs1Text.unpackCode(packed[i]);
        }
    }
}
