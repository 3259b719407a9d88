"""`supplytrace index`: the registry's events into SQLite or PostgreSQL (the engine is
:mod:`supplytrace.indexer`; this module shows its progress, reorgs and retried node failures)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from supplytrace.cli.options import db_option, network_option
from supplytrace.cli.output import console, err_console, friendly_errors
from supplytrace.core.config import load_settings


@click.command()
@network_option
@db_option
@click.option("--follow", is_flag=True, help="Keep indexing new blocks until stopped (Ctrl-C or SIGTERM).")
@click.option(
    "--confirmations",
    type=click.IntRange(min=0),
    default=None,
    help="Stay this many blocks behind the head (default: 0 on local chains, 12 on Ethereum networks).",
)
@click.option(
    "--reorg-window",
    type=click.IntRange(min=2),
    default=128,
    show_default=True,
    help="Blocks whose hashes are kept to repair a reorganisation; a deeper one stops the indexer.",
)
@click.option("--poll-interval", type=float, default=2.0, show_default=True, help="Seconds between polls.")
@click.option("--reset", is_flag=True, help="Forget this network's index and rebuild it from the deployment.")
@friendly_errors
def index(
    network: str,
    db: str | None,
    follow: bool,
    confirmations: int | None,
    reorg_window: int,
    poll_interval: float,
    reset: bool,
) -> None:
    """Index the registry's events (from its deployment block) into SQLite or PostgreSQL."""
    from supplytrace.chain.ape import rpc_url
    from supplytrace.chain.deployment import check_deployment
    from supplytrace.chain.rpc import Rpc
    from supplytrace.core.deployments import load
    from supplytrace.core.networks import split_choice
    from supplytrace.indexer.job import run_index
    from supplytrace.indexer.run import IndexerConfig

    config = IndexerConfig(
        confirmations=confirmations, reorg_window=reorg_window, poll_interval=poll_interval
    )
    settings = load_settings()
    ecosystem, name, _ = split_choice(network)
    deployment = load(settings.deployments, ecosystem, name)
    rpc = Rpc(rpc_url(network, settings))
    check_deployment(rpc, deployment)
    with _index_progress(follow) as (stop, callbacks):
        done = run_index(
            rpc, deployment, db=db, home=settings.home, follow=follow, reset=reset, config=config,
            stop=stop, **callbacks,
        )  # fmt: skip
    report = done.report
    rate = f"{report.events_per_second:,.0f} events/s"
    console.print(
        f"indexed {report.events:,} events in {report.seconds:.1f} s ({rate}); "
        f"{done.url} is at block {report.checkpoint}"
        + (f"; {len(report.reorgs)} reorg(s) repaired" if report.reorgs else "")
        + (
            f"; {report.fetch.refused_logs:,} log(s) of another contract or block range refused"
            if report.fetch.refused_logs
            else ""
        ),
        soft_wrap=True,
    )


@contextmanager
def _index_progress(follow: bool) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A stop event set by SIGINT / SIGTERM (the chunk being stored is finished first), and the
    callbacks that show the run: a progress bar, reorgs and retried node failures on stderr."""
    import signal
    import threading

    from rich.markup import escape
    from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            seconds = task.elapsed or 0.0
            if seconds <= 0:
                return Text("")
            events = int(task.fields.get("events", 0))
            return Text(f"{task.completed / seconds:,.0f} blocks/s  {events / seconds:,.0f} events/s")

    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(),
        TextColumn("block {task.fields[block]:,} / {task.fields[target]:,}"),
        TextColumn("{task.fields[events]:,} events"), Rate(), TimeElapsedColumn(),
        console=err_console, transient=False,
    )  # fmt: skip
    task = bar.add_task("following" if follow else "indexing", total=None, block=0, target=0, events=0)

    def on_progress(p: Any) -> None:
        done, total = p.block - p.first_block + 1, max(1, p.target - p.first_block + 1)
        bar.update(task, total=total, completed=done, block=p.block, target=p.target, events=p.events)

    def on_reorg(reorg: Any) -> None:
        err_console.print(
            f"reorg: the chain replaced blocks after {reorg.ancestor} (depth {reorg.depth}); "
            f"{reorg.removed_events} events rolled back and indexed again from the new branch."
        )

    def on_error(exc: Exception) -> None:
        err_console.print(
            f"[yellow]warning:[/] the node failed ({escape(str(exc))}); retrying, nothing is skipped."
        )

    stop = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM) if follow else (signal.SIGTERM,)
    previous = {sig: signal.getsignal(sig) for sig in signals}
    for sig in signals:
        signal.signal(sig, lambda _sig, _frame: stop.set())
    try:
        with bar:
            yield stop, {"on_progress": on_progress, "on_reorg": on_reorg, "on_error": on_error}
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
