"""What users read when something goes wrong: one exception base, and the sentence (with the fix)
of every custom error the registry can revert with.

Every failure the package expects is a :class:`SupplytraceError` whose message is one sentence
naming the problem and the fix; the command line prints it (a traceback only with
``--verbose``) and exits with its ``exit_code``: 1 for a mistake the user can fix, 2 when the
chain or the node failed (:class:`ChainError`), 3 when the run was interrupted and a rerun
finishes it. A read that finds nothing (an item no brand registered) exits 4, so a script can
tell "not registered" from a typo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from supplytrace.core.text import CSET82_TEXT, ChainText

EXIT_USER = 1
EXIT_CHAIN = 2
EXIT_INTERRUPTED = 3
EXIT_NOT_FOUND = 4


class SupplytraceError(Exception):
    """A failure the user can act on; ``str()`` is one sentence naming the problem and the fix."""

    exit_code = EXIT_USER

    @property
    def message(self) -> str:
        return str(self)


class ChainError(SupplytraceError):
    """The node or the chain failed (unreachable, timed out, answered garbage)."""

    exit_code = EXIT_CHAIN


class InterruptedRunError(SupplytraceError):
    """The run was interrupted; running the same command again finishes the job."""

    exit_code = EXIT_INTERRUPTED


class ContractRevertError(SupplytraceError):
    """The registry refused a call with custom error ``name`` (arguments in ``args``)."""

    def __init__(self, name: str, args: Mapping[str, Any]) -> None:
        self.name = name
        self.arguments = dict(args)
        super().__init__(
            explain_custom_error(name, args) or f"the registry refused the call with {name}({args})."
        )


_Args = Mapping[str, Any]


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)


def _prefix(args: _Args) -> str:
    return f"{int(args['prefix']):0{int(args['length'])}d}"


def _code(value: Any) -> str:
    """A code as the user typed it when its bytes are printable ASCII, else its bytes in hex
    (never a lossy rendering of bytes that are not text)."""
    if isinstance(value, bytes | bytearray):
        text = ChainText.from_word(bytes(value))
        return repr(text.exact) if text.exact is not None else "0x" + text.raw.hex()
    return repr(str(value))


def _cset82() -> str:
    return CSET82_TEXT


def _owned(args: _Args) -> str:
    owner = args["owner"]
    return (
        f"it belongs to {owner}." if owner and int(str(owner), 16) else "ask the admin to assign it to you."
    )


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
    "GtinNotOwned": lambda a: f"GTIN {a['gtin']:014d} is not yours ({a['account']}); " + _owned(a),
    "InvalidLotCode": lambda a: f"lot code {_code(a['lotCode'])} must be 1 to 20 characters: {_cset82()}.",
    "LotAlreadyRegistered": lambda a: (
        f"lot {_code(a['lotCode'])} of GTIN {a['gtin']:014d} already exists (lot id {a['lotId']}); "
        "use it or pick another code."
    ),
    "UnknownLot": lambda a: (
        f"lot {a['lotId']} does not exist; check the lot id (`supplytrace lot show ID` shows a lot)."
    ),
    "NotLotRegistrar": lambda a: (
        f"lot {a['lotId']} belongs to {a['registrar']}, not to {a['account']}; sign with the brand's account."
    ),
    "LotIsRecalled": lambda a: f"lot {a['lotId']} is recalled; register new items into a new lot.",
    "LotIsClosed": lambda a: f"lot {a['lotId']} is closed; register new items into a new lot.",
    "LotNeedsRenewal": lambda a: (
        f"lot {a['lotId']} stopped taking items when its brand lost the registrar role or the lot's GTIN; "
        "the brand holds both again: renew the lot (renewLot), then register again."
    ),
    "InvalidSerial": lambda a: f"serial {_code(a['serial'])} must be 1 to 20 characters: {_cset82()}.",
    "InvalidBizStep": lambda a: (
        f"business step {_code(a['bizStep'])} must be 1 to 32 characters of printable ASCII without spaces "
        "(for example 'inspecting')."
    ),
    "EmptyBrandName": lambda a: (
        f"the verified name of {a['brand']} cannot be empty; to withdraw a name, use unnameBrand."
    ),
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
        f"the signature is not {a['signer']}'s for this step (wrong signer, item or receiver, or a "
        "signature already used: the item changed since); ask its signer to sign again."
    ),
    "InvalidCode": lambda a: (
        f"that code does not open item {_hex(a['itemId'])}; check the code inside the pack and try again."
    ),
    "ItemAlreadyClaimed": lambda a: (
        f"item {_hex(a['itemId'])} was already claimed with its hidden code: it was opened by its buyer "
        "and can no longer move."
    ),
    "InvalidCodeRoot": lambda a: (
        f"the hidden codes' root {_hex(a['root'])} is zero or already used; generate new codes for the batch."
    ),
    "EmptyBatch": lambda a: "the batch is empty; give at least one item.",
    "CustodyNonceExhausted": lambda a: (
        f"item {_hex(a['itemId'])} has moved 65,535 times and cannot move again."
    ),
    "InvalidQuantity": lambda a: (
        "a quantity must be a positive whole number of its unit, an item's quantity at least 1, and a "
        "blend needs as many input quantities as input lots; correct the numbers."
    ),
    "QuantityExceeded": lambda a: (
        f"lot {a['lotId']} has {a['stock']} left, less than the {a['requested']} asked for; "
        "register fewer items or draw less from it."
    ),
    "UnitMismatch": lambda a: (
        f"lot {a['lotId']} counts in {_unit(a['unit'])}, not {_unit(a['expected'])}; "
        "blend only lots with a declared quantity in one unit."
    ),
    "OutputExceedsInputs": lambda a: (
        f"the new lot's quantity {a['quantity']} is more than the {a['consumed']} taken from its inputs; "
        "declare at most what went in."
    ),
    "InvalidSscc": lambda a: (
        f"SSCC {a['sscc']:018d} is not valid (18 digits with a GS1 check digit); "
        "copy it from the label again."
    ),
    "SsccNotOwned": lambda a: (
        f"the company prefix of SSCC {a['sscc']:018d} is {_holder(a['owner'])}, not yours ({a['account']}); "
        "build SSCCs from your own prefix, or ask the registry admin to assign it."
    ),
    "ItemPacked": lambda a: (
        f"{_hex(a['id'])} is packed in container {_hex(a['containerId'])}; move the container, "
        "or unpack it first (`supplytrace unpack`)."
    ),
    "NotInContainer": lambda a: f"{_hex(a['id'])} is not packed in container {_hex(a['containerId'])}.",
    "NotAnItem": lambda a: f"{_hex(a['id'])} is a container; sell, claim or pack the items in it instead.",
    "ContainerTooDeep": lambda a: (
        f"packing into container {_hex(a['containerId'])} would nest containers more than 7 deep."
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


def _holder(owner: Any) -> str:
    return "assigned to nobody" if int(str(owner), 16) == 0 else f"{owner}'s"


def _unit(value: Any) -> str:
    names = {0: "no declared quantity", 1: "units", 2: "grams", 3: "millilitres"}
    return names.get(int(value), f"unit {value}")


def explain_custom_error(name: str, args: Mapping[str, Any]) -> str | None:
    """The sentence for the registry's custom error ``name`` with its decoded ``args`` (by
    parameter name), or None if it is not one of the registry's errors."""
    render = _SENTENCES.get(name)
    if render is None:
        return None
    return render(
        {key: str(value.address) if hasattr(value, "address") else value for key, value in args.items()}
    )


def known_errors() -> frozenset[str]:
    """The custom errors that have a sentence (a test checks the compiled ABI's are all here)."""
    return frozenset(_SENTENCES)


def explain(exc: BaseException) -> str | None:
    """A plain sentence for ``exc`` when it is a known failure raised outside the package: a
    custom error decoded by a library (``exc.inputs`` by parameter name, as ape's
    ``ContractLogicError`` carries them), too little ether, an unreachable node. None otherwise."""
    inputs = getattr(exc, "inputs", None)
    if isinstance(inputs, Mapping):
        sentence = explain_custom_error(type(exc).__name__, inputs)
        if sentence:
            return sentence
    lowered = str(exc).lower()
    if "insufficient funds" in lowered or "meets or exceeds account balance" in lowered:
        return "the sending account has too little ether for gas; fund it (a faucet on testnets) and retry."
    if "connection refused" in lowered or "could not connect" in lowered or "max retries exceeded" in lowered:
        return "the node is not reachable; start the devnet (`supplytrace devnet up`) or check the RPC URL."
    return None
