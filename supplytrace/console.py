"""Terminal output shared by the CLI and the demo (rich), and the one error boundary."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from supplytrace.core.errors import SupplytraceError
from supplytrace.errors import explain

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A mistake the user can fix; printed as one sentence, exit code 1."""

    def show(self, file: Any = None) -> None:
        err_console.print(f"[bold red]error:[/] {escape(self.message)}")


def friendly_errors(func: F) -> F:
    """Turn known failures into one plain sentence; a traceback only with --verbose."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            ctx = click.get_current_context(silent=True)
            verbose = bool(ctx and ctx.find_root().params.get("verbose"))
            sentence = _known_message(exc) or explain(exc)
            if verbose or sentence is None:
                if sentence is None:
                    raise
                err_console.print_exception()
            error = UserError(sentence)
            error.exit_code = int(getattr(exc, "exit_code", 1)) if isinstance(exc, SupplytraceError) else 1
            raise error from exc

    return wrapper  # type: ignore[return-value]


def _known_message(exc: BaseException) -> str | None:
    from supplytrace.batch import BatchError
    from supplytrace.chain.devnet import DevnetError
    from supplytrace.core.acceptance import AcceptanceError
    from supplytrace.core.deployments import DeploymentError
    from supplytrace.core.metadata import MetadataError
    from supplytrace.ids import IdentityError
    from supplytrace.indexer.errors import IndexerError
    from supplytrace.session import AccountError

    known = (
        IdentityError,
        MetadataError,
        DeploymentError,
        DevnetError,
        AccountError,
        AcceptanceError,
        BatchError,
        IndexerError,
    )
    if isinstance(exc, (*known, SupplytraceError)):
        return str(exc)
    from supplytrace.chain.ape import explain_ape_error

    return explain_ape_error(exc)


def fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    sys.exit(1)
