// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {Gs1Text} from "./libraries/Gs1Text.sol";
import {ItemWord, ItemWordLibrary} from "./types/ItemWord.sol";
import {LotDetails, LotDetailsLibrary} from "./types/LotDetails.sol";
import {LotIndex, LotIndexLibrary} from "./types/LotIndex.sol";
import {LotWord, LotWordLibrary} from "./types/LotWord.sol";

/// @title supplytrace provenance registry
/// @notice See {IProvenanceRegistry}. Not upgradeable, by design: nobody can rewrite provenance.
/// @dev Gas layout: one storage word per item ({ItemWord}) and one more only while a custody offer
/// is open. A lot is three words: {LotWord}, {LotDetails} (quantities, packed lot code, low bits of
/// the metadata hash) and the {LotIndex} its key maps to (id, the hash's other bits); each
/// registrar has one more word, its registration epoch (see {IProvenanceRegistry}).
contract ProvenanceRegistry is IProvenanceRegistry, AccessControlDefaultAdminRules, EIP712 {
    /// @inheritdoc IProvenanceRegistry
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    bytes32 private constant _HANDOFF_TYPEHASH =
        keccak256("Handoff(bytes32 item,uint256 nonce,address from,address to,uint256 deadline)");
    bytes32 private constant _HANDOFF_BATCH_TYPEHASH =
        keccak256("HandoffBatch(bytes32[] items,uint256[] nonces,address from,address to,uint256 deadline)");
    bytes32 private constant _OFFER_TYPEHASH =
        keccak256("Offer(bytes32 item,uint256 nonce,address to,uint256 deadline)");
    bytes32 private constant _ACCEPT_TYPEHASH = keccak256("Accept(bytes32 item,uint256 nonce,uint256 deadline)");
    bytes32 private constant _REJECT_TYPEHASH = keccak256("Reject(bytes32 item,uint256 nonce,uint256 deadline)");
    bytes32 private constant _CANCEL_TYPEHASH = keccak256("Cancel(bytes32 item,uint256 nonce,uint256 deadline)");
    bytes32 private constant _RECORD_TYPEHASH =
        keccak256("Record(bytes32 item,uint256 nonce,bytes32 bizStep,bytes32 dataHash,uint256 deadline)");
    bytes32 private constant _SELL_TYPEHASH = keccak256("Sell(bytes32 item,uint256 nonce,uint256 deadline)");

    uint256 private constant _GTIN_LIMIT = 1e14; // GTIN-14 has 14 digits
    uint256 private constant _SSCC_LIMIT = 1e18; // an SSCC has 18 digits
    uint256 private constant _GTIN_BODY_DIGITS = 12; // the digits between indicator and check digit
    uint256 private constant _GTIN_BODY_LIMIT = 1e12;
    uint8 private constant _MIN_PREFIX_LENGTH = 4;

    /// @dev A lot's two words; its third is `_lotIndex[key]` (key: its GTIN and lot code).
    struct Lot {
        LotWord word; // registrar, GTIN, registration epoch or recall time, recalled, closed, unit
        LotDetails details; // stock, item quantity, low 32 bits of the metadata hash, lot code
    }

    /// @dev An offer: receiver in bits [0, 160), the low 96 bits of the custodian who made it
    /// above. It is open while the item is not packed and that custodian holds it: packing
    /// suspends it, and once another custodian holds the item (unpacked from a container that
    /// moved) it is no offer at all, so nobody receives an item its holder did not offer.
    mapping(bytes32 itemId => uint256 offer) private _offers;
    mapping(bytes32 itemId => ItemWord word) private _items;
    mapping(uint32 lotId => Lot) private _lots;
    mapping(bytes32 lotKey => LotIndex index) private _lotIndex;
    mapping(uint256 gtin => address registrar) private _gtinOwners;
    mapping(uint256 prefixKey => address registrar) private _prefixOwners;
    mapping(address registrar => uint40 epoch) private _registrationEpochs;
    mapping(bytes32 codeRoot => uint32 lotId) private _codeRoots;
    mapping(uint32 containerNumber => uint256 sscc) private _containerSsccs;
    uint32 private _lotCount;
    uint32 private _containerCount;

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
        if (bytes(name).length == 0) revert EmptyBrandName(brand);
        emit BrandNamed(brand, name);
    }

    /// @inheritdoc IProvenanceRegistry
    function unnameBrand(address brand) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit BrandUnnamed(brand);
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
        _handedOver(_prefixOwner(_gtinBody(gtin), _GTIN_BODY_DIGITS), registrar);
        emit GtinAssigned(gtin, registrar);
    }

    /// @inheritdoc IProvenanceRegistry
    function releaseGtin(uint256 gtin) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address owner = _gtinOwners[gtin];
        if (owner == address(0)) revert GtinNotAssigned(gtin);
        delete _gtinOwners[gtin];
        _handedOver(owner, _prefixOwner(_gtinBody(gtin), _GTIN_BODY_DIGITS));
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
        _handedOver(_coveringPrefixOwner(prefix, length), registrar);
        emit CompanyPrefixAssigned(prefix, length, registrar);
    }

    /// @inheritdoc IProvenanceRegistry
    function releaseCompanyPrefix(uint256 prefix, uint8 length) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 key = _prefixKey(prefix, length);
        address owner = _prefixOwners[key];
        if (owner == address(0)) revert CompanyPrefixNotAssigned(prefix, length);
        delete _prefixOwners[key];
        _handedOver(owner, _coveringPrefixOwner(prefix, length));
        emit CompanyPrefixReleased(prefix, length, owner);
    }

    // ------------------------------------------------------------------------------------------
    // Registration
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProvenanceRegistry
    function registerLot(uint256 gtin, bytes32 lotCode, bytes32 metadataHash) external returns (uint32 lotId) {
        lotId = _openLot(gtin, lotCode, metadataHash, QuantityUnit.None, 0, 0);
    }

    /// @inheritdoc IProvenanceRegistry
    function registerMeasuredLot(
        uint256 gtin,
        bytes32 lotCode,
        bytes32 metadataHash,
        uint64 quantity,
        uint32 itemQuantity,
        QuantityUnit unit
    ) external returns (uint32 lotId) {
        if (unit == QuantityUnit.None) revert InvalidQuantity();
        lotId = _openLot(gtin, lotCode, metadataHash, unit, quantity, itemQuantity);
        emit LotQuantityDeclared(lotId, quantity, itemQuantity, unit);
    }

    /// @inheritdoc IProvenanceRegistry
    function registerTransformedLot(
        uint256 gtin,
        bytes32 lotCode,
        bytes32 metadataHash,
        uint32[] calldata inputLotIds,
        uint64[] calldata inputQuantities,
        uint64 quantity,
        uint32 itemQuantity
    ) external returns (uint32 lotId) {
        uint256 count = inputLotIds.length;
        if (count == 0 || count != inputQuantities.length) revert InvalidQuantity();
        QuantityUnit unit = _lots[inputLotIds[0]].word.unit();
        uint256 consumed;
        for (uint256 i; i < count; ++i) {
            uint32 inputId = inputLotIds[i];
            Lot storage input = _lots[inputId];
            LotWord word = input.word;
            address registrar = word.registrar();
            if (registrar != msg.sender) {
                if (registrar == address(0)) revert UnknownLot(inputId);
                revert NotLotRegistrar(inputId, msg.sender, registrar);
            }
            if (word.recalled()) revert LotIsRecalled(inputId);
            if (unit == QuantityUnit.None || word.unit() != unit) revert UnitMismatch(inputId, word.unit(), unit);
            uint64 amount = inputQuantities[i];
            if (amount == 0) revert InvalidQuantity();
            input.details = _drawn(inputId, input.details, amount);
            consumed += amount;
        }
        if (quantity > consumed) revert OutputExceedsInputs(quantity, consumed);
        lotId = _openLot(gtin, lotCode, metadataHash, unit, quantity, itemQuantity);
        emit LotTransformed(lotId, inputLotIds, inputQuantities, quantity, itemQuantity, unit);
    }

    /// @dev Registers a lot (the checks and event of {registerLot}); a measured one (`unit` not
    /// None) with its quantity as stock.
    function _openLot(
        uint256 gtin,
        bytes32 lotCode,
        bytes32 metadataHash,
        QuantityUnit unit,
        uint64 quantity,
        uint32 itemQuantity
    ) private returns (uint32 lotId) {
        if (unit != QuantityUnit.None && (quantity == 0 || itemQuantity == 0)) revert InvalidQuantity();
        _checkRegistrar();
        _checkGtin(gtin);
        address owner = _gtinOwner(gtin);
        if (owner != msg.sender) revert GtinNotOwned(gtin, msg.sender, owner);
        if (!Gs1Text.isCode(lotCode)) revert InvalidLotCode(lotCode);
        bytes32 key = _gs1Key(gtin, lotCode);
        uint32 existing = _lotIndex[key].lotId();
        if (existing != 0) revert LotAlreadyRegistered(gtin, lotCode, existing);

        lotId = ++_lotCount;
        _lotIndex[key] = LotIndexLibrary.entry(lotId, metadataHash);
        _lots[lotId] = Lot({
            word: LotWordLibrary.opened(msg.sender, gtin, _registrationEpochs[msg.sender]).withUnit(unit),
            details: LotDetailsLibrary.opened(lotCode, quantity, itemQuantity, metadataHash)
        });
        emit LotRegistered(lotId, gtin, msg.sender, lotCode, metadataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function registerItem(uint32 lotId, bytes32 serial) external returns (bytes32 itemId) {
        (uint256 gtin, ItemWord word) = _beginRegistration(lotId, 1);
        itemId = _registerOne(gtin, lotId, serial, word);
    }

    /// @inheritdoc IProvenanceRegistry
    function registerItems(uint32 lotId, bytes32[] calldata serials) external {
        uint256 count = serials.length;
        if (count == 0) revert EmptyBatch();
        (uint256 gtin, ItemWord word) = _beginRegistration(lotId, count);
        for (uint256 i; i < count; ++i) {
            _registerOne(gtin, lotId, serials[i], word);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function registerItemsWithCodes(uint32 lotId, bytes32[] calldata serials, bytes32 codeRoot) external {
        uint256 count = serials.length;
        if (count == 0) revert EmptyBatch();
        (uint256 gtin, ItemWord word) = _beginRegistration(lotId, count);
        if (codeRoot == bytes32(0) || _codeRoots[codeRoot] != 0) revert InvalidCodeRoot(codeRoot);
        _codeRoots[codeRoot] = lotId;
        for (uint256 i; i < count; ++i) {
            _registerOne(gtin, lotId, serials[i], word);
        }
        emit CodesCommitted(lotId, codeRoot, count);
    }

    /// @inheritdoc IProvenanceRegistry
    function claim(bytes32 itemId, bytes32 code, bytes32[] calldata proof) external {
        ItemWord word = _items[itemId];
        if (!word.isRegistered()) revert UnknownItem(itemId);
        if (word.isClaimed()) revert ItemAlreadyClaimed(itemId);
        bytes32 leaf;
        assembly ("memory-safe") {
            mstore(0x00, itemId)
            mstore(0x20, code)
            mstore(0x00, keccak256(0x00, 0x40))
            leaf := keccak256(0x00, 0x20)
        }
        uint32 lotId = _codeRoots[MerkleProof.processProofCalldata(proof, leaf)];
        if (lotId == 0 || lotId != word.lotId() || word.isContainer()) revert InvalidCode(itemId);
        _items[itemId] = word.claimedAt(block.timestamp);
        emit ItemClaimed(itemId, word.custodian());
    }

    /// @inheritdoc IProvenanceRegistry
    function renewLot(uint32 lotId) external {
        Lot storage lot = _lots[lotId];
        LotWord word = lot.word;
        address registrar = word.registrar();
        if (registrar == address(0)) revert UnknownLot(lotId);
        if (registrar != msg.sender) revert NotLotRegistrar(lotId, msg.sender, registrar);
        _checkOpenToCaller(lotId, word);
        lot.word = word.withEpoch(_registrationEpochs[msg.sender]);
        emit LotRenewed(lotId, msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Custody
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProvenanceRegistry
    function offer(bytes32 itemId, address to) external {
        _offer(msg.sender, itemId, to);
    }

    /// @inheritdoc IProvenanceRegistry
    function offerBatch(bytes32[] calldata itemIds, address to) external {
        uint256 count = _nonEmpty(itemIds);
        for (uint256 i; i < count; ++i) {
            _offer(msg.sender, itemIds[i], to);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function accept(bytes32 itemId) external {
        _accept(msg.sender, itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function acceptBatch(bytes32[] calldata itemIds) external {
        uint256 count = _nonEmpty(itemIds);
        for (uint256 i; i < count; ++i) {
            _accept(msg.sender, itemIds[i]);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function cancelOffer(bytes32 itemId) external {
        _cancelOffer(msg.sender, itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function cancelOfferBatch(bytes32[] calldata itemIds) external {
        uint256 count = _nonEmpty(itemIds);
        for (uint256 i; i < count; ++i) {
            _cancelOffer(msg.sender, itemIds[i]);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function rejectOffer(bytes32 itemId) external {
        _rejectOffer(msg.sender, itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function rejectOfferBatch(bytes32[] calldata itemIds) external {
        uint256 count = _nonEmpty(itemIds);
        for (uint256 i; i < count; ++i) {
            _rejectOffer(msg.sender, itemIds[i]);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function handoff(bytes32 itemId, address to, uint256 deadline, bytes calldata signature) external {
        _checkDeadline(deadline);
        ItemWord word = _movableItem(msg.sender, itemId, to);
        bytes32 digest = _handoffDigest(itemId, word.custodyNonce(), msg.sender, to, deadline);
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
        ItemWord[] memory words = new ItemWord[](count);
        uint256[] memory nonces = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            ItemWord word = _movableItem(msg.sender, itemIds[i], to);
            words[i] = word;
            nonces[i] = word.custodyNonce();
        }
        bytes32 digest = _handoffBatchDigest(itemIds, nonces, msg.sender, to, deadline);
        _checkSignature(to, digest, signature);
        for (uint256 i; i < count; ++i) {
            bytes32 itemId = itemIds[i];
            // A repeated id in the batch would see a stale word; refuse it rather than double-move.
            if (ItemWord.unwrap(_items[itemId]) != ItemWord.unwrap(words[i])) {
                revert NotCustodian(itemId, msg.sender, to);
            }
            _items[itemId] = _moved(itemId, words[i], to);
            emit CustodyTransferred(itemId, msg.sender, to);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function record(bytes32 itemId, bytes32 bizStep, bytes32 dataHash) external {
        _record(msg.sender, itemId, _custodiedItem(msg.sender, itemId), bizStep, dataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function sell(bytes32 itemId) external {
        _sell(msg.sender, itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function pack(uint256 sscc, bytes32[] calldata contents) external returns (bytes32 containerId) {
        uint256 count = _nonEmpty(contents);
        containerId = _gs1Key(0, bytes32(sscc));
        ItemWord box = _items[containerId];
        if (box.isRegistered()) {
            _checkCustodian(msg.sender, containerId, box);
            _checkNoOffer(containerId, box);
        } else {
            box = _createContainer(containerId, sscc);
        }
        uint256 tag = ItemWordLibrary.packTag(box.number(), block.timestamp);
        uint256 itemsSlot = _itemsSlot();
        uint8 level = 1; // the lowest level a container holding anything has
        for (uint256 i = ItemWordLibrary.packRun(contents, 0, itemsSlot, msg.sender, tag); i < count;) {
            bytes32 id = contents[i];
            ItemWord word = _items[id];
            if (!word.isHeldActiveBy(msg.sender)) _refusePacking(id, word);
            level = _packedInner(containerId, id, word, level);
            _items[id] = word.packedWith(tag);
            i = ItemWordLibrary.packRun(contents, i + 1, itemsSlot, msg.sender, tag);
        }
        if (level > box.level()) box = box.withLevel(level);
        _items[containerId] = _nextNonce(containerId, box);
        _emitContents(ContainerPacked.selector, containerId, contents);
    }

    /// @inheritdoc IProvenanceRegistry
    function unpack(bytes32 containerId, bytes32[] calldata contents) external {
        uint256 count = _nonEmpty(contents);
        ItemWord box = _custodian(msg.sender, containerId);
        if (!box.isContainer()) revert NotInContainer(contents[0], containerId);
        _checkNoOffer(containerId, box);
        uint32 number = box.number();
        uint256 tag = ItemWordLibrary.unpackTag(msg.sender, block.timestamp);
        uint256 stoppedAt = ItemWordLibrary.unpackRun(contents, _itemsSlot(), number, tag);
        if (stoppedAt < count) {
            bytes32 id = contents[stoppedAt];
            if (_items[id].isNonceExhausted()) revert CustodyNonceExhausted(id);
            revert NotInContainer(id, containerId);
        }
        _items[containerId] = _nextNonce(containerId, box);
        _emitContents(ContainerUnpacked.selector, containerId, contents);
    }

    // ------------------------------------------------------------------------------------------
    // Relayed actions (signed by the actor, sent by anyone)
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProvenanceRegistry
    function offerBySig(bytes32 itemId, address to, uint256 deadline, bytes calldata signature) external {
        ItemWord word = _items[itemId];
        address actor = word.custodian();
        _checkDeadline(deadline);
        _checkSignature(
            actor,
            _hashTypedDataV4(keccak256(abi.encode(_OFFER_TYPEHASH, itemId, word.custodyNonce(), to, deadline))),
            signature
        );
        _offer(actor, itemId, to);
    }

    /// @inheritdoc IProvenanceRegistry
    function acceptBySig(bytes32 itemId, uint256 deadline, bytes calldata signature) external {
        address actor = _signedByReceiver(_ACCEPT_TYPEHASH, itemId, deadline, signature);
        _accept(actor, itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function rejectBySig(bytes32 itemId, uint256 deadline, bytes calldata signature) external {
        address actor = _signedByReceiver(_REJECT_TYPEHASH, itemId, deadline, signature);
        _rejectOffer(actor, itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function cancelBySig(bytes32 itemId, uint256 deadline, bytes calldata signature) external {
        address actor = _signedByCustodian(_CANCEL_TYPEHASH, itemId, deadline, signature);
        _cancelOffer(actor, itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function recordBySig(bytes32 itemId, bytes32 bizStep, bytes32 dataHash, uint256 deadline, bytes calldata signature)
        external
    {
        ItemWord word = _items[itemId];
        address actor = word.custodian();
        _checkDeadline(deadline);
        _checkSignature(
            actor,
            _hashTypedDataV4(
                keccak256(abi.encode(_RECORD_TYPEHASH, itemId, word.custodyNonce(), bizStep, dataHash, deadline))
            ),
            signature
        );
        _record(actor, itemId, _custodiedItem(actor, itemId), bizStep, dataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function sellBySig(bytes32 itemId, uint256 deadline, bytes calldata signature) external {
        address actor = _signedByCustodian(_SELL_TYPEHASH, itemId, deadline, signature);
        _sell(actor, itemId);
    }

    /// @inheritdoc IProvenanceRegistry
    function handoffBySig(
        bytes32 itemId,
        address to,
        uint256 deadline,
        bytes calldata fromSignature,
        bytes calldata toSignature
    ) external {
        _checkDeadline(deadline);
        address from = _items[itemId].custodian();
        ItemWord word = _movableItem(from, itemId, to);
        bytes32 digest = _handoffDigest(itemId, word.custodyNonce(), from, to, deadline);
        _checkSignature(from, digest, fromSignature);
        _checkSignature(to, digest, toSignature);
        _items[itemId] = _moved(itemId, word, to);
        emit CustodyTransferred(itemId, from, to);
    }

    /// @inheritdoc IProvenanceRegistry
    function recallLot(uint32 lotId, string calldata reason) external {
        Lot storage lot = _lots[lotId];
        LotWord word = _lotWordForAuthority(lotId, lot);
        if (word.recalled()) revert LotIsRecalled(lotId);
        lot.word = word.withRecall(block.timestamp);
        emit LotRecalled(lotId, msg.sender, reason);
    }

    /// @inheritdoc IProvenanceRegistry
    function closeLot(uint32 lotId) external {
        Lot storage lot = _lots[lotId];
        LotWord word = _lotWordForAuthority(lotId, lot);
        if (word.closed()) revert LotIsClosed(lotId);
        lot.word = word.withClosed();
        emit LotClosed(lotId, msg.sender);
    }

    // ------------------------------------------------------------------------------------------
    // Reads
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IProvenanceRegistry
    function getItem(bytes32 itemId) external view returns (ItemRecord memory item) {
        ItemWord word = _items[itemId];
        if (!word.isRegistered() || word.isContainer()) return item;
        uint32 lotId = word.lotId();
        Lot storage lot = _lots[lotId];
        LotWord lotWord = lot.word;
        item.status = word.status();
        if (word.isPacked()) (item.container, item.custodian) = _outermost(word);
        else item.custodian = word.custodian();
        item.pendingReceiver = _openOffer(itemId, word);
        item.brand = lotWord.registrar();
        item.lotId = lotId;
        item.gtin = lotWord.gtin();
        (item.lotCode, item.lotMetadataHash) = _lotTexts(lotWord, lot.details);
        item.custodyNonce = word.custodyNonce();
        item.updatedAt = word.updatedAt();
        item.recalledAt = lotWord.recalledAt();
        item.recalled = lotWord.recalled();
        item.lotClosed = lotWord.closed();
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
            ItemWord word = _items[itemIds[i]];
            statuses[i] = word.status();
            lotIds[i] = word.lotId();
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function getLot(uint32 lotId) external view returns (LotRecord memory) {
        Lot storage lot = _lots[lotId];
        LotWord word = _existingLotWord(lotId, lot);
        LotDetails details = lot.details;
        (bytes32 lotCode, bytes32 metadataHash) = _lotTexts(word, details);
        return LotRecord({
            registrar: word.registrar(),
            gtin: word.gtin(),
            lotCode: lotCode,
            metadataHash: metadataHash,
            recalledAt: word.recalledAt(),
            closed: word.closed(),
            unit: word.unit(),
            stock: details.stock(),
            itemQuantity: details.itemQuantity()
        });
    }

    /// @inheritdoc IProvenanceRegistry
    function getContainer(bytes32 containerId) external view returns (ContainerRecord memory box) {
        ItemWord word = _items[containerId];
        if (!word.isContainer()) return box;
        box.sscc = _containerSsccs[word.number()];
        if (word.isPacked()) (box.container, box.custodian) = _outermost(word);
        else box.custodian = word.custodian();
        box.pendingReceiver = _openOffer(containerId, word);
        box.custodyNonce = word.custodyNonce();
        box.updatedAt = word.updatedAt();
        box.level = word.level();
    }

    /// @inheritdoc IProvenanceRegistry
    function containerIdOf(uint256 sscc) external pure returns (bytes32) {
        return _gs1Key(0, bytes32(sscc));
    }

    /// @inheritdoc IProvenanceRegistry
    function lotNeedsRenewal(uint32 lotId) external view returns (bool) {
        LotWord word = _existingLotWord(lotId, _lots[lotId]);
        return !word.recalled() && !word.closed() && !word.acceptsItemsAt(_registrationEpochs[word.registrar()]);
    }

    /// @inheritdoc IProvenanceRegistry
    function lotIdOf(uint256 gtin, bytes32 lotCode) external view returns (uint32) {
        return _lotIndex[_gs1Key(gtin, lotCode)].lotId();
    }

    /// @inheritdoc IProvenanceRegistry
    function codeRootLot(bytes32 root) external view returns (uint32) {
        return _codeRoots[root];
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
        return _handoffDigest(itemId, _items[itemId].custodyNonce(), from, to, deadline);
    }

    /// @inheritdoc IProvenanceRegistry
    function handoffBatchDigest(bytes32[] calldata itemIds, address from, address to, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        uint256[] memory nonces = new uint256[](itemIds.length);
        for (uint256 i; i < itemIds.length; ++i) {
            nonces[i] = _items[itemIds[i]].custodyNonce();
        }
        return _handoffBatchDigest(itemIds, nonces, from, to, deadline);
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    /// @dev Checks the caller may register `count` items into `lotId` (one read of the lot's word
    /// and one of the caller's registration epoch; a measured lot's stock drawn on); returns the
    /// lot's GTIN and the item word every new item of this call starts with (custodian = caller,
    /// status Active, nonce 0).
    function _beginRegistration(uint32 lotId, uint256 count) private returns (uint256 gtin, ItemWord word) {
        Lot storage stored = _lots[lotId];
        LotWord lot = stored.word;
        address registrar = lot.registrar();
        if (registrar != msg.sender) {
            if (registrar == address(0)) revert UnknownLot(lotId);
            revert NotLotRegistrar(lotId, msg.sender, registrar);
        }
        if (!lot.acceptsItemsAt(_registrationEpochs[msg.sender])) _refuseRegistration(lotId, lot);
        if (lot.isMeasured()) {
            LotDetails details = stored.details;
            stored.details = _drawn(lotId, details, count * details.itemQuantity());
        }
        gtin = lot.gtin();
        word = ItemWordLibrary.registered(msg.sender, lotId, block.timestamp);
    }

    /// @dev The details of measured lot `lotId` with `amount` taken from its stock, all or nothing.
    function _drawn(uint32 lotId, LotDetails details, uint256 amount) private pure returns (LotDetails) {
        uint64 stock = details.stock();
        if (amount > stock) revert QuantityExceeded(lotId, amount, stock);
        return details.withDrawn(amount);
    }

    /// @dev The lot code and full metadata hash of the lot with `word` and `details`: the code
    /// unpacked, the hash's high bits from the index word of the lot's key.
    function _lotTexts(LotWord word, LotDetails details) private view returns (bytes32 code, bytes32 metadataHash) {
        code = details.code();
        metadataHash = _lotIndex[_gs1Key(word.gtin(), code)].metadataHash(details);
    }

    /// @dev Why a lot of the caller's does not take items (its word is not at the caller's
    /// epoch): recalled, closed, what the caller lacks now (the role, the GTIN) or, if it lacks
    /// nothing, the renewal the lot needs. Always reverts.
    function _refuseRegistration(uint32 lotId, LotWord lot) private view {
        _checkOpenToCaller(lotId, lot);
        revert LotNeedsRenewal(lotId);
    }

    /// @dev Reverts unless the caller's lot `lotId` is neither recalled nor closed and the caller
    /// holds REGISTRAR_ROLE and owns the lot's GTIN now (checked in full, not through the epoch).
    function _checkOpenToCaller(uint32 lotId, LotWord lot) private view {
        if (lot.recalled()) revert LotIsRecalled(lotId);
        if (lot.closed()) revert LotIsClosed(lotId);
        _checkRegistrar();
        uint256 gtin = lot.gtin();
        address owner = _gtinOwner(gtin);
        if (owner != msg.sender) revert GtinNotOwned(gtin, msg.sender, owner);
    }

    function _registerOne(uint256 gtin, uint32 lotId, bytes32 serial, ItemWord word) private returns (bytes32 itemId) {
        if (!Gs1Text.isCode(serial)) revert InvalidSerial(serial);
        itemId = _gs1Key(gtin, serial);
        if (_items[itemId].isRegistered()) revert ItemAlreadyRegistered(itemId);
        _items[itemId] = word;
        emit ItemRegistered(itemId, lotId, serial);
    }

    /// @dev Admin changes of GTIN ownership: `from` owned what now belongs to `to` (address(0):
    /// nobody). If that is a loss for `from`, its registration epoch moves on, so that its lots
    /// stop taking items until renewed.
    function _handedOver(address from, address to) private {
        if (from != address(0) && from != to) _advanceEpoch(from);
    }

    function _advanceEpoch(address registrar) private {
        _registrationEpochs[registrar] += 1;
    }

    /// @dev Revoking or renouncing REGISTRAR_ROLE moves the registrar's epoch on (see
    /// {IProvenanceRegistry}): its lots stop taking items at once.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == REGISTRAR_ROLE) _advanceEpoch(account);
    }

    function _offer(address actor, bytes32 itemId, address to) private {
        _movableItem(actor, itemId, to);
        _offers[itemId] = uint256(uint160(to)) | (uint256(uint160(actor)) << 160);
        emit CustodyOffered(itemId, actor, to);
    }

    function _accept(address actor, bytes32 itemId) private {
        ItemWord word = _items[itemId];
        address receiver = _openOffer(itemId, word);
        if (receiver == address(0)) revert NoPendingOffer(itemId);
        if (receiver != actor) revert NotPendingReceiver(itemId, actor, receiver);
        // Claiming does not read offers: an item claimed while offered can no longer be accepted.
        if (word.isClaimed()) revert ItemAlreadyClaimed(itemId);
        delete _offers[itemId];
        _items[itemId] = _moved(itemId, word, actor);
        emit CustodyTransferred(itemId, word.custodian(), actor);
    }

    /// @dev A withdrawn offer advances the item's nonce, so a signed offer cannot be replayed.
    function _cancelOffer(address actor, bytes32 itemId) private {
        ItemWord word = _custodian(actor, itemId);
        address receiver = _openOffer(itemId, word);
        if (receiver == address(0)) revert NoPendingOffer(itemId);
        delete _offers[itemId];
        _items[itemId] = _offerEnded(word);
        emit OfferCancelled(itemId, actor, receiver);
    }

    /// @dev A declined offer advances the item's nonce, so a signed offer cannot be replayed.
    function _rejectOffer(address actor, bytes32 itemId) private {
        ItemWord word = _items[itemId];
        address receiver = _openOffer(itemId, word);
        if (receiver == address(0)) revert NoPendingOffer(itemId);
        if (receiver != actor) revert NotPendingReceiver(itemId, actor, receiver);
        delete _offers[itemId];
        _items[itemId] = _offerEnded(word);
        emit OfferRejected(itemId, word.custodian(), actor);
    }

    /// @dev An observation advances the nonce: a signed record (or any earlier signature) works once.
    function _record(address actor, bytes32 itemId, ItemWord word, bytes32 bizStep, bytes32 dataHash) private {
        if (!Gs1Text.isBizStep(bizStep)) revert InvalidBizStep(bizStep);
        _items[itemId] = _nextNonce(itemId, word);
        emit ItemObserved(itemId, actor, bizStep, dataHash);
    }

    function _sell(address actor, bytes32 itemId) private {
        ItemWord word = _custodiedItem(actor, itemId);
        if (word.isContainer()) revert NotAnItem(itemId);
        _checkNoOffer(itemId, word);
        _items[itemId] = word.soldAt(block.timestamp);
        emit ItemSold(itemId, actor);
    }

    /// @dev Reverts unless the item exists and `actor` is its custodian; returns its word.
    function _custodian(address actor, bytes32 itemId) private view returns (ItemWord word) {
        word = _items[itemId];
        _checkCustodian(actor, itemId, word);
    }

    /// @dev Reverts unless `word` (of `itemId`) is registered, not packed and held by `actor`.
    function _checkCustodian(address actor, bytes32 itemId, ItemWord word) private view {
        if (!word.isRegistered()) revert UnknownItem(itemId);
        address custodian = word.custodian();
        if (custodian != actor || word.isPacked()) {
            if (word.isPacked()) revert ItemPacked(itemId, _containerAt(word.parent()));
            revert NotCustodian(itemId, actor, custodian);
        }
    }

    /// @dev The receiver of the open offer of `itemId` (whose word is `word`), or address(0).
    function _openOffer(bytes32 itemId, ItemWord word) private view returns (address) {
        uint256 offer_ = _offers[itemId];
        bool open = uint96(offer_ >> 160) == uint96(uint160(word.custodian())) && !word.isPacked();
        return open ? address(uint160(offer_)) : address(0);
    }

    function _checkNoOffer(bytes32 itemId, ItemWord word) private view {
        address pending = _openOffer(itemId, word);
        if (pending != address(0)) revert OfferPending(itemId, pending);
    }

    /// @dev The id of container number `number`.
    function _containerAt(uint32 number) private view returns (bytes32) {
        return _gs1Key(0, bytes32(_containerSsccs[number]));
    }

    /// @dev The container a packed `word` is in and the custodian of its outermost container
    /// (at most {ItemWordLibrary.MAX_LEVEL} reads: each container's level exceeds its contents').
    function _outermost(ItemWord word) private view returns (bytes32 container, address custodian) {
        container = _containerAt(word.parent());
        ItemWord outer = _items[container];
        while (outer.isPacked()) {
            outer = _items[_containerAt(outer.parent())];
        }
        custodian = outer.custodian();
    }

    /// @dev As `_custodian`, and the item must be neither sold nor claimed.
    function _custodiedItem(address actor, bytes32 itemId) private view returns (ItemWord word) {
        word = _custodian(actor, itemId);
        if (!word.isActive()) _refuseInactive(itemId, word);
    }

    /// @dev Reverts with why the item cannot move: claimed or sold.
    function _refuseInactive(bytes32 itemId, ItemWord word) private pure {
        if (word.isClaimed()) revert ItemAlreadyClaimed(itemId);
        revert ItemAlreadySold(itemId);
    }

    /// @dev Emits `ContainerPacked` or `ContainerUnpacked` (`topic0`) for the caller: the ABI
    /// encoding of `contents` is copied from calldata in one go (the events' gas is per item).
    function _emitContents(bytes32 topic0, bytes32 containerId, bytes32[] calldata contents) private {
        assembly ("memory-safe") {
            let m := mload(0x40)
            let size := shl(5, contents.length)
            mstore(m, 0x20)
            mstore(add(m, 0x20), contents.length)
            calldatacopy(add(m, 0x40), contents.offset, size)
            log3(m, add(0x40, size), topic0, containerId, caller())
        }
    }

    /// @dev The storage slot of the `_items` mapping (for the packing loops).
    function _itemsSlot() private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            slot := _items.slot
        }
    }

    /// @dev Why `id` (word `word`) cannot be packed by the caller; always reverts.
    function _refusePacking(bytes32 id, ItemWord word) private view {
        _checkCustodian(msg.sender, id, word);
        _refuseInactive(id, word);
    }

    /// @dev Checks a container or nonce-exhausted word about to be packed into `containerId`;
    /// returns the container level needed so far.
    function _packedInner(bytes32 containerId, bytes32 id, ItemWord word, uint8 level) private pure returns (uint8) {
        if (word.isNonceExhausted()) revert CustodyNonceExhausted(id);
        if (id == containerId) revert NotAnItem(id);
        uint8 inner = word.level();
        if (inner >= level) level = inner + 1;
        if (level > ItemWordLibrary.MAX_LEVEL) revert ContainerTooDeep(containerId);
        return level;
    }

    /// @dev The word of the new container `containerId` for SSCC `sscc` (valid, its company prefix
    /// the caller's), numbered next; the caller writes it.
    function _createContainer(bytes32 containerId, uint256 sscc) private returns (ItemWord) {
        if (sscc >= _SSCC_LIMIT || !_hasCheckDigit(sscc, 17)) revert InvalidSscc(sscc);
        // The first 12 of the 16 digits between extension digit and check digit hold the prefix.
        address owner = _prefixOwner((sscc / 1e5) % _GTIN_BODY_LIMIT, _GTIN_BODY_DIGITS);
        if (owner != msg.sender) revert SsccNotOwned(sscc, msg.sender, owner);
        uint32 number = ++_containerCount;
        _containerSsccs[number] = sscc;
        emit ContainerCreated(containerId, sscc, msg.sender);
        return ItemWordLibrary.created(msg.sender, number, block.timestamp);
    }

    /// @dev As `_custodiedItem`, plus a valid receiver and no open offer.
    function _movableItem(address actor, bytes32 itemId, address to) private view returns (ItemWord word) {
        word = _custodiedItem(actor, itemId);
        if (to == address(0) || to == actor) revert InvalidReceiver(to);
        _checkNoOffer(itemId, word);
    }

    /// @dev The word after custody moves to `to`: new custodian, nonce + 1, updatedAt = now.
    function _moved(bytes32 itemId, ItemWord word, address to) private view returns (ItemWord) {
        if (word.isNonceExhausted()) revert CustodyNonceExhausted(itemId);
        return word.movedTo(to, block.timestamp);
    }

    /// @dev The word after an offer ended: nonce + 1, except at the last nonce, where it stays (an
    /// offer is always withdrawable; no offer made at the last nonce can be accepted anyway).
    function _offerEnded(ItemWord word) private pure returns (ItemWord) {
        return word.isNonceExhausted() ? word : word.withNextNonce();
    }

    /// @dev The word after a change that moves nothing: nonce + 1.
    function _nextNonce(bytes32 itemId, ItemWord word) private pure returns (ItemWord) {
        if (word.isNonceExhausted()) revert CustodyNonceExhausted(itemId);
        return word.withNextNonce();
    }

    /// @dev Checks `deadline` and the custodian's signature of `typeHash(item, nonce, deadline)`;
    /// returns the custodian. An unknown item's custodian is address(0), which no signature matches.
    function _signedByCustodian(bytes32 typeHash, bytes32 itemId, uint256 deadline, bytes calldata signature)
        private
        view
        returns (address actor)
    {
        ItemWord word = _items[itemId];
        actor = word.custodian();
        _checkSigned(actor, typeHash, itemId, word, deadline, signature);
    }

    /// @dev As {_signedByCustodian}, for the receiver of the item's open offer.
    function _signedByReceiver(bytes32 typeHash, bytes32 itemId, uint256 deadline, bytes calldata signature)
        private
        view
        returns (address actor)
    {
        ItemWord word = _items[itemId];
        actor = _openOffer(itemId, word);
        if (actor == address(0)) revert NoPendingOffer(itemId);
        _checkSigned(actor, typeHash, itemId, word, deadline, signature);
    }

    function _checkSigned(
        address actor,
        bytes32 typeHash,
        bytes32 itemId,
        ItemWord word,
        uint256 deadline,
        bytes calldata signature
    ) private view {
        _checkDeadline(deadline);
        bytes32 structHash = keccak256(abi.encode(typeHash, itemId, word.custodyNonce(), deadline));
        _checkSignature(actor, _hashTypedDataV4(structHash), signature);
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
    function _checkSignature(address signer, bytes32 digest, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (
            signer.code.length == 0 || !SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature)
        ) revert InvalidSignature(signer);
    }

    /// @dev The word of an existing lot; reverts with `UnknownLot` otherwise.
    function _existingLotWord(uint32 lotId, Lot storage lot) private view returns (LotWord word) {
        word = lot.word;
        if (word.registrar() == address(0)) revert UnknownLot(lotId);
    }

    /// @dev The word of an existing lot the caller may close or recall: its registrar while it
    /// holds REGISTRAR_ROLE, or the admin.
    function _lotWordForAuthority(uint32 lotId, Lot storage lot) private view returns (LotWord word) {
        word = _existingLotWord(lotId, lot);
        address registrar = word.registrar();
        if (msg.sender == registrar && hasRole(REGISTRAR_ROLE, msg.sender)) return word;
        if (hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) return word;
        if (msg.sender == registrar) revert NotRegistrar(msg.sender);
        revert NotLotRegistrar(lotId, msg.sender, registrar);
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
        if (owner == address(0)) owner = _prefixOwner(_gtinBody(gtin), _GTIN_BODY_DIGITS);
    }

    /// @dev The owner of the longest assigned company prefix of at most `maxLength` digits that
    /// starts the 12-digit GTIN body `body`, or address(0).
    function _prefixOwner(uint256 body, uint256 maxLength) private view returns (address owner) {
        uint256 divisor = 10 ** (_GTIN_BODY_DIGITS - maxLength);
        for (uint256 length = maxLength; length >= _MIN_PREFIX_LENGTH; --length) {
            owner = _prefixOwners[(length << 64) | (body / divisor)];
            if (owner != address(0)) return owner;
            divisor *= 10;
        }
    }

    /// @dev Who owns the GTINs of company prefix `prefix` (`length` digits) apart from it: the owner
    /// of the longest shorter prefix that covers it, or address(0).
    function _coveringPrefixOwner(uint256 prefix, uint8 length) private view returns (address) {
        return _prefixOwner(prefix * 10 ** (_GTIN_BODY_DIGITS - length), uint256(length) - 1);
    }

    /// @dev The 12 digits of a GTIN-14 between its indicator digit and its check digit.
    function _gtinBody(uint256 gtin) private pure returns (uint256) {
        return (gtin / 10) % _GTIN_BODY_LIMIT;
    }

    function _prefixKey(uint256 prefix, uint8 length) private pure returns (uint256) {
        if (length < _MIN_PREFIX_LENGTH || length > _GTIN_BODY_DIGITS || prefix >= 10 ** length) {
            revert InvalidCompanyPrefix(prefix, length);
        }
        return (uint256(length) << 64) | prefix;
    }

    function _checkGtin(uint256 gtin) private pure {
        if (gtin >= _GTIN_LIMIT || !_hasCheckDigit(gtin, 13)) revert InvalidGtin(gtin);
    }

    /// @dev GS1 check digit of a nonzero number of `digits` digits plus its check digit: weights
    /// 3,1,3,... from the digit left of the check digit.
    function _hasCheckDigit(uint256 value, uint256 digits) private pure returns (bool) {
        if (value == 0) return false;
        uint256 rest = value / 10;
        uint256 sum;
        for (uint256 i; i < digits; ++i) {
            sum += (rest % 10) * (i % 2 == 0 ? 3 : 1);
            rest /= 10;
        }
        return (10 - (sum % 10)) % 10 == value % 10;
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
