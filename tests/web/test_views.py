"""web/views: what a page says, from its inputs alone."""

from __future__ import annotations

from supplytrace.web.views.common import index_state


def test_index_state__index_behind_by_its_confirmations__no_note() -> None:
    # On a network with 12 confirmations the index always stays 12 blocks behind, by design.
    state = index_state(1_000, 988, confirmations=12)
    assert (state.source, state.lag_blocks, state.notes) == ("index", 12, [])


def test_index_state__index_further_behind_than_its_confirmations__says_so() -> None:
    state = index_state(1_000, 900, confirmations=12)
    assert state.lag_blocks == 100 and len(state.notes) == 1
    assert "100 blocks behind" in state.notes[0]


def test_index_state__local_devnet__any_lag_noted() -> None:
    assert len(index_state(10, 9).notes) == 1
    assert index_state(10, 10).notes == []
    assert index_state(10, None).source == "chain"
