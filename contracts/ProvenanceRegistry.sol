// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";

/// @title supplytrace provenance registry
/// @notice See {IProvenanceRegistry}. Not upgradeable, by design: nobody can rewrite provenance.
/// @dev Gas layout: one storage word per item (custodian | lotId | updatedAt | custodyNonce | status)
/// and one more only while a custody offer is open. A lot is three words plus its key index.
contract ProvenanceRegistry is IProvenanceRegistry, AccessControlDefaultAdminRules, EIP712 {
    /// @inheritdoc IProvenanceRegistry
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    bytes32 private constant _HANDOFF_TYPEHASH =
        keccak256("Handoff(bytes32 item,uint256 nonce,address from,address to,uint256 deadline)");
    bytes32 private constant _HANDOFF_BATCH_TYPEHASH =
        keccak256("HandoffBatch(bytes32[] items,uint256[] nonces,address from,address to,uint256 deadline)");

    uint256 private constant _GTIN_LIMIT = 1e14; // GTIN-14 has 14 digits
    uint256 private constant _GTIN_BODY_LIMIT = 1e12; // the 12 digits between indicator and check digit

    // Item word layout (bits): custodian [0,160) | lotId [160,192) | updatedAt [192,232)
    //                          | custodyNonce [232,248) | status [248,256)
    uint256 private constant _LOT_SHIFT = 160;
    uint256 private constant _UPDATED_SHIFT = 192;
    uint256 private constant _NONCE_SHIFT = 232;
    uint256 private constant _STATUS_SHIFT = 248;
    uint256 private constant _NONCE_ONE = 1 << _NONCE_SHIFT;
    uint256 private constant _NONCE_MASK = uint256(type(uint16).max) << _NONCE_SHIFT;
    uint256 private constant _UPDATED_MASK = uint256(type(uint40).max) << _UPDATED_SHIFT;
    uint256 private constant _STATUS_MASK = uint256(type(uint8).max) << _STATUS_SHIFT;
    uint256 private constant _ADDRESS_MASK = uint256(type(uint160).max);
    uint256 private constant _LOW_96_BITS = uint256(type(uint96).max);

    struct Lot {
        address registrar;
        uint48 gtin;
        uint40 recalledAt;
        bool closed;
        bytes32 lotCode;
        bytes32 metadataHash;
    }

    mapping(bytes32 itemId => uint256 word) private _items;
    mapping(bytes32 itemId => address receiver) private _pendingReceivers;
    mapping(uint32 lotId => Lot) private _lots;
    mapping(bytes32 lotKey => uint32 lotId) private _lotIds;
    mapping(uint256 gtin => address registrar) private _gtinOwners;
    mapping(uint256 prefixKey => address registrar) private _prefixOwners;
    uint32 private _lotCount;

    /// @param initialAdmin The admin (DEFAULT_ADMIN_ROLE holder).
    /// @param adminTransferDelay Seconds between starting and accepting an admin transfer.
    constructor(address initialAdmin, uint48 adminTransferDelay)
        AccessControlDefaultAdminRules(adminTransferDelay, initialAdmin)
        EIP712("supplytrace", "1")
    {}

    // ------------------------------------------------------------------------------------------
    // Administration
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProvenanceRegistry
    function nameBrand(address brand, string calldata name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit BrandNamed(brand, name);
    }

    /// @inheritdoc IProvenanceRegistry
    function describeSelf(string calldata description) external {
        emit ParticipantDescribed(msg.sender, description);
    }

    /// @inheritdoc IProvenanceRegistry
    function assignGtin(uint256 gtin, address registrar) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkGtin(gtin);
        if (registrar == address(0)) revert NotRegistrar(registrar);
        address owner = _gtinOwners[gtin];
        if (owner != address(0)) revert GtinAlreadyAssigned(gtin, owner);
        _gtinOwners[gtin] = registrar;
        emit GtinAssigned(gtin, registrar);
    }

    /// @inheritdoc IProvenanceRegistry
    function releaseGtin(uint256 gtin) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address owner = _gtinOwners[gtin];
        if (owner == address(0)) revert GtinNotAssigned(gtin);
        delete _gtinOwners[gtin];
        emit GtinReleased(gtin, owner);
    }

    /// @inheritdoc IProvenanceRegistry
    function assignCompanyPrefix(uint256 prefix, uint8 length, address registrar)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        uint256 key = _prefixKey(prefix, length);
        if (registrar == address(0)) revert NotRegistrar(registrar);
        address owner = _prefixOwners[key];
        if (owner != address(0)) revert CompanyPrefixAlreadyAssigned(prefix, length, owner);
        _prefixOwners[key] = registrar;
        emit CompanyPrefixAssigned(prefix, length, registrar);
    }

    /// @inheritdoc IProvenanceRegistry
    function releaseCompanyPrefix(uint256 prefix, uint8 length) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 key = _prefixKey(prefix, length);
        address owner = _prefixOwners[key];
        if (owner == address(0)) revert CompanyPrefixNotAssigned(prefix, length);
        delete _prefixOwners[key];
        emit CompanyPrefixReleased(prefix, length, owner);
    }

    // ------------------------------------------------------------------------------------------
    // Registration
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProvenanceRegistry
    function registerLot(uint256 gtin, bytes32 lotCode, bytes32 metadataHash) external returns (uint32 lotId) {
        _checkRegistrar();
        _checkGtin(gtin);
        address owner = _gtinOwner(gtin);
        if (owner != msg.sender) revert GtinNotOwned(gtin, msg.sender, owner);
        if (!_isShortAscii(lotCode)) revert InvalidLotCode(lotCode);
        bytes32 key = _gs1Key(gtin, lotCode);
        uint32 existing = _lotIds[key];
        if (existing != 0) revert LotAlreadyRegistered(gtin, lotCode, existing);

        lotId = ++_lotCount;
        _lotIds[key] = lotId;
        _lots[lotId] = Lot({
            registrar: msg.sender,
            gtin: uint48(gtin),
            recalledAt: 0,
            closed: false,
            lotCode: lotCode,
            metadataHash: metadataHash
        });
        emit LotRegistered(lotId, gtin, msg.sender, lotCode, metadataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function registerItem(uint32 lotId, bytes32 serial) external returns (bytes32 itemId) {
        (uint256 gtin, uint256 word) = _beginRegistration(lotId);
        itemId = _registerOne(gtin, lotId, serial, word);
    }

    /// @inheritdoc IProvenanceRegistry
    function registerItems(uint32 lotId, bytes32[] calldata serials) external {
        uint256 count = serials.length;
        if (count == 0) revert EmptyBatch();
        (uint256 gtin, uint256 word) = _beginRegistration(lotId);
        for (uint256 i; i < count; ++i) {
            _registerOne(gtin, lotId, serials[i], word);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Custody
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProvenanceRegistry
    function offer(bytes32 itemId, address to) external {
        _offer(itemId, to);
    }

    /// @inheritdoc IProvenanceRegistry
    function offerBatch(bytes32[] calldata itemIds, address to) external {
        uint256 count = _nonEmpty(itemIds);
        for (uint256 i; i < count; ++i) {
            _offer(itemIds[i], to);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function accept(bytes32 itemId) external {
        _accept(itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function acceptBatch(bytes32[] calldata itemIds) external {
        uint256 count = _nonEmpty(itemIds);
        for (uint256 i; i < count; ++i) {
            _accept(itemIds[i]);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function cancelOffer(bytes32 itemId) external {
        _cancelOffer(itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function cancelOfferBatch(bytes32[] calldata itemIds) external {
        uint256 count = _nonEmpty(itemIds);
        for (uint256 i; i < count; ++i) {
            _cancelOffer(itemIds[i]);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function rejectOffer(bytes32 itemId) external {
        _rejectOffer(itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function rejectOfferBatch(bytes32[] calldata itemIds) external {
        uint256 count = _nonEmpty(itemIds);
        for (uint256 i; i < count; ++i) {
            _rejectOffer(itemIds[i]);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function handoff(bytes32 itemId, address to, uint256 deadline, bytes calldata signature) external {
        _checkDeadline(deadline);
        uint256 word = _movableItem(itemId, to);
        bytes32 digest = _handoffDigest(itemId, _nonceOf(word), msg.sender, to, deadline);
        _checkSignature(to, digest, signature);
        _items[itemId] = _moved(itemId, word, to);
        emit CustodyTransferred(itemId, msg.sender, to);
    }

    /// @inheritdoc IProvenanceRegistry
    function handoffBatch(bytes32[] calldata itemIds, address to, uint256 deadline, bytes calldata signature)
        external
    {
        _checkDeadline(deadline);
        uint256 count = _nonEmpty(itemIds);
        uint256[] memory words = new uint256[](count);
        uint256[] memory nonces = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            uint256 word = _movableItem(itemIds[i], to);
            words[i] = word;
            nonces[i] = _nonceOf(word);
        }
        bytes32 digest = _handoffBatchDigest(itemIds, nonces, msg.sender, to, deadline);
        _checkSignature(to, digest, signature);
        for (uint256 i; i < count; ++i) {
            bytes32 itemId = itemIds[i];
            // A repeated id in the batch would see a stale word; refuse it rather than double-move.
            if (_items[itemId] != words[i]) revert NotCustodian(itemId, msg.sender, to);
            _items[itemId] = _moved(itemId, words[i], to);
            emit CustodyTransferred(itemId, msg.sender, to);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function record(bytes32 itemId, bytes32 bizStep, bytes32 dataHash) external {
        _custodiedItem(itemId);
        emit ItemObserved(itemId, msg.sender, bizStep, dataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function sell(bytes32 itemId) external {
        uint256 word = _custodiedItem(itemId);
        address pending = _pendingReceivers[itemId];
        if (pending != address(0)) revert OfferPending(itemId, pending);
        _items[itemId] = (_stamped(word) & ~_STATUS_MASK) | (uint256(uint8(ItemStatus.Sold)) << _STATUS_SHIFT);
        emit ItemSold(itemId, msg.sender);
    }

    /// @inheritdoc IProvenanceRegistry
    function recallLot(uint32 lotId, string calldata reason) external {
        Lot storage lot = _lots[lotId];
        address registrar = lot.registrar;
        if (registrar == address(0)) revert UnknownLot(lotId);
        _checkLotAuthority(lotId, registrar);
        if (lot.recalledAt != 0) revert LotIsRecalled(lotId);
        lot.recalledAt = uint40(block.timestamp);
        emit LotRecalled(lotId, msg.sender, reason);
    }

    /// @inheritdoc IProvenanceRegistry
    function closeLot(uint32 lotId) external {
        Lot storage lot = _lots[lotId];
        address registrar = lot.registrar;
        if (registrar == address(0)) revert UnknownLot(lotId);
        _checkLotAuthority(lotId, registrar);
        if (lot.closed) revert LotIsClosed(lotId);
        lot.closed = true;
        emit LotClosed(lotId, msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Reads
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProvenanceRegistry
    function getItem(bytes32 itemId) external view returns (ItemRecord memory item) {
        uint256 word = _items[itemId];
        if (word == 0) return item;
        uint32 lotId = uint32(word >> _LOT_SHIFT);
        Lot storage lot = _lots[lotId];
        item.status = ItemStatus(uint8(word >> _STATUS_SHIFT));
        item.custodian = address(uint160(word));
        item.pendingReceiver = _pendingReceivers[itemId];
        item.brand = lot.registrar;
        item.lotId = lotId;
        item.gtin = lot.gtin;
        item.lotCode = lot.lotCode;
        item.lotMetadataHash = lot.metadataHash;
        item.custodyNonce = uint16(word >> _NONCE_SHIFT);
        item.updatedAt = uint40(word >> _UPDATED_SHIFT);
        item.recalledAt = lot.recalledAt;
        item.recalled = lot.recalledAt != 0;
        item.lotClosed = lot.closed;
    }

    /// @inheritdoc IProvenanceRegistry
    function itemStatuses(bytes32[] calldata itemIds)
        external
        view
        returns (ItemStatus[] memory statuses, uint32[] memory lotIds)
    {
        uint256 count = itemIds.length;
        statuses = new ItemStatus[](count);
        lotIds = new uint32[](count);
        for (uint256 i; i < count; ++i) {
            uint256 word = _items[itemIds[i]];
            statuses[i] = ItemStatus(uint8(word >> _STATUS_SHIFT));
            lotIds[i] = uint32(word >> _LOT_SHIFT);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function getLot(uint32 lotId) external view returns (LotRecord memory) {
        Lot storage lot = _lots[lotId];
        if (lot.registrar == address(0)) revert UnknownLot(lotId);
        return LotRecord({
            registrar: lot.registrar,
            gtin: lot.gtin,
            lotCode: lot.lotCode,
            metadataHash: lot.metadataHash,
            recalledAt: lot.recalledAt,
            closed: lot.closed
        });
    }

    /// @inheritdoc IProvenanceRegistry
    function lotIdOf(uint256 gtin, bytes32 lotCode) external view returns (uint32) {
        return _lotIds[_gs1Key(gtin, lotCode)];
    }

    /// @inheritdoc IProvenanceRegistry
    function lotCount() external view returns (uint32) {
        return _lotCount;
    }

    /// @inheritdoc IProvenanceRegistry
    function gtinOwner(uint256 gtin) external view returns (address) {
        return _gtinOwner(gtin);
    }

    /// @inheritdoc IProvenanceRegistry
    function itemIdOf(uint256 gtin, bytes32 serial) external pure returns (bytes32) {
        return _gs1Key(gtin, serial);
    }

    /// @inheritdoc IProvenanceRegistry
    function handoffDigest(bytes32 itemId, address from, address to, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _handoffDigest(itemId, _nonceOf(_items[itemId]), from, to, deadline);
    }

    /// @inheritdoc IProvenanceRegistry
    function handoffBatchDigest(bytes32[] calldata itemIds, address from, address to, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        uint256[] memory nonces = new uint256[](itemIds.length);
        for (uint256 i; i < itemIds.length; ++i) {
            nonces[i] = _nonceOf(_items[itemIds[i]]);
        }
        return _handoffBatchDigest(itemIds, nonces, from, to, deadline);
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    /// @dev Checks the caller may register into `lotId`; returns the lot's GTIN and the item word
    /// every new item of this call starts with (custodian = caller, status Active, nonce 0).
    function _beginRegistration(uint32 lotId) private view returns (uint256 gtin, uint256 word) {
        Lot storage lot = _lots[lotId];
        address registrar = lot.registrar;
        if (registrar == address(0)) revert UnknownLot(lotId);
        if (registrar != msg.sender) revert NotLotRegistrar(lotId, msg.sender, registrar);
        if (lot.recalledAt != 0) revert LotIsRecalled(lotId);
        if (lot.closed) revert LotIsClosed(lotId);
        gtin = lot.gtin;
        word = uint256(uint160(msg.sender)) | (uint256(lotId) << _LOT_SHIFT)
            | (block.timestamp << _UPDATED_SHIFT) | (uint256(uint8(ItemStatus.Active)) << _STATUS_SHIFT);
    }

    function _registerOne(uint256 gtin, uint32 lotId, bytes32 serial, uint256 word) private returns (bytes32 itemId) {
        if (!_isShortAscii(serial)) revert InvalidSerial(serial);
        itemId = _gs1Key(gtin, serial);
        if (_items[itemId] != 0) revert ItemAlreadyRegistered(itemId);
        _items[itemId] = word;
        emit ItemRegistered(itemId, lotId, serial);
    }

    function _offer(bytes32 itemId, address to) private {
        _movableItem(itemId, to);
        _pendingReceivers[itemId] = to;
        emit CustodyOffered(itemId, msg.sender, to);
    }

    function _accept(bytes32 itemId) private {
        address receiver = _pendingReceivers[itemId];
        if (receiver == address(0)) revert NoPendingOffer(itemId);
        if (receiver != msg.sender) revert NotPendingReceiver(itemId, msg.sender, receiver);
        uint256 word = _items[itemId];
        delete _pendingReceivers[itemId];
        _items[itemId] = _moved(itemId, word, msg.sender);
        emit CustodyTransferred(itemId, address(uint160(word)), msg.sender);
    }

    function _cancelOffer(bytes32 itemId) private {
        _custodian(itemId);
        address receiver = _pendingReceivers[itemId];
        if (receiver == address(0)) revert NoPendingOffer(itemId);
        delete _pendingReceivers[itemId];
        emit OfferCancelled(itemId, msg.sender, receiver);
    }

    function _rejectOffer(bytes32 itemId) private {
        address receiver = _pendingReceivers[itemId];
        if (receiver == address(0)) revert NoPendingOffer(itemId);
        if (receiver != msg.sender) revert NotPendingReceiver(itemId, msg.sender, receiver);
        delete _pendingReceivers[itemId];
        emit OfferRejected(itemId, address(uint160(_items[itemId])), msg.sender);
    }

    /// @dev Reverts unless the item exists and the caller is its custodian; returns its word.
    function _custodian(bytes32 itemId) private view returns (uint256 word) {
        word = _items[itemId];
        if (word == 0) revert UnknownItem(itemId);
        address custodian = address(uint160(word));
        if (custodian != msg.sender) revert NotCustodian(itemId, msg.sender, custodian);
    }

    /// @dev As `_custodian`, and the item must not be sold.
    function _custodiedItem(bytes32 itemId) private view returns (uint256 word) {
        word = _custodian(itemId);
        if (word >> _STATUS_SHIFT == uint256(uint8(ItemStatus.Sold))) revert ItemAlreadySold(itemId);
    }

    /// @dev As `_custodiedItem`, plus a valid receiver and no open offer.
    function _movableItem(bytes32 itemId, address to) private view returns (uint256 word) {
        word = _custodiedItem(itemId);
        if (to == address(0) || to == msg.sender) revert InvalidReceiver(to);
        address pending = _pendingReceivers[itemId];
        if (pending != address(0)) revert OfferPending(itemId, pending);
    }

    /// @dev The word after custody moves to `to`: new custodian, nonce + 1, updatedAt = now.
    function _moved(bytes32 itemId, uint256 word, address to) private view returns (uint256) {
        if (word & _NONCE_MASK == _NONCE_MASK) revert CustodyNonceExhausted(itemId);
        return (_stamped(word) & ~_ADDRESS_MASK) + _NONCE_ONE | uint256(uint160(to));
    }

    /// @dev The word with updatedAt set to the current block time.
    function _stamped(uint256 word) private view returns (uint256) {
        return (word & ~_UPDATED_MASK) | (block.timestamp << _UPDATED_SHIFT);
    }

    function _nonceOf(uint256 word) private pure returns (uint256) {
        return uint16(word >> _NONCE_SHIFT);
    }

    function _nonEmpty(bytes32[] calldata itemIds) private pure returns (uint256 count) {
        count = itemIds.length;
        if (count == 0) revert EmptyBatch();
    }

    function _checkDeadline(uint256 deadline) private view {
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
    }

    /// @dev `to` accepts if it signed `digest` with its key (EOA, checked first: no account access)
    /// or, for a contract wallet, if its ERC-1271 `isValidSignature` says so.
    function _checkSignature(address to, bytes32 digest, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == to) return;
        if (to.code.length == 0 || !SignatureChecker.isValidERC1271SignatureNowCalldata(to, digest, signature)) {
            revert InvalidSignature(to);
        }
    }

    /// @dev The lot's registrar or the admin.
    function _checkLotAuthority(uint32 lotId, address registrar) private view {
        if (msg.sender != registrar && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert NotLotRegistrar(lotId, msg.sender, registrar);
        }
    }

    function _checkRegistrar() private view {
        if (!hasRole(REGISTRAR_ROLE, msg.sender)) revert NotRegistrar(msg.sender);
    }

    function _handoffDigest(bytes32 itemId, uint256 nonce, address from, address to, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(_HANDOFF_TYPEHASH, itemId, nonce, from, to, deadline)));
    }

    function _handoffBatchDigest(
        bytes32[] calldata itemIds,
        uint256[] memory nonces,
        address from,
        address to,
        uint256 deadline
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                _HANDOFF_BATCH_TYPEHASH,
                keccak256(abi.encodePacked(itemIds)),
                keccak256(abi.encodePacked(nonces)),
                from,
                to,
                deadline
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /// @dev Exact assignment first, then the longest assigned company prefix.
    function _gtinOwner(uint256 gtin) private view returns (address owner) {
        owner = _gtinOwners[gtin];
        if (owner != address(0)) return owner;
        uint256 body = (gtin / 10) % _GTIN_BODY_LIMIT;
        uint256 divisor = 1;
        for (uint8 length = 12; length >= 4; --length) {
            owner = _prefixOwners[(uint256(length) << 64) | (body / divisor)];
            if (owner != address(0)) return owner;
            divisor *= 10;
        }
    }

    function _prefixKey(uint256 prefix, uint8 length) private pure returns (uint256) {
        if (length < 4 || length > 12 || prefix >= 10 ** length) revert InvalidCompanyPrefix(prefix, length);
        return (uint256(length) << 64) | prefix;
    }

    /// @dev GTIN-14 check digit: weights 3,1,3,... from the digit left of the check digit.
    function _checkGtin(uint256 gtin) private pure {
        if (gtin == 0 || gtin >= _GTIN_LIMIT) revert InvalidGtin(gtin);
        uint256 rest = gtin / 10;
        uint256 sum;
        for (uint256 i; i < 13; ++i) {
            sum += (rest % 10) * (i % 2 == 0 ? 3 : 1);
            rest /= 10;
        }
        if ((10 - (sum % 10)) % 10 != gtin % 10) revert InvalidGtin(gtin);
    }

    /// @dev 1 to 20 bytes, left-aligned: first byte set, last 12 bytes zero.
    function _isShortAscii(bytes32 value) private pure returns (bool) {
        return uint256(value) >> 248 != 0 && uint256(value) & _LOW_96_BITS == 0;
    }

    /// @dev keccak256(abi.encode(gtin, code)): the item id for a serial, the lot key for a lot code.
    function _gs1Key(uint256 gtin, bytes32 code) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0x00, gtin)
            mstore(0x20, code)
            key := keccak256(0x00, 0x40)
        }
    }
}
