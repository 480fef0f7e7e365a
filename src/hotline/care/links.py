"""The patient's check-in link: `/cham-soc/{token}`, the token signed with the site's key.

The token names the patient and carries HMAC(secret key, patient id and the patient's link
nonce): nobody can make one for another patient, and a new nonce (`renew_link`) voids the
links given before. Whoever holds the link may send check-ins for that patient and nothing
else: the page shows no name, number or address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.care.access import get_patient_for
from hotline.care.models import CarePatient, CareState
from hotline.errors import NotFound
from hotline.site import site_of

PATH = "/cham-soc/"


def _signature(session: AsyncSession, patient: CarePatient) -> str:
    site = site_of(session)
    if site.secret is None:
        raise RuntimeError("the site has no secret key")
    key = hmac.new(site.secret().encode(), b"care-checkin-link", hashlib.sha256).digest()
    mac = hmac.new(key, f"{patient.id}:{patient.link_nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def token_of(session: AsyncSession, patient: CarePatient) -> str:
    return f"{patient.id}.{_signature(session, patient)}"


def link_of(session: AsyncSession, patient: CarePatient) -> str:
    return PATH + token_of(session, patient)


async def patient_of_token(session: AsyncSession, token: str) -> CarePatient:
    """The followed patient a valid token names; NotFound for anything else."""
    head, _, signature = token.partition(".")
    patient = (
        await session.get(CarePatient, int(head))
        if head.isascii() and head.isdigit() and len(head) < 19
        else None
    )
    if (
        patient is None
        or patient.state != CareState.ACTIVE
        or not hmac.compare_digest(signature.encode(), _signature(session, patient).encode())
    ):
        raise NotFound("Đường dẫn không còn hiệu lực", field="token")
    return patient


async def renew_link(session: AsyncSession, *, actor: Actor, patient_id: int) -> str:
    """A new link for the patient; the old ones stop working."""
    patient = await get_patient_for(session, actor, patient_id)
    patient.link_nonce = secrets.token_hex(8)
    await session.flush()
    return link_of(session, patient)
