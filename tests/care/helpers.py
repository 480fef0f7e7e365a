"""Doctors and patients for the care tests, made through the API."""

from __future__ import annotations

from typing import Any

from hotline.auth.service import create_user
from tests.agents.test_agents import user_id
from tests.conftest import PASSWORD

API = "/api/v1/care"


async def new_doctor(app: Any, client: Any, username: str) -> dict[str, str]:
    """Another user with the doctor role; its auth header."""
    async with app.state.hotline.unit_of_work() as session:
        await create_user(session, username=username, password=PASSWORD, role="doctor")
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def profile(
    client: Any,
    world: Any,
    uid: int,
    *,
    years: int = 10,
    groups: tuple[str, ...] = ("proactive",),
    **extra: Any,
) -> Any:
    return await client.post(
        f"{API}/doctors",
        json={"user_id": uid, "years_experience": years, "groups": list(groups), **extra},
        headers=world.auth("supervisor"),
    )


async def doctor_with_profile(client: Any, world: Any, **extra: Any) -> int:
    """The world's `doctor`, in the proactive group; its user id."""
    uid = await user_id(client, world, "doctor")
    r = await profile(client, world, uid, **extra)
    assert r.status_code == 201, r.text
    return uid


def patient_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "F0",
        "name": "Lê Văn Hùng",
        "phone": "0903 123 456",
        "age": 45,
        "test_date": "2021-08-10",
        "test_type": "rt_pcr",
        "vaccine_doses": 2,
        "comorbidities": [],
        "ward_code": "00004",
        "address": "Số 3 phố Đội Cấn",
        "national_id": "001085012345",
    }
    body.update(overrides)
    return body


async def register(
    client: Any, world: Any, who: str = "supervisor", **overrides: Any
) -> dict[str, Any]:
    r = await client.post(
        f"{API}/patients", json=patient_body(**overrides), headers=world.auth(who)
    )
    assert r.status_code == 201, r.text
    return r.json()


async def officer_115(app: Any, client: Any) -> dict[str, str]:
    """A unit officer of the 115 unit (`01-115`), username `dieuphoi115`; its auth header."""
    from hotline.directory.service import get_unit_by_code

    async with app.state.hotline.unit_of_work() as session:
        unit = await get_unit_by_code(session, "01-115")
        await create_user(
            session, username="dieuphoi115", password=PASSWORD, role="unit_officer",
            unit_id=unit.id,
        )  # fmt: skip
    r = await client.post(
        "/api/v1/auth/token", data={"username": "dieuphoi115", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def check_in(client: Any, world: Any, patient_id: int, **vitals: Any) -> dict[str, Any]:
    r = await client.post(
        f"{API}/patients/{patient_id}/checkins", json=vitals, headers=world.auth("doctor")
    )
    assert r.status_code == 201, r.text
    return r.json()
