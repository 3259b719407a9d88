// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title Test double: a minimal ERC-1271 smart-contract wallet
/// @notice Accepts a signature when its owner EOA signed the digest. Used by the tests to show
/// that contract wallets (multisigs, smart accounts) can accept signed handoffs.
contract MockERC1271Wallet is IERC1271 {
    /// @notice Only the owner may make the wallet call out.
    error NotOwner(address account);

    address private immutable _owner;

    constructor(address owner_) {
        _owner = owner_;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == _owner ? IERC1271.isValidSignature.selector : bytes4(0);
    }

    /// @notice Lets the wallet act: forwards a call (for accepting offers in tests).
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != _owner) revert NotOwner(msg.sender);
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }
}
