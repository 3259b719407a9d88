"""The registry's use cases, in one place: what the command line, the ``ape run`` scripts, the
demo and the benchmarks do with a deployed ProvenanceRegistry.

A :class:`Registry` (in the manner of ApePay's ``StreamManager``) is built from an
:class:`~supplytrace.chain.rpc.Rpc`, the :class:`~supplytrace.core.deployments.Deployment` and the
:class:`~supplytrace.core.config.Settings`; with a :class:`~supplytrace.chain.send.Sender` it can
also write, signing as the Sender's account (:meth:`Registry.acting_as` gives the same registry
for another account). Every use case returns domain values (:class:`~supplytrace.chain.send.Sent`
results, records, ids) and raises a :class:`~supplytrace.core.errors.SupplytraceError` whose
message is one sentence with the fix; the front ends only parse and print.
:func:`supplytrace.service.connect.open_registry` builds one from a network name and an account.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplytrace.chain.gas import BATCH_GAS, chunk_size
from supplytrace.chain.history import ChainHistory, HistorySource, LotItem
from supplytrace.chain.reads import ContainerRecord, RegistryReads
from supplytrace.chain.rpc import Rpc
from supplytrace.chain.send import DEFAULT_MINING_TIMEOUT, Sender, Sent, Signer, WaitEvent
from supplytrace.core.config import Settings
from supplytrace.core.deployments import Deployment
from supplytrace.core.errors import ChainError, ContractRevertError, SupplytraceError
from supplytrace.core.events import LOT_REGISTRATION
from supplytrace.core.explorers import ExplorerLinks
from supplytrace.core.handoff import HandoffRequest
from supplytrace.core.hashing import checksum, keccak
from supplytrace.core.ids import ItemKey, encode_code, normalize_gtin
from supplytrace.core.metadata import metadata_hash, store_metadata
from supplytrace.core.networks import default_admin_delay
from supplytrace.core.quantities import Measure, Quantity
from supplytrace.core.records import REGISTRAR_ROLE, ItemRecord, LotRecord
from supplytrace.service import bulk, claims, containers, handoffs, measured, selection
from supplytrace.service.bulk import RunOptions
from supplytrace.service.deploy import deploy_and_record
from supplytrace.service.handoffs import Acceptance, Acceptances
from supplytrace.service.results import BulkResult, LotChanged, LotCreated, Registered, Revoked
from supplytrace.service.selection import Applies, ItemSelection

if TYPE_CHECKING:  # the batch engine (and biip, which it loads) is imported when a batch runs
    from supplytrace import batch

#: How long a signed acceptance stays valid by default (seconds).
DEFAULT_VALID_FOR = 3600

Items = Sequence[bytes] | ItemSelection


class Registry:
    """The deployed registry ``deployment`` on ``rpc``: its reads and, with ``sender``, its writes."""

    def __init__(
        self,
        rpc: Rpc,
        deployment: Deployment,
        settings: Settings,
        *,
        links: ExplorerLinks | None = None,
        sender: Sender | None = None,
        history: HistorySource | None = None,
    ) -> None:
        self.rpc = rpc
        self.deployment = deployment
        self.settings = settings
        self.address = checksum(deployment.address)
        self.reads = RegistryReads(rpc, self.address)
        self.links = links or ExplorerLinks.for_network(
            deployment.ecosystem, deployment.network, resolver=settings.resolver
        )
        self.sender = sender
        self._history = history

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def deploy(
        cls,
        sender: Sender,
        settings: Settings,
        *,
        ecosystem: str,
        network: str,
        admin: str | None = None,
        admin_delay: int | None = None,
        force: bool = False,
        links: ExplorerLinks | None = None,
    ) -> Registry:
        """Deploy a registry from the packaged artifact with ``admin`` (default: the sender) and
        record it in ``deployments/<ecosystem>-<network>.json``; refused while a record exists
        unless ``force``. ``admin_delay``: seconds an admin transfer waits (default:
        :func:`~supplytrace.core.networks.default_admin_delay`)."""
        record = deploy_and_record(
            sender,
            settings,
            ecosystem=ecosystem,
            network=network,
            admin=selection.address(admin) if admin else sender.address,
            admin_delay=default_admin_delay(network) if admin_delay is None else admin_delay,
            force=force,
        )
        registry = cls(sender.rpc, record, settings, links=links)
        return registry.acting_as(sender.signer, mining_timeout=sender.mining_timeout, on_wait=sender.on_wait)

    def acting_as(
        self,
        signer: Signer,
        *,
        mining_timeout: float | None = None,
        on_wait: Callable[[WaitEvent], None] | None = None,
    ) -> Registry:
        """This registry, writing as ``signer``'s account (its nonces locked under the settings'
        home, ``<home>/locks``, against other processes sending from it)."""
        current = self.sender
        sender = Sender(
            self.rpc,
            signer,
            chain_id=self.deployment.chain_id,
            registry=self.address,
            mining_timeout=mining_timeout or (current.mining_timeout if current else DEFAULT_MINING_TIMEOUT),
            on_wait=on_wait or (current.on_wait if current else None),
            lock_dir=lock_dir(self.settings),
        )
        return Registry(
            self.rpc, self.deployment, self.settings, links=self.links, sender=sender, history=self._history
        )

    @property
    def account(self) -> str:
        """The address this registry writes as."""
        return self._sender.address

    @property
    def _sender(self) -> Sender:
        if self.sender is None:
            raise SupplytraceError(
                "this needs an account to sign with; give --account ALIAS (an ape account)."
            )
        return self.sender

    @property
    def history(self) -> HistorySource:
        """Where history comes from (:func:`supplytrace.service.history.open_history`)."""
        if self._history is None:
            from supplytrace.service.history import open_history

            self._history, _reason = open_history(self.rpc, self.deployment, home=self.settings.home)
        return self._history

    def tx_link(self, tx_hash: str) -> str | None:
        """The explorer page of a transaction (the verification page on a devnet), or None."""
        return self.links.tx(tx_hash)

    @property
    def writer(self) -> Sender:
        """The Sender this registry writes with (for the use cases kept in their own modules);
        without an account, a sentence saying to give one."""
        return self._sender

    def send(self, function: str, *args: Any) -> Sent:
        """Send the registry's ``function`` with ``args`` as the signer; a refusal is the
        registry's sentence (an account that cannot pay hears that first)."""
        return self._send(function, *args)

    def _send(self, function: str, *args: Any) -> Sent:
        sender = self._sender
        try:
            return sender.call(function, *args)
        except ContractRevertError as exc:
            bulk.check_funds(sender)  # an account that cannot pay for any transaction hears that first
            raise selection.with_sscc(self.reads, exc) from None

    # -- brands -----------------------------------------------------------------------------------

    def add_brand(self, brand: str, *, name: str | None = None, gtins: Iterable[str] = ()) -> list[Sent]:
        """Grant ``brand`` the registrar role, publish its verified ``name`` and assign it ``gtins``;
        the role and each GTIN are skipped when already done. Admin only."""
        brand = selection.address(brand)
        gtin14s = [normalize_gtin(g) for g in gtins]  # every GTIN checked before anything is sent
        sent = []
        if not self.reads.has_role(REGISTRAR_ROLE, brand):
            sent.append(self._send("grantRole", REGISTRAR_ROLE, brand))
        if name:
            sent.append(self._send("nameBrand", brand, name))
        for gtin14 in gtin14s:
            owner = self.reads.gtin_owner(int(gtin14))
            if owner is None or checksum(owner) != brand:
                sent.append(self._send("assignGtin", int(gtin14), brand))
        return sent

    def name_brand(self, brand: str, name: str) -> Sent:
        """Publish the verified display name of ``brand``. Admin only."""
        return self._send("nameBrand", selection.address(brand), name)

    def describe(self, description: str) -> Sent:
        """Describe the signing account itself (shown as unverified)."""
        return self._send("describeSelf", description)

    def revoke_brand(self, brand: str) -> Revoked:
        """Revoke ``brand``'s registrar role and close its open lots. Admin only."""
        brand = selection.address(brand)
        revoked = None
        if self.reads.has_role(REGISTRAR_ROLE, brand):
            revoked = self._send("revokeRole", REGISTRAR_ROLE, brand)
        closed = []
        for lot_id in ChainHistory(self.rpc, self.address, self.deployment.block).lots_of(brand):
            record = self.reads.lot(lot_id)
            if record is not None and not record.closed:
                closed.append(LotChanged(lot_id, self._send("closeLot", lot_id)))
        return Revoked(revoked, tuple(closed))

    # -- GTINs and company prefixes (admin) -----------------------------------------------------

    def assign_gtin(self, gtin: str, brand: str) -> Sent:
        return self._send("assignGtin", int(normalize_gtin(gtin)), selection.address(brand))

    def release_gtin(self, gtin: str) -> Sent:
        return self._send("releaseGtin", int(normalize_gtin(gtin)))

    def assign_prefix(self, prefix: str, brand: str) -> Sent:
        """Assign GS1 company prefix ``prefix`` (4-12 digits; leading zeros count) to ``brand``."""
        return self._send("assignCompanyPrefix", *_prefix(prefix), selection.address(brand))

    def release_prefix(self, prefix: str) -> Sent:
        return self._send("releaseCompanyPrefix", *_prefix(prefix))

    # -- lots -----------------------------------------------------------------------------------

    def resolve_lot(self, lot_ref: str | int) -> int:
        """The lot id of ``7`` or ``GTIN:LOTCODE``."""
        text = str(lot_ref).strip()
        if text.isdigit():
            lot_id, count = int(text), self.reads.lot_count()
            if not 0 < lot_id <= count:
                raise SupplytraceError(
                    f"lot {lot_id} does not exist on this registry (it has {count} lot"
                    f"{'' if count == 1 else 's'}); check the lot id, or give GTIN:LOTCODE."
                )
            return lot_id
        gtin_text, sep, code = text.partition(":")
        if not sep:
            raise SupplytraceError(f"{text!r} is not a lot: give a lot id (e.g. 7) or GTIN:LOTCODE.")
        gtin14 = normalize_gtin(gtin_text)
        lot_id = self.reads.lot_id_of(int(gtin14), encode_code(code, "lot code"))
        if lot_id == 0:
            raise SupplytraceError(
                f"GTIN {gtin14} has no lot {code!r}; create it with `supplytrace lot create`."
            )
        return lot_id

    def lot(self, lot_ref: str | int) -> LotRecord:
        """The lot's record (``getLot``)."""
        lot_id = self.resolve_lot(lot_ref)
        record = self.reads.lot(lot_id)
        if record is None:
            raise ChainError(f"lot {lot_id} vanished from the registry while it was read; try again.")
        return record

    def create_lot(self, gtin: str, lot_code: str, metadata: dict[str, Any]) -> LotCreated:
        """Register a lot of ``gtin``: ``metadata`` is hashed canonically (RFC 8785) and kept
        under ``settings.home/metadata`` so the page can serve and prove it."""
        gtin14 = normalize_gtin(gtin)
        word = encode_code(lot_code, "lot code")
        stored = store_metadata(self.settings.home, metadata)
        sent = self._send("registerLot", int(gtin14), word, metadata_hash(metadata))
        lot_ids = [
            getattr(e.event, "lot_id", 0) for e in sent.events if isinstance(e.event, LOT_REGISTRATION)
        ]
        if not lot_ids:
            raise ChainError(
                f"transaction {sent.tx_hash} registered no lot (its receipt holds no lot event); "
                "check the RPC URL and the deployment."
            )
        return LotCreated(lot_ids[0], stored, sent)

    def create_measured_lot(
        self, gtin: str, lot_code: str, metadata: dict[str, Any], measure: Measure
    ) -> measured.MeasuredLot:
        """Register a lot declaring its quantity and each item's (:func:`.measured.create_measured`);
        a rerun finds the lot it made and sends nothing."""
        return measured.create_measured(self, gtin, lot_code, metadata, measure)

    def blend(
        self,
        gtin: str,
        lot_code: str,
        metadata: dict[str, Any],
        inputs: Sequence[measured.Input],
        quantity: Quantity,
        item_quantity: Quantity,
    ) -> measured.MeasuredLot:
        """Register a lot made from the signer's measured lots, drawing each input's quantity
        (:func:`.measured.blend`); a rerun finds the lot it made and sends nothing."""
        return measured.blend(self, gtin, lot_code, metadata, inputs, quantity, item_quantity)

    def close_lot(self, lot_ref: str | int) -> LotChanged:
        """Close a lot to new items. The lot's brand or the admin."""
        lot_id = self.resolve_lot(lot_ref)
        return LotChanged(lot_id, self._send("closeLot", lot_id))

    def recall(self, lot_ref: str | int, reason: str) -> LotChanged:
        """Recall a whole lot, telling consumers what is wrong and what to do. The lot's brand or
        the admin."""
        if not reason.strip():
            raise SupplytraceError("give the recall's reason: what is wrong and what consumers should do.")
        lot_id = self.resolve_lot(lot_ref)
        return LotChanged(lot_id, self._send("recallLot", lot_id, reason))

    def lot_items(self, lot_ref: str | int) -> list[LotItem]:
        """Every item registered into the lot (id and serial), in registration order."""
        return self.history.lot_items(self.resolve_lot(lot_ref))

    def lot_keys(self, lot_ref: str | int) -> tuple[LotRecord, list[ItemKey]]:
        """The lot and the GS1 key of each of its items (for QR codes and labels)."""
        record = self.lot(lot_ref)
        code = record.lot_code.exact
        if code is None:
            raise SupplytraceError(
                f"lot {record.lot_id}'s code {str(record.lot_code)!r} is not printable; "
                "no label can carry it."
            )
        keys = []
        for item in self.history.lot_items(record.lot_id):
            serial = item.serial.exact
            if serial is None:
                raise SupplytraceError(
                    f"an item of lot {record.lot_id} has the serial {str(item.serial)!r}, which GS1 does not "
                    "allow; no label can carry it."
                )
            keys.append(ItemKey.create(record.gtin14, serial, code))
        return record, keys

    # -- registration ---------------------------------------------------------------------------

    def register_item(self, gtin: str, serial: str, lot_code: str) -> Registered:
        """Register one item into the signer's lot ``lot_code`` of ``gtin``."""
        key = ItemKey.create(gtin, serial, lot_code)
        lot_id = self.resolve_lot(f"{key.gtin}:{lot_code}")
        return Registered(key, lot_id, self._send("registerItem", lot_id, encode_code(key.serial)))

    def register_items(
        self, gtin: str, lot_code: str, serials: Sequence[str], *, max_items_per_tx: int | None = None
    ) -> batch.BatchResult:
        """Register ``serials`` into the signer's lot ``lot_code`` of ``gtin`` in gas-sized chunks,
        with every check of a CSV batch (a problem's "line" is the serial's place, from 1)."""
        from supplytrace import batch

        rows = [batch.Row(line=n, gtin=gtin, serial=s, lot=lot_code) for n, s in enumerate(serials, 1)]
        return batch.run_batch(
            batch.plan_batch(rows, source="the list of serials"),
            self._sender,
            resolver=self.settings.resolver,
            reads=self.reads,
            tx_link=self.tx_link,
            from_block=self.deployment.block,
            max_items_per_tx=max_items_per_tx,
        )

    def validate_csv(self, path: str | os.PathLike[str]) -> tuple[batch.Plan, batch.ChainCheck]:
        """Every check of :meth:`register_csv`, nothing sent."""
        from supplytrace import batch

        return batch.validate_csv(path, self._sender, reads=self.reads)

    def register_csv(
        self,
        path: str | os.PathLike[str],
        receipt_path: str | os.PathLike[str] | None = None,
        *,
        max_items_per_tx: int | None = None,
        jsonl: bool = False,
        before_send: Callable[[int, int], None] | None = None,
        on_progress: batch.Progress | None = None,
        on_chunk: Callable[[batch.TxRecord], None] | None = None,
        hidden_codes: bool = False,
    ) -> batch.BatchResult:
        """Register every row of a CSV (see :mod:`supplytrace.batch`); the receipt's links are on
        the configured resolver and this network's explorer. ``hidden_codes``: every item gets a
        secret code (:mod:`supplytrace.batch.hidden`), its trees kept under the settings' home."""
        from supplytrace import batch

        return batch.register_csv(
            path,
            self._sender,
            receipt_path,
            resolver=self.settings.resolver,
            reads=self.reads,
            tx_link=self.tx_link,
            from_block=self.deployment.block,
            max_items_per_tx=max_items_per_tx,
            jsonl=jsonl,
            before_send=before_send,
            on_progress=on_progress,
            on_chunk=on_chunk,
            codes_home=self.settings.home if hidden_codes else None,
        )

    def claim(self, item_id: bytes, code: str) -> claims.Claimed:
        """Claim an item with its hidden code (:func:`supplytrace.service.claims.claim`)."""
        return claims.claim(self, item_id, code)

    # -- items ----------------------------------------------------------------------------------

    def item(self, item_id: bytes) -> ItemRecord:
        """The item's live record (``getItem``); an unregistered id gives status UNKNOWN."""
        return self.reads.item(item_id)

    def container(self, container_id: bytes) -> ContainerRecord:
        """The container's live record (``getContainer``); one never created reads all zero."""
        return self.reads.run(self.reads.container_read(container_id))

    def items(self, item_ids: Sequence[bytes]) -> list[ItemRecord]:
        """The live records of ``item_ids``, in order (``getItem`` calls batched)."""
        return selection.records(self.reads, item_ids)

    def select(self, items: Items, applies: Applies | None = None) -> list[bytes]:
        """The ids of ``items``: those named, and of a selection's lot every item ``applies``
        takes (default: held by the signer)."""
        if not isinstance(items, ItemSelection):
            ids = list(items)
        else:
            ids = selection.named_items(items)
            if items.lot_ref is not None:
                lot_id = self.resolve_lot(items.lot_ref)
                lot_items = [i.item_id for i in self.history.lot_items(lot_id)]
                ids += selection.in_lot(
                    self.reads, lot_id, lot_items, applies or Applies(holder=self.account)
                )
        if not ids:
            raise selection.nothing_named()
        return ids

    # -- custody, in gas-sized chunks (supplytrace.service.bulk) ----------------------------------

    def _bulk(self, items: Items, case: bulk.Custody, run: RunOptions | None) -> BulkResult:
        """Send ``case``'s step for the ``items`` (and lot items it applies to) not yet done."""
        sender = self._sender
        bulk.wait_until_settled(sender)
        named = selection.named_items(items) if isinstance(items, ItemSelection) else list(items)
        lot = None
        if isinstance(items, ItemSelection) and items.lot_ref is not None:
            lot_id = self.resolve_lot(items.lot_ref)
            lot = (lot_id, [i.item_id for i in self.history.lot_items(lot_id)])
        todo, done = bulk.split(self.reads, named, lot, case.applies, case.done)
        return bulk.run(sender, case.step, todo, done=done, options=run)

    def offer(self, items: Items, to: str, *, run: RunOptions | None = None) -> BulkResult:
        """Offer custody of items held by the signer to ``to``; it moves when ``to`` accepts.
        Items the signer has already offered to ``to`` are done."""
        return self._bulk(items, bulk.offering(self.account, selection.address(to)), run)

    def accept(self, items: Items, *, run: RunOptions | None = None) -> BulkResult:
        """Accept offers made to the signer; it becomes the custodian (items it holds are done)."""
        return self._bulk(items, bulk.accepting(self.account), run)

    def reject(self, items: Items, *, run: RunOptions | None = None) -> BulkResult:
        """Decline offers made to the signer (items without an open offer are done)."""
        return self._bulk(items, bulk.rejecting(self.account), run)

    def cancel(self, items: Items, *, run: RunOptions | None = None) -> BulkResult:
        """Withdraw the signer's open offers (items it holds without an open offer are done)."""
        return self._bulk(items, bulk.cancelling(self.account), run)

    # -- containers (GS1 SSCC): packed and unpacked in gas-sized chunks ---------------------------

    def pack(self, sscc: str, contents: Items, *, run: RunOptions | None = None) -> BulkResult:
        """Pack items or containers the signer holds into container ``sscc`` (created by its
        first packing); contents already in it are done (:func:`.containers.pack`)."""
        return containers.pack(self, sscc, contents, run)

    def unpack(
        self, sscc: str, contents: Items | None = None, *, run: RunOptions | None = None
    ) -> BulkResult:
        """Take ``contents`` (default: all) out of container ``sscc``; contents already out are done."""
        return containers.unpack(self, sscc, contents, run)

    # -- signed acceptances: one handoff transaction per part -----------------------------------

    def handoff_request(
        self, items: Items, *, sender: str, valid_for: int = DEFAULT_VALID_FOR
    ) -> HandoffRequest:
        """What the signer (the receiver) signs to accept ``items`` from ``sender`` within
        ``valid_for`` seconds: the items' current custody nonces, this registry and chain."""
        (request,) = handoffs.requests(self, items, sender=sender, valid_for=valid_for, size=0)
        return request

    def sign_acceptance(
        self,
        items: Items,
        *,
        sender: str,
        valid_for: int = DEFAULT_VALID_FOR,
        max_items_per_tx: int | None = None,
    ) -> Acceptances:
        """The signer's signed acceptance of ``items`` from ``sender``, in parts of as many items
        as one handoff transaction takes, signed together (one passphrase); its ``text`` goes to
        ``sender``, who hands the items over with :meth:`handoff`."""
        size = chunk_size(self.rpc, BATCH_GAS["handoffBatch"], max_items_per_tx).items_per_tx
        requests = handoffs.requests(self, items, sender=sender, valid_for=valid_for, size=size)
        return handoffs.sign_all(self._sender.signer, requests)

    def handoff(
        self, acceptance: Acceptances | Acceptance | str, *, run: RunOptions | None = None
    ) -> BulkResult:
        """Hand items over with the receiver's signed acceptance (:class:`Acceptances`, one
        :class:`Acceptance`, their ``st1:`` text, or the file holding it), one transaction per
        part; parts already used (their items are the receiver's now) are done."""
        if isinstance(acceptance, str):
            acceptance = handoffs.read_acceptance(acceptance)
        elif isinstance(acceptance, Acceptance):
            acceptance = Acceptances((acceptance,))
        handoffs.check_handoff(acceptance, sender=self.account, deployment=self.deployment)
        bulk.wait_until_settled(self._sender)
        return handoffs.hand_over(self._sender, acceptance, self.items(acceptance.items), run)

    # -- observations, sale: one transaction per item ---------------------------------------------

    def record(
        self,
        items: Items,
        step: str,
        data_file: str | os.PathLike[str] | None = None,
        *,
        data: bytes | None = None,
        run: RunOptions | None = None,
    ) -> BulkResult:
        """Record the business ``step`` (a CBV word such as ``inspecting``; 1-20 GS1 characters)
        for items the signer holds, with the keccak256 of ``data_file`` (e.g. a report) or of
        ``data``. A rerun of an interrupted run skips what it recorded (:func:`.bulk.record`)."""
        word = encode_code(step, "business step")
        if data_file is not None:
            if not Path(data_file).is_file():
                raise SupplytraceError(
                    f"data file {data_file} does not exist; give the file whose hash to record (--data)."
                )
            data = Path(data_file).read_bytes()
        data_hash = keccak(data) if data is not None else b"\0" * 32
        bulk.wait_until_settled(self._sender)
        ids = self.select(items, Applies(holder=self.account))
        chain_id = self.deployment.chain_id
        return bulk.record(self._sender, self.settings.home, chain_id, ids, word, data_hash, run)

    def sell(self, items: Items, *, run: RunOptions | None = None) -> BulkResult:
        """Mark items the signer holds as sold to an end customer (they never move again); in a
        list of more than one, items already sold are done."""
        return self._bulk(items, bulk.selling(self.account), run)


def lock_dir(settings: Settings) -> Path:
    """Where the accounts' nonce locks live (one file an account): ``<home>/locks``."""
    return settings.home / "locks"


def _prefix(prefix: str) -> tuple[int, int]:
    text = prefix.strip()
    if not (text.isascii() and text.isdigit() and 4 <= len(text) <= 12):
        raise SupplytraceError(
            f"company prefix {prefix!r} must be 4 to 12 digits; give it as GS1 issued it, "
            "leading zeros included."
        )
    return int(text), len(text)
