"""Home care's pages in words, and their forms on a mistake: comorbidities and eligibility
reasons named in the page's language, the patient's link form and the doctor's check-in form
keeping every answer and naming every mistake at once, next to its field."""

from __future__ import annotations

import re
from datetime import date
from itertools import product

import pytest

from hotline.care.eligibility import SIGN_REASONS, Facts, assess
from hotline.care.pages.reasons import reason_message
from hotline.care.rulesets import ELIGIBILITY
from hotline.messages import Message
from tests.auth.test_auth import _csrf_of
from tests.care.helpers import doctor_with_profile, register

pytestmark = pytest.mark.anyio


async def test_comorbidities_are_named_in_vietnamese_and_in_english(client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(client, world, comorbidities=["copd_lung_disease", "diabetes"])
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        page = await c.get(url)
        shown = re.search(r'<dd id="comorbidities">(.*?)</dd>', page.text)
        assert shown is not None
        assert shown.group(1) == (
            "Bệnh phổi tắc nghẽn mạn tính (COPD) và bệnh phổi khác, Đái tháo đường"
        )
        c.cookies.set("lang", "en")
        page = await c.get(url)
        shown = re.search(r'<dd id="comorbidities">(.*?)</dd>', page.text)
        assert shown is not None and shown.group(1) == "COPD and other lung disease, Diabetes"


async def test_eligibility_reasons_are_shown_in_the_pages_language(client, world, signed_in):
    await doctor_with_profile(client, world)
    patient = await register(
        client, world, age=60, vaccine_doses=0, comorbidities=["diabetes"], spo2=95
    )
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        vi = await c.get(url)
        assert "Chưa tiêm đủ vắc xin và thuộc nhóm nguy cơ" in vi.text
        assert "SpO2 95%, dưới 96%" in vi.text
        c.cookies.set("lang", "en")
        en = await c.get(url)
    reasons = en.text[en.text.index('<ul class="reasons">') :].split("</ul>")[0]
    assert "Not vaccinated and at risk (age, comorbidities or pregnancy)" in reasons
    assert "SpO2 95%" in reasons and "dưới" not in reasons
    assert not re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệịỉĩọỏốồổỗộớờởỡợụủứừửữựỳỷỹỵ]", reasons)


def test_every_eligibility_reason_is_found_for_translation():
    seen = 0
    for rule_set, status, age, doses, sick, spo2, rr, care, signs in product(
        ELIGIBILITY, ("F0", "F1"), (30, 60, None), (0, 1, 2), (False, True), (98, 93), (16, 25),
        (True, False), ((), tuple(SIGN_REASONS), ("unknown_sign",)),
    ):  # fmt: skip
        facts = Facts(
            warning_signs=signs,
            status=status,
            age=age,
            vaccine_doses=doses,
            comorbidities=frozenset({"diabetes"} if sick else ()),
            spo2=spo2,
            respiratory_rate=rr,
            symptoms=frozenset({"cyanosis"} if rr > 20 else ()),
            can_self_care=care,
        )
        for reason in assess(facts, rule_set=rule_set, on=date(2021, 9, 1)).reasons:
            found = reason_message(str(reason.message))
            assert isinstance(found, Message), reason.message
            assert (found.template, found) == (reason.message.template, reason.message)
            seen += 1
    assert seen


async def test_the_link_form_keeps_every_answer_when_shown_again(client, world):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    link = patient["checkin_link"]
    csrf = _csrf_of((await client.get(link)).text)
    answers = {
        "csrf": csrf,
        "spo2": "9x",
        "temperature": "38,5",
        "consciousness": "voice",
        "symptoms": ["fever", "cyanosis"],
    }
    r = await client.post(link, data=answers)
    assert r.status_code == 422
    assert re.search(r'id="spo2-error">Cần nhập một số<', r.text)
    assert 'value="9x" aria-invalid="true" aria-describedby="spo2-error" autofocus>' in r.text
    assert 'name="temperature" maxlength="6" value="38,5">' in r.text
    assert '<option value="voice" selected>' in r.text
    assert 'value="fever" checked>' in r.text and 'value="cyanosis" checked>' in r.text
    assert 'value="sore_throat">' in r.text
    # A form without the session's token keeps them too.
    r = await client.post(link, data={**answers, "csrf": "forged"})
    assert r.status_code == 400 and '<option value="voice" selected>' in r.text
    assert 'value="cyanosis" checked>' in r.text


async def test_the_check_in_form_names_every_mistake_at_once_next_to_its_field(
    client, world, signed_in
):
    await doctor_with_profile(client, world)
    patient = await register(client, world)
    url = f"/care/patients/{patient['id']}"
    async with signed_in("doctor") as c:
        csrf = _csrf_of((await c.get(url)).text)
        r = await c.post(
            f"{url}/checkins",
            data={
                "csrf": csrf,
                "spo2": "120",
                "pulse": "nhanh",
                "temperature": "50",
                "note": "khó thở\x00",
                "symptoms": ["fever"],
            },
        )
    assert r.status_code == 422
    form = r.text[r.text.index('id="checkin-form"') :].split("</form>")[0]
    fields = re.findall(r'<div class="field"><label for="(\w+)">.*?</div>', form, flags=re.DOTALL)
    assert fields == [
        "spo2", "respiratory_rate", "pulse", "temperature", "systolic_bp", "diastolic_bp",
        "consciousness", "note",
    ]  # fmt: skip
    for name, message in (
        ("spo2", "Giá trị ngoài khoảng 50–100"),
        ("pulse", "Cần nhập một số"),
        ("temperature", "Giá trị ngoài khoảng 30.0–44.0"),
        ("note", "Có ký tự NUL (\\x00), không lưu được"),
    ):
        field = re.search(
            rf'<div class="field"><label for="{name}">.*?</div>', r.text, flags=re.DOTALL
        )
        assert field is not None and f'<p class="error" id="{name}-error">{message}' in field.group(
            0
        ), name
    # No paragraph inside a paragraph (the browser would end the field early).
    form = r.text[r.text.index('id="checkin-form"') :].split("</form>")[0]
    assert "<p><label" not in form
    assert r.text.count(" autofocus") == 1
    assert 'value="120" aria-invalid="true" aria-describedby="spo2-error" autofocus>' in r.text
    assert 'value="fever" checked' in r.text
