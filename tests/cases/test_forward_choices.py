"""The case page's forwarding: the ward shown, the suggested units first and ticked."""

from __future__ import annotations

import re

import pytest

from tests.cases.helpers import create
from tests.cases.test_pages import post_action, signed_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.anyio


def _unit_boxes(html: str) -> list[tuple[str, bool]]:
    form = html[html.index('action="/cases/') : html.index('id="forward"')]
    form = form[form.index("<fieldset") :]
    return [
        (value, bool(checked))
        for value, checked in re.findall(
            r'<input type="checkbox" name="unit_id" value="(\d+)"( checked)?>', form
        )
    ]


async def test_the_suggested_unit_comes_first_and_ticked_the_others_by_name(
    client,
    world,
    signed_in,  # noqa: F811
) -> None:
    case = await create(client, world)
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{case['code']}")).text
        assert re.search(r'id="case-place">Phường Ba Đình, [^<]*Hà Nội</dd>', page), page
        assert 'id="case-address">Số 12 ngõ 45 Kim Mã</dd>' in page
        boxes = _unit_boxes(page)
        assert boxes[0] == (str(world.units["ward_a"]), True)
        suggested = page[page.index('id="suggested-units"') : page.index('id="other-units"')]
        assert str(world.units["ward_b"]) not in suggested
        others = page[page.index('id="other-units"') :]
        names = re.findall(r'name="unit_id" value="\d+"> ([^<]+)</label>', others)
        assert "UBND Phường Ngọc Hà" in names and names == sorted(names)
        assert dict(boxes)[str(world.units["ward_b"])] is False

        # A refused forwarding keeps the units that were ticked, not the suggestion.
        r = await post_action(
            c,
            case["code"],
            "forward",
            page,
            unit_id=[str(world.units["ward_b"])],
            deadline_hours="soon",
        )
        assert r.status_code == 422
        boxes = dict(_unit_boxes(r.text))
        assert boxes[str(world.units["ward_b"])] is True
        assert boxes[str(world.units["ward_a"])] is False
