// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Gs1Text} from "contracts/libraries/Gs1Text.sol";

/// @title Test double: the registry's text checks (contracts/libraries/Gs1Text.sol), many per call
/// @notice Lets tests/contracts/test_gs1_text.py compare the word-parallel checks with a plain
/// Python reference over thousands of words in one eth_call. Not part of the project's contracts.
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
}
