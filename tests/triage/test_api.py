"""Triage through the API and the CLI, model versions, activation and history retraining."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from functools import partial
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from hotline.auth.service import SYSTEM
from hotline.cli import app as cli
from hotline.triage import service
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio
API = "/api/v1/triage"


async def test_operator_gets_category_confidence_urgency_and_reasons(client, world):
    r = await client.post(
        API, json={"text": "Bố em khó thở, SpO2 91%, môi tím"}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["category"] == "cap_cuu"
    assert body["category_name"] == "Cấp cứu"
    assert 0.5 < body["confidence"] <= 1
    assert body["urgent"] is True
    rules = {x["code"]: x["phrase"] for x in body["reasons"] if x["kind"] == "rule"}
    assert rules["spo2_thap"] == "spo2 91"
    assert rules["kho_tho"] == "kho tho"
    assert body["model_version"] is None  # nothing stored yet: the corpus model stands in


async def test_a_welfare_check_is_urgent_with_its_reason_and_the_citizens_words(client, world):
    text = "Bà ngoại em 84 tuổi sống một mình, từ tối qua gọi ko ai bắt máy, nhờ qua xem giúp"
    r = await client.post(API, json={"text": text}, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["urgent"] is True
    rules = {x["code"]: x for x in body["reasons"] if x["kind"] == "rule"}
    welfare = rules["kiem_tra_an_toan"]
    assert welfare["label"] == "Cần kiểm tra an toàn"
    assert welfare["phrase"] == "ba ngoai, goi khong ai bat may"
    assert welfare["quote"] == "Bà ngoại, gọi ko ai bắt máy"
    r = await client.post(
        API,
        json={"text": "Không liên lạc được với phường, bà ngoại em 84 tuổi muốn hỏi trợ cấp"},
        headers=world.auth("operator"),
    )
    assert not [x for x in r.json()["reasons"] if x["code"] == "kiem_tra_an_toan"]


async def test_calm_question_is_not_urgent(client, world):
    r = await client.post(
        API, json={"text": "cho e hoi lich tiem mui 2 o phuong"}, headers=world.auth("operator")
    )
    assert r.status_code == 200
    assert r.json()["category"] == "tiem_vac_xin"
    assert r.json()["urgent"] is False


@pytest.mark.parametrize("text", ["", "   "])
async def test_empty_text_is_422_naming_the_field(client, world, text):
    r = await client.post(API, json={"text": text}, headers=world.auth("operator"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "text"


async def test_missing_text_is_422_naming_the_field(client, world):
    r = await client.post(API, json={}, headers=world.auth("operator"))
    assert r.status_code == 422
    assert r.json()["field"] == "text"


async def test_triage_needs_a_signed_in_hotline_staff_member(client, world):
    assert (await client.post(API, json={"text": "het gao"})).status_code == 401
    r = await client.post(API, json={"text": "het gao"}, headers=world.auth("officer"))
    assert r.status_code == 403


async def test_suggestions_only_name_active_categories(client, world, app):
    from hotline.directory.models import Category

    async with app.state.hotline.unit_of_work() as session:
        (await session.get(Category, "cap_cuu")).active = False  # type: ignore[union-attr]
    r = await client.post(
        API, json={"text": "ba e kho tho spo2 90"}, headers=world.auth("operator")
    )
    assert r.status_code == 200
    assert r.json()["category"] != "cap_cuu"
    assert r.json()["urgent"] is True  # urgency does not depend on the category list


async def test_train_stores_a_version_with_held_out_metrics_and_first_becomes_active(app):
    async with app.state.hotline.unit_of_work() as session:
        row = await service.train_model(session, actor=SYSTEM)
        assert row.version == 1 and row.active
        assert row.metrics["macro_f1"] > 0.7
        assert row.metrics["urgent"]["recall"] >= 0.95
        assert set(row.metrics["per_category"]) >= {"cap_cuu", "khac"}
        assert row.trained_on["history"] == 0
        assert row.trained_on["corpus"] > 1000 and row.trained_on["held_out"] > 250
    async with app.state.hotline.unit_of_work() as session:
        second = await service.train_model(session, actor=SYSTEM)
        assert second.version == 2 and not second.active
        suggestion = await service.classify(session, actor=SYSTEM, text="het gao roi")
        assert suggestion.model_version == 1


async def test_admin_activates_a_version_and_suggestions_use_it(client, world, app):
    async with app.state.hotline.unit_of_work() as session:
        await service.train_model(session, actor=SYSTEM)
        await service.train_model(session, actor=SYSTEM)
    listed = await client.get(f"{API}/models", headers=world.auth("admin"))
    assert listed.status_code == 200
    assert [(m["version"], m["active"]) for m in listed.json()] == [(2, False), (1, True)]
    assert "macro_f1" in listed.json()[0]["metrics"]
    r = await client.post(f"{API}/models/2/activate", headers=world.auth("admin"))
    assert r.status_code == 200 and r.json()["active"] is True
    r = await client.post(API, json={"text": "nha e het gao"}, headers=world.auth("operator"))
    assert r.json()["model_version"] == 2
    listed = await client.get(f"{API}/models", headers=world.auth("supervisor"))
    assert [(m["version"], m["active"]) for m in listed.json()] == [(2, True), (1, False)]


async def test_operator_cannot_activate_or_list_models(client, world, app):
    async with app.state.hotline.unit_of_work() as session:
        await service.train_model(session, actor=SYSTEM)
    r = await client.post(f"{API}/models/1/activate", headers=world.auth("operator"))
    assert r.status_code == 403
    assert (await client.get(f"{API}/models", headers=world.auth("operator"))).status_code == 403


async def test_activating_an_unknown_version_is_404(client, world):
    r = await client.post(f"{API}/models/99/activate", headers=world.auth("admin"))
    assert r.status_code == 404
    assert r.json()["field"] == "version"


async def test_an_unloadable_stored_model_falls_back_to_the_corpus_model(client, world, app):
    from sqlalchemy import update

    from hotline.triage.models import TriageModel

    async with app.state.hotline.unit_of_work() as session:
        await service.train_model(session, actor=SYSTEM)
        await session.execute(update(TriageModel).values(blob=b"not a model", checksum="0" * 64))
    r = await client.post(API, json={"text": "het gao roi"}, headers=world.auth("operator"))
    assert r.status_code == 200
    assert r.json()["model_version"] is None
    assert r.json()["category"] == "ho_tro_kho_khan"


async def test_only_admins_train(app):
    from hotline.auth.models import Role
    from hotline.auth.service import Actor
    from hotline.errors import NotAllowed

    operator = Actor(user_id=None, username="op", role=Role.OPERATOR)
    async with app.state.hotline.unit_of_work() as session:
        with pytest.raises(NotAllowed):
            await service.train_model(session, actor=operator)


async def test_retraining_learns_from_cases_staff_confirmed(client, world, app):
    h = world.auth("operator")

    async def case(text: str, category: str) -> str:
        body = new_case_body(description=text, category=category)
        r = await client.post("/api/v1/cases", json=body, headers=h)
        assert r.status_code == 201, r.text
        return str(r.json()["code"])

    # confirmed by a category change on the timeline
    changed = await case("Đường ống nước vỡ trước nhà số 7", "ho_tro_kho_khan")
    r = await client.patch(f"/api/v1/cases/{changed}", json={"category": "khac"}, headers=h)
    assert r.status_code == 200, r.text
    # confirmed by resolving it
    resolved = await case("Cho hỏi lịch tiêm mũi 3 ở phường", "tiem_vac_xin")
    assert (await client.post(f"/api/v1/cases/{resolved}/take", headers=h)).status_code == 200
    r = await client.post(
        f"/api/v1/cases/{resolved}/resolve", json={"answer": "Thứ 7 tuần này"}, headers=h
    )
    assert r.status_code == 200, r.text
    # not confirmed: category only as typed at intake, case still new
    await case("Xin hỗ trợ gạo", "ho_tro_kho_khan")

    async with app.state.hotline.unit_of_work() as session:
        from hotline.cases.training import history_examples

        history = await history_examples(session)
        assert sorted((e.text, e.category) for e in history) == [
            ("Cho hỏi lịch tiêm mũi 3 ở phường", "tiem_vac_xin"),
            ("Đường ống nước vỡ trước nhà số 7", "khac"),
        ]
        row = await service.train_model(session, actor=SYSTEM, history=history)
        assert row.trained_on["history"] == 2


def _classify_cli(database_url: str, tmp_path: Any, stdin: str) -> Any:
    env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_VAR_DIR": str(tmp_path / "var")}
    return CliRunner().invoke(cli, ["triage", "classify"], input=stdin, env=env)


async def test_cli_classify_reads_lines_and_writes_json_lines(database_url, tmp_path, app):
    lines = ["ba e kho tho spo2 91", "", "Nhà tôi hết gạo, xin hỗ trợ"]
    result = await anyio.to_thread.run_sync(
        partial(_classify_cli, database_url, tmp_path, "\n".join(lines) + "\n")
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["category"] == "cap_cuu" and out[0]["urgent"] is True
    assert "error" in out[1] and out[1]["category"] is None
    assert out[2]["category"] == "ho_tro_kho_khan" and out[2]["urgent"] is False
    assert "Nhà tôi hết gạo" in result.stdout  # ensure_ascii=False


def _train_cli(database_url: str, tmp_path: Any) -> Any:
    env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_VAR_DIR": str(tmp_path / "var")}
    return CliRunner().invoke(cli, ["triage", "train"], env=env)


async def test_cli_train_stores_a_new_version(database_url, tmp_path, app):
    result = await anyio.to_thread.run_sync(partial(_train_cli, database_url, tmp_path))
    assert result.exit_code == 0, result.output
    async with app.state.hotline.unit_of_work() as session:
        rows = await service.list_models(session, actor=SYSTEM)
        assert [r.version for r in rows] == [1]


def test_cli_classify_answers_each_line_at_once_when_fed_one_at_a_time(tmp_path):
    """A gateway writing one message and waiting gets its answer without closing stdin (the
    output is only held back while more input is already waiting)."""
    env = dict(os.environ, HOTLINE_VAR_DIR=str(tmp_path / "var"), HOTLINE_DATABASE_URL="")
    env.pop("PYTHONUNBUFFERED", None)  # stdout buffered, as in a normal shell
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "triage", "classify"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for text, category in (("ba e kho tho spo2 91", "cap_cuu"), ("hết gạo rồi", None)):
            proc.stdin.write((text + "\n").encode())
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, "no answer while stdin is still open"
            answer = json.loads(proc.stdout.readline())
            assert answer["text"] == text
            assert category is None or answer["category"] == category
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0


class _WritesAFile:
    """A pickle that, once loaded, would create a file: code run by writing the table."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


async def _store_blob(app, blob: bytes) -> None:
    from sqlalchemy import update

    from hotline.triage.models import TriageModel

    async with app.state.hotline.unit_of_work() as session:
        await service.train_model(session, actor=SYSTEM)
        service._LOADED.clear()  # as in another web process that has not loaded it yet
        await session.execute(update(TriageModel).values(blob=blob, checksum="f" * 64))


async def test_a_malicious_model_written_into_the_table_never_runs(client, world, app, tmp_path):
    import io
    import pickle

    import joblib

    from hotline.triage.model import SIGNED_HEADER

    marker = tmp_path / "pwned"
    for blob in (
        pickle.dumps(_WritesAFile(str(marker))),
        SIGNED_HEADER + b"\0" * 32 + pickle.dumps(_WritesAFile(str(marker))),
    ):
        buf = io.BytesIO()
        joblib.dump(_WritesAFile(str(marker)), buf)
        for attempt in (blob, buf.getvalue()):
            await _store_blob(app, attempt)
            r = await client.post(API, json={"text": "het gao roi"}, headers=world.auth("operator"))
            assert r.status_code == 200, r.text
            assert r.json()["model_version"] is None  # the shipped corpus model answered
            assert not marker.exists()


async def test_a_model_signed_under_another_sites_key_or_altered_is_refused(client, world, app):
    from hotline.triage.model import TriageModel

    fitted = service.corpus_model()
    other_site = fitted.to_signed_bytes(b"another site's key")
    ours = fitted.to_signed_bytes(app.state.hotline.site.model_key)
    altered = ours[:-1] + bytes([ours[-1] ^ 1])
    for blob in (other_site, altered):
        await _store_blob(app, blob)
        r = await client.post(API, json={"text": "het gao roi"}, headers=world.auth("operator"))
        assert r.json()["model_version"] is None
    # What train_model stores loads, and is what answers.
    await _store_blob(app, ours)
    r = await client.post(API, json={"text": "het gao roi"}, headers=world.auth("operator"))
    assert r.json()["model_version"] == 1
    assert isinstance(
        TriageModel.from_signed_bytes(ours, app.state.hotline.site.model_key), TriageModel
    )


async def test_a_child_locked_in_while_the_parents_are_in_isolation_is_urgent(client, world):
    text = "Con tôi bị khóa trong nhà, bố mẹ đi cách ly"
    r = await client.post(API, json={"text": text}, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    assert r.json()["urgent"] is True
    codes = {x["code"] for x in r.json()["reasons"] if x["kind"] == "rule"}
    assert "kiem_tra_an_toan" in codes
