"""Turn contract custom errors and common failures into one plain sentence with the fix."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from supplytrace.ids import decode_code

_Args = Mapping[str, Any]


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)


def _prefix(args: Mapping[str, Any]) -> str:
    return f"{int(args['prefix']):0{int(args['length'])}d}"


def _code(value: Any) -> str:
    try:
        return repr(decode_code(bytes(value)))
    except (TypeError, ValueError, UnicodeDecodeError):
        return _hex(value)


_SENTENCES: dict[str, Callable[[_Args], str]] = {
    "InvalidGtin": lambda a: (
        f"GTIN {a['gtin']:014d} is not valid (wrong check digit or too many digits); "
        "check the number on the pack."
    ),
    "InvalidCompanyPrefix": lambda a: (
        f"company prefix {_prefix(a)} is not a {a['length']}-digit GS1 company prefix (4 to 12 digits)."
    ),
    "GtinAlreadyAssigned": lambda a: (
        f"GTIN {a['gtin']:014d} already belongs to {a['owner']}; release it first if it should move."
    ),
    "GtinNotAssigned": lambda a: (
        f"GTIN {a['gtin']:014d} is not assigned to anyone, so there is nothing to release."
    ),
    "CompanyPrefixAlreadyAssigned": lambda a: (
        f"company prefix {_prefix(a)} already belongs to {a['owner']}; release it first."
    ),
    "CompanyPrefixNotAssigned": lambda a: f"company prefix {_prefix(a)} is not assigned to anyone.",
    "NotRegistrar": lambda a: (
        f"{a['account']} is not a registered brand; ask the registry admin to run `supplytrace brand add`."
    ),
    "GtinNotOwned": lambda a: (
        f"GTIN {a['gtin']:014d} is not yours ({a['account']}); "
        + (f"it belongs to {a['owner']}." if int(a["owner"], 16) else "ask the admin to assign it to you.")
    ),
    "InvalidLotCode": lambda a: f"lot code {_code(a['lotCode'])} must be 1 to 20 characters.",
    "LotAlreadyRegistered": lambda a: (
        f"lot {_code(a['lotCode'])} of GTIN {a['gtin']:014d} already exists (lot id {a['lotId']}); "
        "use it or pick another code."
    ),
    "UnknownLot": lambda a: f"lot {a['lotId']} does not exist; check the lot id (`supplytrace lot list`).",
    "NotLotRegistrar": lambda a: (
        f"lot {a['lotId']} belongs to {a['registrar']}, not to {a['account']}; sign with the brand's account."
    ),
    "LotIsRecalled": lambda a: f"lot {a['lotId']} is recalled; register new items into a new lot.",
    "LotIsClosed": lambda a: f"lot {a['lotId']} is closed; register new items into a new lot.",
    "InvalidSerial": lambda a: f"serial {_code(a['serial'])} must be 1 to 20 characters.",
    "ItemAlreadyRegistered": lambda a: (
        f"item {_hex(a['itemId'])} is already registered; each GTIN + serial can be registered once."
    ),
    "UnknownItem": lambda a: f"item {_hex(a['itemId'])} is not registered; check the GTIN and serial.",
    "NotCustodian": lambda a: (
        f"you ({a['account']}) do not hold item {_hex(a['itemId'])}; {a['custodian']} does. "
        "Sign with the custodian's account."
    ),
    "ItemAlreadySold": lambda a: (
        f"item {_hex(a['itemId'])} was already sold to a customer; it cannot move again."
    ),
    "OfferPending": lambda a: (
        f"item {_hex(a['itemId'])} is already offered to {a['receiver']}; cancel that offer first "
        "(`supplytrace cancel`)."
    ),
    "NoPendingOffer": lambda a: f"item {_hex(a['itemId'])} has no open offer.",
    "NotPendingReceiver": lambda a: (
        f"the offer of item {_hex(a['itemId'])} is to {a['receiver']}, not to you ({a['account']})."
    ),
    "InvalidReceiver": lambda a: (
        f"{a['receiver']} cannot receive custody (the zero address, or the current custodian itself)."
    ),
    "SignatureExpired": lambda a: (
        f"the receiver's signed acceptance expired (deadline {a['deadline']}, now {a['timestamp']}); "
        "ask the receiver to sign again (`supplytrace sign-acceptance`)."
    ),
    "InvalidSignature": lambda a: (
        f"the signature is not {a['receiver']}'s acceptance of this handoff (wrong signer, item, "
        "sender or an already used signature); ask the receiver to sign again."
    ),
    "EmptyBatch": lambda a: "the batch is empty; give at least one item.",
    "CustodyNonceExhausted": lambda a: (
        f"item {_hex(a['itemId'])} has moved 65,535 times and cannot move again."
    ),
    "AccessControlBadConfirmation": lambda a: "only an account can renounce its own role.",
    "AccessControlEnforcedDefaultAdminRules": lambda a: (
        "the admin role moves only by the two-step admin transfer "
        "(beginDefaultAdminTransfer, then acceptDefaultAdminTransfer by the new admin)."
    ),
    "AccessControlEnforcedDefaultAdminDelay": lambda a: (
        f"the admin transfer cannot be completed before {a['schedule']} (the admin delay); try again then."
    ),
    "AccessControlInvalidDefaultAdmin": lambda a: (
        f"{a['defaultAdmin']} cannot become admin: only the pending admin may accept the transfer."
    ),
    "SafeCastOverflowedUintDowncast": lambda a: (
        f"the value {a['value']} is too large (at most {a['bits']} bits); use a smaller number."
    ),
    "StringTooLong": lambda a: "a name given to the contract's EIP-712 domain is too long.",
    "InvalidShortString": lambda a: "a name given to the contract's EIP-712 domain is not a short string.",
    "AccessControlUnauthorizedAccount": lambda a: (
        f"{a['account']} lacks the role this needs (the registry admin's); sign with the admin account."
    ),
}


def explain_custom_error(name: str, inputs: Mapping[str, Any]) -> str | None:
    """The sentence for a decoded custom error, or None if it is not one of ours."""
    render = _SENTENCES.get(name)
    if render is None:
        return None
    normalized = {key: _normalize(value) for key, value in inputs.items()}
    return render(normalized)


def _normalize(value: Any) -> Any:
    if hasattr(value, "address"):
        return str(value.address)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value
    return value


def explain(exc: BaseException) -> str | None:
    """A plain sentence for ``exc`` if it is a known failure (custom error, node down, funds)."""
    name = type(exc).__name__
    inputs = getattr(exc, "inputs", None)
    if isinstance(inputs, Mapping):
        sentence = explain_custom_error(name, inputs)
        if sentence:
            return sentence
    text = str(exc)
    lowered = text.lower()
    if "insufficient funds" in lowered or "meets or exceeds account balance" in lowered:
        return "the sending account has too little ether for gas; fund it (a faucet on testnets) and retry."
    if "connection refused" in lowered or "could not connect" in lowered or "max retries exceeded" in lowered:
        return "the node is not reachable; start the devnet (`supplytrace devnet up`) or check the RPC URL."
    return None
