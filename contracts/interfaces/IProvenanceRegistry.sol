// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title supplytrace provenance registry
/// @notice Records who made each physical item (by its GS1 key: GTIN-14 + serial), which lot it
/// belongs to, and every handoff of custody from brand to distributor to retailer to consumer.
/// There is no upgrade path: once written, a provenance record cannot be changed by anyone.
/// @dev Identity of an item (see docs/spec/item-id.md and `supplytrace.ids.item_id`):
///   itemId = keccak256(abi.encode(uint256 gtin14, bytes32 serial))
/// where `gtin14` is the GTIN as an integer (leading zeros of the 14-digit form are irrelevant)
/// and `serial` is the ASCII serial (GS1 AI 21) left-aligned and zero-padded.
/// Lots are numbered 1, 2, 3, ... on chain (`lotId`); a lot is one GTIN + one GS1 lot code (AI 10).
///
/// Texts. Serials and lot codes must be 1 to 20 characters of GS1's character set 82
/// (`!"%&'()*+,-./0-9:;<=>?A-Z_a-z`, GS1 General Specifications figure 7.11-1), left-aligned and
/// zero-padded with no NUL inside; business steps 1 to 32 bytes of printable ASCII (0x21-0x7E),
/// left-aligned and zero-padded. Anything else is refused (`InvalidSerial`, `InvalidLotCode`,
/// `InvalidBizStep`), so every text the registry stores is one a label, a URI and a page can show
/// as it is. The check looks at the whole 32-byte word at once, branch-free (SWAR): adding
/// `0x80 - n` to every byte sets a byte's high bit exactly when the byte is >= n (a byte below
/// 0x80 never carries into its neighbour), so one addition tests all 32 bytes against a threshold,
/// and the XOR of the tests against the sorted bounds of the allowed ranges is 1 exactly for the
/// bytes outside them (`contracts/libraries/Gs1Text.sol` has the details and the constants).
///
/// Registration epochs. A lot takes items only while its registrar still holds REGISTRAR_ROLE
/// and still owns the lot's GTIN; registration refuses at once, with no lot to close first.
/// To keep that check to one storage read, each registrar has an epoch, a counter the registry
/// advances whenever the registrar may have lost a right: when REGISTRAR_ROLE is revoked or
/// renounced, and when the admin releases a GTIN or company prefix it held or gives another
/// registrar one of its GTINs (an exact GTIN assignment over its company prefix, or a longer
/// company prefix inside its prefix; the precedence is exact GTIN, then the longest prefix).
/// Each lot records the epoch of its registrar when it was registered; `registerItem(s)` reads
/// the registrar's epoch once per call and refuses a lot whose epoch is behind, naming what is
/// missing (`NotRegistrar`, `GtinNotOwned`) or, if the registrar holds both again (role
/// re-granted, GTIN assigned back), `LotNeedsRenewal`: the registrar then re-validates the lot
/// with `renewLot`, which checks role and ownership now and records the current epoch. An epoch
/// moves for one registrar only: other registrars' lots are unaffected. A change that takes
/// nothing from the registrar (releasing a GTIN it still owns through its company prefix,
/// assigning it a GTIN or prefix inside its own prefix) leaves its epoch alone. The epoch is the
/// registrar's, not the GTIN's: one loss stops all of its open lots, and it renews those whose
/// GTIN it still owns (one `renewLot` each); the price of a single read per registration.
/// Closing and recalling a lot check the role itself: a registrar without REGISTRAR_ROLE may do
/// neither (the admin always may); one that only lost the lot's GTIN may still recall it.
///
/// Quantities. A measured lot (`registerMeasuredLot`, `registerTransformedLot`) declares how much
/// it holds (an integer count of its unit: grams, millilitres or each) and each item's net
/// quantity; the lot keeps its stock, and registering items into it or using it as an input of a
/// transformation draws on the stock, all or nothing (`QuantityExceeded`). A transformation (a
/// blend of harvests) makes a new lot from lots of the caller's, in one unit, and may not make
/// more than it consumed: the mass balance is on chain. Lots of `registerLot` declare nothing.
///
/// Containers. A logistic unit (a case, a pallet) is identified by its GS1 SSCC (AI 00, 18
/// digits); its id is `keccak256(abi.encode(uint256(0), uint256 sscc))` (GTIN 0 names no GTIN,
/// so no item or lot key collides). The custodian packs items or containers it holds into a
/// container (`pack`, creating it on first use: the SSCC's company prefix must be assigned to the
/// caller) and takes them out (`unpack`); each is one write per item. Every custody action works
/// on a container id as on an item id and moves all it holds in one write; a packed item reads as
/// held by its outermost container's custodian and cannot move, be sold or be observed on its own
/// until unpacked. Packing and unpacking advance the nonce of the container and of each item, so
/// signatures made before no longer work; an open offer of a packed item is suspended, and lapses
/// if someone else holds the item when it is unpacked. Containers nest up to 7 levels.
interface IProvenanceRegistry {
    // ------------------------------------------------------------------------------------------
    // Types
    // ------------------------------------------------------------------------------------------

    /// @notice Life-cycle state of an item.
    enum ItemStatus {
        Unknown, // never registered
        Active, // registered, in the supply chain
        Sold, // sold to an end customer; can no longer move
        Claimed // its hidden code was used (the pack was opened by its buyer); can no longer move
    }

    /// @notice The unit a measured lot counts its quantity in (UN/CEFACT Rec. 20: GRM, MLT, H87).
    enum QuantityUnit {
        None, // no declared quantity
        Each,
        Gram,
        Millilitre
    }

    /// @notice Everything the chain knows about an item now, in one read.
    struct ItemRecord {
        ItemStatus status;
        address custodian; // who holds the item now (brand, distributor, retailer, ...)
        address pendingReceiver; // receiver of an open custody offer, or address(0)
        address brand; // the registrar that registered the item (owner of its GTIN)
        uint32 lotId;
        uint256 gtin; // GTIN-14 as an integer
        bytes32 lotCode; // GS1 AI 10, CSET 82 ASCII left-aligned, zero-padded
        bytes32 lotMetadataHash; // keccak256 of the lot's canonical (RFC 8785) metadata JSON
        uint16 custodyNonce; // custody changes so far (moves, ended offers, records); signatures sign it
        uint40 updatedAt; // block timestamp of registration or of the last change of custody or status
        bool recalled;
        uint40 recalledAt; // 0 unless recalled
        bool lotClosed; // no more items can be registered into the lot
        bytes32 container; // the container it is packed in (its custodian is the outermost's), or 0
    }

    /// @notice A container (GS1 SSCC) now; all zero if it was never created.
    struct ContainerRecord {
        uint256 sscc;
        address custodian; // the custodian of its outermost container
        address pendingReceiver;
        bytes32 container; // the container it is packed in, or 0
        uint16 custodyNonce;
        uint40 updatedAt;
        uint8 level; // 1 + the highest level ever packed into it; an item's is 0
    }

    /// @notice A lot: one GTIN, one lot code, one registrar.
    struct LotRecord {
        address registrar;
        uint256 gtin;
        bytes32 lotCode;
        bytes32 metadataHash;
        uint40 recalledAt; // 0 unless recalled
        bool closed; // no more items can be registered into the lot
        QuantityUnit unit; // None: the lot declared no quantity
        uint64 stock; // what is left of its quantity (in `unit`)
        uint32 itemQuantity; // each item's net quantity, drawn from the stock at registration
    }

    // ------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------

    /// @notice The admin published the verified display name of a brand.
    event BrandNamed(address indexed brand, string name);
    /// @notice The admin withdrew the verified display name of a brand: it has none until named again.
    event BrandUnnamed(address indexed brand);
    /// @notice An address described itself (shown as unverified).
    event ParticipantDescribed(address indexed participant, string description);
    /// @notice The admin assigned a GTIN to a registrar; only it may register lots of that GTIN.
    event GtinAssigned(uint256 indexed gtin, address indexed registrar);
    /// @notice The admin released a GTIN assignment.
    event GtinReleased(uint256 indexed gtin, address indexed registrar);
    /// @notice The admin assigned a GS1 company prefix (`length` digits) to a registrar; it owns
    /// every GTIN whose digits after the indicator digit start with the prefix.
    event CompanyPrefixAssigned(uint256 indexed prefix, uint8 length, address indexed registrar);
    /// @notice The admin released a GS1 company prefix assignment.
    event CompanyPrefixReleased(uint256 indexed prefix, uint8 length, address indexed registrar);
    /// @notice A registrar registered a lot.
    event LotRegistered(
        uint32 indexed lotId, uint256 indexed gtin, address indexed registrar, bytes32 lotCode, bytes32 metadataHash
    );
    /// @notice An item was registered into a lot; its first custodian is the lot's registrar.
    event ItemRegistered(bytes32 indexed itemId, uint32 indexed lotId, bytes32 serial);
    /// @notice The custodian offered custody of an item to `to`.
    event CustodyOffered(bytes32 indexed itemId, address indexed from, address indexed to);
    /// @notice The custodian withdrew an open offer.
    event OfferCancelled(bytes32 indexed itemId, address indexed from, address indexed to);
    /// @notice The receiver declined an open offer.
    event OfferRejected(bytes32 indexed itemId, address indexed from, address indexed to);
    /// @notice Custody moved from `from` to `to` with `to`'s consent (accepted offer or signed handoff).
    event CustodyTransferred(bytes32 indexed itemId, address indexed from, address indexed to);
    /// @notice The custodian recorded an observation (a business step, e.g. "inspecting").
    event ItemObserved(bytes32 indexed itemId, address indexed by, bytes32 indexed bizStep, bytes32 dataHash);
    /// @notice The custodian sold the item to an end customer.
    event ItemSold(bytes32 indexed itemId, address indexed seller);
    /// @notice The lot's registrar or the admin closed a lot: no more items can be registered into it.
    event LotClosed(uint32 indexed lotId, address indexed by);
    /// @notice The lot's registrar confirmed it still holds REGISTRAR_ROLE and owns the lot's GTIN:
    /// the lot takes items again (see "Registration epochs" above).
    event LotRenewed(uint32 indexed lotId, address indexed by);
    /// @notice The lot's registrar or the admin recalled a lot; every item of it reads as recalled.
    event LotRecalled(uint32 indexed lotId, address indexed by, string reason);
    /// @notice The lot's registrar committed the hidden codes of the `count` items registered with
    /// this event (same transaction) as the Merkle root `root` (see {claim}).
    event CodesCommitted(uint32 indexed lotId, bytes32 indexed root, uint256 count);
    /// @notice Someone holding the item's hidden code claimed it: the pack was opened by its buyer.
    /// `custodian` held the item then (a retailer, or the seller of a sold item).
    event ItemClaimed(bytes32 indexed itemId, address indexed custodian);
    /// @notice A measured lot declared its quantity (see "Quantities").
    event LotQuantityDeclared(uint32 indexed lotId, uint64 quantity, uint32 itemQuantity, QuantityUnit unit);
    /// @notice Lot `lotId` (registered just before, same transaction) was made from `inputLotIds`,
    /// consuming `inputQuantities` of them; it holds `quantity` (at most their sum) in `unit`.
    event LotTransformed(
        uint32 indexed lotId,
        uint32[] inputLotIds,
        uint64[] inputQuantities,
        uint64 quantity,
        uint32 itemQuantity,
        QuantityUnit unit
    );
    /// @notice Container `containerId` (SSCC `sscc`) was created by its first packing.
    event ContainerCreated(bytes32 indexed containerId, uint256 indexed sscc, address indexed custodian);
    /// @notice `custodian` packed `contents` (items or containers) into `containerId`.
    event ContainerPacked(bytes32 indexed containerId, address indexed custodian, bytes32[] contents);
    /// @notice `custodian` took `contents` out of `containerId`; it now holds each of them.
    event ContainerUnpacked(bytes32 indexed containerId, address indexed custodian, bytes32[] contents);

    // ------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------

    /// @notice `gtin` is not a valid GTIN (more than 14 digits, zero, or a wrong check digit).
    error InvalidGtin(uint256 gtin);
    /// @notice `prefix` is not a `length`-digit GS1 company prefix (lengths 4 to 12).
    error InvalidCompanyPrefix(uint256 prefix, uint8 length);
    /// @notice `gtin` is already assigned to `owner`.
    error GtinAlreadyAssigned(uint256 gtin, address owner);
    /// @notice `gtin` is not assigned to anyone.
    error GtinNotAssigned(uint256 gtin);
    /// @notice The company prefix is already assigned to `owner`.
    error CompanyPrefixAlreadyAssigned(uint256 prefix, uint8 length, address owner);
    /// @notice The company prefix is not assigned to anyone.
    error CompanyPrefixNotAssigned(uint256 prefix, uint8 length);
    /// @notice `account` does not hold the registrar role.
    error NotRegistrar(address account);
    /// @notice `gtin` is owned by `owner` (address(0): by nobody), not by `account`.
    error GtinNotOwned(uint256 gtin, address account, address owner);
    /// @notice A lot code must be 1 to 20 characters of GS1's character set 82, left-aligned,
    /// zero-padded, with no NUL inside.
    error InvalidLotCode(bytes32 lotCode);
    /// @notice This GTIN already has a lot with this code.
    error LotAlreadyRegistered(uint256 gtin, bytes32 lotCode, uint32 lotId);
    /// @notice No lot has this id.
    error UnknownLot(uint32 lotId);
    /// @notice Only the lot's registrar may do this (to close or recall a lot, the admin too).
    error NotLotRegistrar(uint32 lotId, address account, address registrar);
    /// @notice The lot has been recalled.
    error LotIsRecalled(uint32 lotId);
    /// @notice The lot is closed: no more items can be registered into it.
    error LotIsClosed(uint32 lotId);
    /// @notice The lot's registrar lost REGISTRAR_ROLE or the lot's GTIN after the lot was
    /// registered or last renewed, and holds both again: it must renew the lot (`renewLot`)
    /// before registering into it.
    error LotNeedsRenewal(uint32 lotId);
    /// @notice A serial must be 1 to 20 characters of GS1's character set 82, left-aligned,
    /// zero-padded, with no NUL inside.
    error InvalidSerial(bytes32 serial);
    /// @notice A business step must be 1 to 32 bytes of printable ASCII (0x21-0x7E), left-aligned,
    /// zero-padded, with no NUL inside.
    error InvalidBizStep(bytes32 bizStep);
    /// @notice A verified brand name cannot be empty; `unnameBrand` withdraws a name.
    error EmptyBrandName(address brand);
    /// @notice An item with this GS1 key is already registered.
    error ItemAlreadyRegistered(bytes32 itemId);
    /// @notice No item with this id is registered.
    error UnknownItem(bytes32 itemId);
    /// @notice `account` is not the item's custodian (`custodian` is).
    error NotCustodian(bytes32 itemId, address account, address custodian);
    /// @notice The item was sold to an end customer and can no longer move or be sold again.
    error ItemAlreadySold(bytes32 itemId);
    /// @notice An offer to `receiver` is open; cancel it first.
    error OfferPending(bytes32 itemId, address receiver);
    /// @notice The item has no open offer.
    error NoPendingOffer(bytes32 itemId);
    /// @notice The open offer is to `receiver`, not to `account`.
    error NotPendingReceiver(bytes32 itemId, address account, address receiver);
    /// @notice Custody cannot go to address(0) or to the current custodian.
    error InvalidReceiver(address receiver);
    /// @notice The signed acceptance expired at `deadline` (block time is `timestamp`).
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature is not `signer`'s: the receiver's acceptance of a handoff, or the actor's relayed action.
    error InvalidSignature(address signer);
    /// @notice `itemId`'s hidden code (or its proof) is wrong; a wrong code of any kind reads the same.
    error InvalidCode(bytes32 itemId);
    /// @notice The item's hidden code was already claimed: it can no longer move or be claimed.
    error ItemAlreadyClaimed(bytes32 itemId);
    /// @notice A code root must be non-zero and new.
    error InvalidCodeRoot(bytes32 root);
    /// @notice A batch call needs at least one item.
    error EmptyBatch();
    /// @notice The item has changed custody 65,535 times; it cannot move again.
    error CustodyNonceExhausted(bytes32 itemId);
    /// @notice A quantity must be positive, an item quantity at least 1, a unit not None, and a
    /// transformation's inputs and quantities must be non-empty lists of the same length.
    error InvalidQuantity();
    /// @notice Lot `lotId` has `stock` left, less than the `requested` quantity.
    error QuantityExceeded(uint32 lotId, uint256 requested, uint256 stock);
    /// @notice Lot `lotId` declared no quantity (or another unit than the transformation's).
    error UnitMismatch(uint32 lotId, QuantityUnit unit, QuantityUnit expected);
    /// @notice A transformation may not make more (`quantity`) than it consumed (`consumed`).
    error OutputExceedsInputs(uint256 quantity, uint256 consumed);
    /// @notice `sscc` is not an 18-digit SSCC with a valid check digit.
    error InvalidSscc(uint256 sscc);
    /// @notice The company prefix of `sscc` is not assigned to `account` (it is `owner`'s).
    error SsccNotOwned(uint256 sscc, address account, address owner);
    /// @notice `id` is packed in container `containerId`: act on the container, or unpack it.
    error ItemPacked(bytes32 id, bytes32 containerId);
    /// @notice `id` is not packed in container `containerId`.
    error NotInContainer(bytes32 id, bytes32 containerId);
    /// @notice `id` is a container: it cannot be sold, claimed or packed into itself.
    error NotAnItem(bytes32 id);
    /// @notice Packing would nest containers deeper than 7 levels.
    error ContainerTooDeep(bytes32 containerId);

    // ------------------------------------------------------------------------------------------
    // Administration (DEFAULT_ADMIN_ROLE; two-step transfer via AccessControlDefaultAdminRules)
    // ------------------------------------------------------------------------------------------

    /// @notice Role of brands allowed to register lots and items. Granted and revoked by the admin
    /// with `grantRole` / `revokeRole`. Revoking it (or the holder renouncing it) stops the brand
    /// from registering into, closing or recalling its lots at once; granting it again does not
    /// reopen them by itself: the brand renews each lot it still owns (`renewLot`).
    function REGISTRAR_ROLE() external view returns (bytes32);

    /// @notice Publishes the verified display name of `brand`. Admin only.
    /// @dev Reverts with `EmptyBrandName` if `name` is empty. Emits `BrandNamed`.
    function nameBrand(address brand, string calldata name) external;

    /// @notice Withdraws the verified display name of `brand`. Admin only. Emits `BrandUnnamed`.
    function unnameBrand(address brand) external;

    /// @notice Lets any address describe itself; readers show it as unverified.
    function describeSelf(string calldata description) external;

    /// @notice Assigns `gtin` (GTIN-14 as an integer, check digit verified) to `registrar`. Admin only.
    /// @dev Reverts with `GtinAlreadyAssigned` if it is already assigned (to anyone); release it first.
    /// Ownership through a company prefix does not count here: an exact assignment overrides it,
    /// and the prefix's owner's lots stop taking items (see "Registration epochs").
    function assignGtin(uint256 gtin, address registrar) external;

    /// @notice Releases the assignment of `gtin`. Admin only. Its owner's lots stop taking items
    /// at once unless it still owns `gtin` through a company prefix (see "Registration epochs").
    function releaseGtin(uint256 gtin) external;

    /// @notice Assigns a GS1 company prefix of `length` digits (4-12) to `registrar`. Admin only.
    /// @dev The prefix is matched against the 12 digits of the GTIN-14 after the indicator digit.
    /// An exact GTIN assignment takes precedence over a prefix; a longer prefix over a shorter one.
    /// Assigned inside another registrar's shorter prefix, it takes GTINs from that registrar,
    /// whose lots stop taking items (see "Registration epochs").
    function assignCompanyPrefix(uint256 prefix, uint8 length, address registrar) external;

    /// @notice Releases a GS1 company prefix assignment. Admin only. Its owner's lots stop taking
    /// items at once unless a shorter prefix of the same owner covers it.
    function releaseCompanyPrefix(uint256 prefix, uint8 length) external;

    // ------------------------------------------------------------------------------------------
    // Registration (registrars)
    // ------------------------------------------------------------------------------------------

    /// @notice Registers a lot of `gtin` with GS1 lot code `lotCode` and the hash of its metadata.
    /// @dev The caller must hold REGISTRAR_ROLE and own `gtin`; `lotCode` must be a GS1 lot code
    /// (see "Texts"). The lot records the caller's registration epoch. Emits `LotRegistered`.
    /// @return lotId The new lot's id (1, 2, 3, ...).
    function registerLot(uint256 gtin, bytes32 lotCode, bytes32 metadataHash) external returns (uint32 lotId);

    /// @notice As {registerLot}, declaring the lot's `quantity` in `unit` and each item's net
    /// `itemQuantity` (see "Quantities"). Emits `LotRegistered`, then `LotQuantityDeclared`.
    function registerMeasuredLot(
        uint256 gtin,
        bytes32 lotCode,
        bytes32 metadataHash,
        uint64 quantity,
        uint32 itemQuantity,
        QuantityUnit unit
    ) external returns (uint32 lotId);

    /// @notice As {registerLot}, for a lot made from the caller's measured lots `inputLotIds`
    /// (a blend; repeated ids draw twice), consuming `inputQuantities` of each; all share one unit,
    /// which the new lot gets, and `quantity` is at most their sum. Inputs may not be recalled.
    /// Emits `LotRegistered`, then `LotTransformed`.
    function registerTransformedLot(
        uint256 gtin,
        bytes32 lotCode,
        bytes32 metadataHash,
        uint32[] calldata inputLotIds,
        uint64[] calldata inputQuantities,
        uint64 quantity,
        uint32 itemQuantity
    ) external returns (uint32 lotId);

    /// @notice Registers one item with serial `serial` into lot `lotId`; the caller becomes custodian.
    /// @dev The caller must be the lot's registrar and still hold REGISTRAR_ROLE and own the lot's
    /// GTIN (checked through the registration epoch: `NotRegistrar`, `GtinNotOwned` or
    /// `LotNeedsRenewal` otherwise); the lot must be neither recalled nor closed; `serial` must be
    /// a GS1 serial (see "Texts"). Emits `ItemRegistered`.
    /// @return itemId The item's id (see the interface documentation).
    function registerItem(uint32 lotId, bytes32 serial) external returns (bytes32 itemId);

    /// @notice Registers many items into lot `lotId` in one transaction (all or nothing).
    /// @dev Same rules as `registerItem`; emits one `ItemRegistered` per item.
    function registerItems(uint32 lotId, bytes32[] calldata serials) external;

    /// @notice Re-validates lot `lotId` after its registrar got back what it had lost (see
    /// "Registration epochs"): the caller must be the lot's registrar, hold REGISTRAR_ROLE and own
    /// the lot's GTIN now; the lot must be neither recalled nor closed. Renewing a lot that takes
    /// items already changes nothing. Emits `LotRenewed`.
    function renewLot(uint32 lotId) external;

    // ------------------------------------------------------------------------------------------
    // Custody
    // ------------------------------------------------------------------------------------------

    /// @notice Offers custody of `itemId` to `to`; custody moves when `to` accepts.
    function offer(bytes32 itemId, address to) external;

    /// @notice Offers custody of every item in `itemIds` to `to` (a pallet).
    function offerBatch(bytes32[] calldata itemIds, address to) external;

    /// @notice Accepts an open offer made to the caller; the caller becomes custodian.
    function accept(bytes32 itemId) external;

    /// @notice Accepts open offers of every item in `itemIds` made to the caller.
    function acceptBatch(bytes32[] calldata itemIds) external;

    /// @notice Withdraws an open offer. Custodian only.
    function cancelOffer(bytes32 itemId) external;

    /// @notice Withdraws open offers of every item in `itemIds`. Custodian only.
    function cancelOfferBatch(bytes32[] calldata itemIds) external;

    /// @notice Declines an open offer made to the caller.
    function rejectOffer(bytes32 itemId) external;

    /// @notice Declines open offers of every item in `itemIds` made to the caller.
    function rejectOfferBatch(bytes32[] calldata itemIds) external;

    /// @notice Hands custody of `itemId` to `to` in one transaction, carrying `to`'s EIP-712
    /// signature of `Handoff(bytes32 item,uint256 nonce,address from,address to,uint256 deadline)`.
    /// @dev `nonce` is the item's current `custodyNonce`, so a signature works once. ERC-1271
    /// contract wallets are accepted. Emits `CustodyTransferred`.
    function handoff(bytes32 itemId, address to, uint256 deadline, bytes calldata signature) external;

    /// @notice Hands custody of every item in `itemIds` to `to` with one EIP-712 signature of
    /// `HandoffBatch(bytes32[] items,uint256[] nonces,address from,address to,uint256 deadline)`.
    function handoffBatch(bytes32[] calldata itemIds, address to, uint256 deadline, bytes calldata signature)
        external;

    /// @notice Registers `serials` into lot `lotId` (as {registerItems}) and commits their hidden
    /// codes: `codeRoot` is the root of the OpenZeppelin Merkle tree (sorted pairs, double-hashed
    /// leaves) of `keccak256(abi.encode(itemId, code))` over the batch's items, so the chain holds
    /// one word per batch and nothing per item. Emits `CodesCommitted` after the items.
    function registerItemsWithCodes(uint32 lotId, bytes32[] calldata serials, bytes32 codeRoot) external;

    /// @notice Claims `itemId` with its hidden `code` (ASCII, left-aligned, zero-padded) and the
    /// Merkle `proof` of its leaf: the item becomes `Claimed` and can no longer move. Anyone may
    /// send it (the code is the authority; a front-runner gets the same result). Reverts with
    /// `InvalidCode` for a wrong code, a wrong proof, or a code committed for another lot.
    function claim(bytes32 itemId, bytes32 code, bytes32[] calldata proof) external;

    /// @notice The lot a hidden-code root was committed for, or 0.
    function codeRootLot(bytes32 root) external view returns (uint32);

    // Relayed actions. Anyone may send these, carrying the actor's EIP-712 signature (domain
    // "supplytrace", version "1"; ERC-1271 contract wallets and EIP-7702 delegated accounts
    // accepted). The actor is not an argument: it is the item's custodian (offer, cancel, record,
    // sell, handoff) or the receiver of its open offer (accept, reject). `nonce` is the item's
    // `custodyNonce`, which every one of these actions advances (an offer is consumed by its
    // acceptance, rejection or cancellation), so a signature works once. Each emits the action's
    // own event, the same as the direct call's: the transaction's sender is the payer. Types:
    //   Offer(bytes32 item,uint256 nonce,address to,uint256 deadline)
    //   Accept(bytes32 item,uint256 nonce,uint256 deadline)
    //   Reject(bytes32 item,uint256 nonce,uint256 deadline)
    //   Cancel(bytes32 item,uint256 nonce,uint256 deadline)
    //   Record(bytes32 item,uint256 nonce,bytes32 bizStep,bytes32 dataHash,uint256 deadline)
    //   Sell(bytes32 item,uint256 nonce,uint256 deadline)
    //   Handoff(bytes32 item,uint256 nonce,address from,address to,uint256 deadline)  (both sign)

    /// @notice {offer}, signed by the custodian.
    function offerBySig(bytes32 itemId, address to, uint256 deadline, bytes calldata signature) external;

    /// @notice {accept}, signed by the receiver of the open offer.
    function acceptBySig(bytes32 itemId, uint256 deadline, bytes calldata signature) external;

    /// @notice {rejectOffer}, signed by the receiver of the open offer.
    function rejectBySig(bytes32 itemId, uint256 deadline, bytes calldata signature) external;

    /// @notice {cancelOffer}, signed by the custodian.
    function cancelBySig(bytes32 itemId, uint256 deadline, bytes calldata signature) external;

    /// @notice {record}, signed by the custodian.
    function recordBySig(bytes32 itemId, bytes32 bizStep, bytes32 dataHash, uint256 deadline, bytes calldata signature)
        external;

    /// @notice {sell}, signed by the custodian.
    function sellBySig(bytes32 itemId, uint256 deadline, bytes calldata signature) external;

    /// @notice {handoff} sent by anyone: the custodian and `to` both sign the same `Handoff`.
    function handoffBySig(
        bytes32 itemId,
        address to,
        uint256 deadline,
        bytes calldata fromSignature,
        bytes calldata toSignature
    ) external;

    /// @notice Packs `contents` (items or containers the caller holds, none packed, none sold or
    /// claimed) into the container with SSCC `sscc`, creating it on first use (the SSCC's company
    /// prefix must be assigned to the caller; emits `ContainerCreated`). The container must be
    /// held by the caller, not packed itself and have no open offer. Emits `ContainerPacked`.
    /// @return containerId The container's id (see "Containers").
    function pack(uint256 sscc, bytes32[] calldata contents) external returns (bytes32 containerId);

    /// @notice Takes `contents` out of container `containerId` (held by the caller, not packed,
    /// no open offer); the caller holds each of them. Emits `ContainerUnpacked`.
    function unpack(bytes32 containerId, bytes32[] calldata contents) external;

    /// @notice Records an observation (`bizStep`, e.g. "inspecting": 1-32 bytes of printable ASCII,
    /// left-aligned, zero-padded) with the hash of its data, without changing custody. Custodian only.
    /// Advances `custodyNonce`, as every signed action does.
    function record(bytes32 itemId, bytes32 bizStep, bytes32 dataHash) external;

    /// @notice Marks the item sold to an end customer. Custodian only; no open offer.
    function sell(bytes32 itemId) external;

    /// @notice Closes lot `lotId`: no more items can be registered into it (a sealed production
    /// batch). The lot's registrar while it holds REGISTRAR_ROLE (`NotRegistrar` once revoked), or
    /// the admin. Emits `LotClosed`.
    function closeLot(uint32 lotId) external;

    /// @notice Recalls lot `lotId`: every item of it reads as recalled (items can still move, so
    /// they can be returned). The lot's registrar while it holds REGISTRAR_ROLE (`NotRegistrar`
    /// once revoked; it may recall a lot whose GTIN it no longer owns), or the admin.
    function recallLot(uint32 lotId, string calldata reason) external;

    // ------------------------------------------------------------------------------------------
    // Reads
    // ------------------------------------------------------------------------------------------

    /// @notice The item's full current record; `status` is `Unknown` if it was never registered.
    function getItem(bytes32 itemId) external view returns (ItemRecord memory);

    /// @notice The status and lot of each item in `itemIds` (`Unknown` and 0 if not registered), for
    /// checking a whole batch in one call.
    function itemStatuses(bytes32[] calldata itemIds)
        external
        view
        returns (ItemStatus[] memory statuses, uint32[] memory lotIds);

    /// @notice A lot's record. Reverts with `UnknownLot` if there is no such lot.
    function getLot(uint32 lotId) external view returns (LotRecord memory);

    /// @notice True when lot `lotId` is neither recalled nor closed but refuses items because its
    /// registrar lost REGISTRAR_ROLE or a GTIN after the lot was registered or last renewed (see
    /// "Registration epochs"). Reverts with `UnknownLot` if there is no such lot.
    function lotNeedsRenewal(uint32 lotId) external view returns (bool);

    /// @notice A container's record (all zero if it was never created).
    function getContainer(bytes32 containerId) external view returns (ContainerRecord memory);

    /// @notice The id of the container with SSCC `sscc` (whether or not it exists).
    function containerIdOf(uint256 sscc) external pure returns (bytes32);

    /// @notice The id of the lot with `gtin` and `lotCode`, or 0 if there is none.
    function lotIdOf(uint256 gtin, bytes32 lotCode) external view returns (uint32);

    /// @notice Number of lots registered so far (the highest lot id).
    function lotCount() external view returns (uint32);

    /// @notice Who owns `gtin`: its exact assignment, else the longest assigned company prefix, else address(0).
    function gtinOwner(uint256 gtin) external view returns (address);

    /// @notice The item id of a GS1 key (see the interface documentation).
    function itemIdOf(uint256 gtin, bytes32 serial) external pure returns (bytes32);

    /// @notice The EIP-712 digest `to` signs to accept a one-transaction handoff of `itemId`.
    function handoffDigest(bytes32 itemId, address from, address to, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest `to` signs to accept a one-transaction handoff of `itemIds`.
    function handoffBatchDigest(bytes32[] calldata itemIds, address from, address to, uint256 deadline)
        external
        view
        returns (bytes32);
}
