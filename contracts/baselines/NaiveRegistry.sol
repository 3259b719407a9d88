// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Benchmark baseline: a typical tutorial supply-chain registry
/// @notice Stores names and serials as strings and keeps the custody history as an array in
/// storage, with revert strings. Used only by `make bench` to compare gas; not part of supplytrace.
contract NaiveRegistry {
    struct Product {
        string serial;
        string name;
        address owner;
        address[] custodyHistory;
        uint256 createdAt;
    }

    mapping(string serial => Product) public products;

    event ProductRegistered(string serial, address owner);
    event ProductTransferred(string serial, address from, address to);

    function registerProduct(string calldata serial, string calldata name) external {
        require(products[serial].owner == address(0), "Product already exists");
        Product storage product = products[serial];
        product.serial = serial;
        product.name = name;
        product.owner = msg.sender;
        product.createdAt = block.timestamp;
        product.custodyHistory.push(msg.sender);
        emit ProductRegistered(serial, msg.sender);
    }

    function transferProduct(string calldata serial, address to) external {
        Product storage product = products[serial];
        require(product.owner == msg.sender, "Only the owner can transfer");
        product.owner = to;
        product.custodyHistory.push(to);
        emit ProductTransferred(serial, msg.sender, to);
    }
}
