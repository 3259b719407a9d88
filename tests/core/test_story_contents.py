"""What a container holds after its packings and unpackings (``core.story.contents``, the list a
container's page shows): the set a plain model keeps, in the order first packed since last taken
out, whatever else the history holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from supplytrace.core.events import ContainerPacked, ContainerUnpacked, Logged
from supplytrace.core.story import contents

BOX, OTHER = b"\x0b" * 32, b"\x0c" * 32
IDS = [bytes([n]) * 32 for n in range(1, 9)]
HOLDER = "0x" + "11" * 20


def _log(event: object, n: int) -> Logged:
    return Logged(event, n, 0, "0x" + "00" * 32, "0x" + "00" * 32, 0)  # type: ignore[arg-type]


steps = st.lists(
    st.tuples(st.booleans(), st.sampled_from([BOX, OTHER]), st.lists(st.sampled_from(IDS), max_size=4)),
    max_size=20,
)


@given(steps)
def test_contents__any_packings_and_unpackings__what_a_model_keeps_in_packing_order(
    history: list[tuple[bool, bytes, list[bytes]]],
) -> None:
    model: list[bytes] = []
    logs = []
    for n, (packing, box, ids) in enumerate(history):
        kind = ContainerPacked if packing else ContainerUnpacked
        logs.append(_log(kind(box, HOLDER, tuple(ids)), n))
        if box != BOX:
            continue
        for content in ids:
            if packing and content not in model:
                model.append(content)
            elif not packing and content in model:
                model.remove(content)

    assert contents(BOX, logs) == model


def test_contents__packed_then_one_taken_out__the_rest_in_order() -> None:
    logs = [
        _log(ContainerPacked(BOX, HOLDER, (IDS[0], IDS[1], IDS[2])), 1),
        _log(ContainerUnpacked(BOX, HOLDER, (IDS[1],)), 2),
        _log(ContainerPacked(OTHER, HOLDER, (IDS[1],)), 3),
    ]

    assert contents(BOX, logs) == [IDS[0], IDS[2]]
    assert contents(OTHER, logs) == [IDS[1]]
