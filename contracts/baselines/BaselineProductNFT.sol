// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title Benchmark baseline: product-as-NFT
/// @notice What many teams reach for first: each product an OpenZeppelin 5 ERC721 token, custody
/// as token ownership. Used only by `make bench` to compare gas; not part of supplytrace.
contract BaselineProductNFT is ERC721 {
    constructor() ERC721("Baseline Product", "BPRD") {}

    /// @notice Mints product `tokenId` to `to` (anyone may call; this is a gas baseline).
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}
