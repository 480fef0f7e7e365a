"""Every route that shows staff a citizen's name, number or address logs the read.

The routes come from the app's route table: each one is either in PERSONAL (called here, a
`personal_data_read` row with its purpose must follow) or in NO_PERSONAL with the reason it
shows none. A new route in neither list fails the first test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from hotline.contacts.models import PersonalDataRead
from tests.agents.test_agents import on_shift, user_id
from tests.attachments.test_attachments import make_png
from tests.auth.test_auth import _csrf_of
from tests.calls.test_calls import call_body, record_call_for
from tests.conftest import PASSWORD, new_case_body
from tests.recordings.test_api import recorded_call

pytestmark = pytest.mark.anyio

# (method, path) -> the purpose its read is logged with.
PERSONAL: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/cases/{code}"): "case_detail",
    ("GET", "/api/v1/cases"): "contact_cases",  # with ?contact_id: one citizen's cases
    ("GET", "/api/v1/cases/{code}/attachments/{attachment_id}"): "attachment",
    ("GET", "/api/v1/contacts/lookup"): "lookup_by_phone",
    ("GET", "/api/v1/contacts/{contact_id}"): "contact_card",
    ("POST", "/api/v1/contacts/{contact_id}/merge"): "merge",
    ("GET", "/api/v1/calls"): "call_list",
    ("GET", "/api/v1/calls/{call_id}/context"): "caller_card",
    ("GET", "/api/v1/calls/{call_id}/recording"): "call_recording",
    ("GET", "/api/v1/callbacks"): "callback_list",
    ("POST", "/api/v1/callbacks/{callback_id}/done"): "callback_done",
    ("GET", "/"): "caller_card",  # the board's caller card while its user is on a call
    # The case page shows the reporter (tests/cases/test_pages.py checks its log).
    ("GET", "/cases/{code}"): "case_page",
    # A citizen's messages on Zalo, Messenger, ... (channels/conversations.py).
    ("GET", "/api/v1/conversations"): "conversation_list",
    ("GET", "/api/v1/conversations/{conversation_id}"): "conversation",
    ("GET", "/api/v1/cases/{code}/conversations"): "conversation_list",
    ("GET", "/api/v1/conversations/{conversation_id}/messages/{message_id}/files/{index}"): (
        "conversation_file"
    ),
    ("GET", "/conversations/{conversation_id}/files/{message_id}/{index}"): "conversation_file",
    # Home care: the patient's doctor or a supervisor reading health data.
    ("GET", "/api/v1/care/patients"): "care_patients",
    ("GET", "/api/v1/care/patients/{patient_id}"): "care_patient",
    ("GET", "/api/v1/care/patients/{patient_id}/checkins"): "care_checkins",
    ("POST", "/api/v1/care/patients/{patient_id}/checkins"): "care_checkin",
    ("GET", "/api/v1/care/patients/{patient_id}/fhir"): "care_fhir",
    ("GET", "/api/v1/care/worklist"): "care_worklist",
    # The same in the workspace (tests/channels/test_inbox_pages.py checks their log).
    ("GET", "/console/conversations"): "conversation_list",
    ("GET", "/conversations/{conversation_id}"): "conversation",
    ("GET", "/conversations/{conversation_id}/messages"): "conversation",
    ("GET", "/api/v1/care/consults"): "care_consults",
    ("POST", "/api/v1/care/consults/{consult_id}/take"): "care_consult",
    ("POST", "/api/v1/care/consults/{consult_id}/done"): "care_consult",
    # Home care's pages: the same services (tests/care/test_pages.py checks their logs).
    ("GET", "/care"): "care_worklist",
    ("GET", "/care/worklist"): "care_worklist",
    ("GET", "/care/patients"): "care_patients",
    ("GET", "/care/patients/{patient_id}"): "care_patient",
    ("POST", "/care/patients/{patient_id}/checkins"): "care_checkin",
    ("GET", "/care/alerts"): "care_alerts",
    ("GET", "/care/alerts/list"): "care_alerts",
    # The patient page's follow-up forms: a refused one shows the page again.
    ("POST", "/care/patients/{patient_id}/edit"): "care_patient",
    ("POST", "/care/patients/{patient_id}/end"): "care_patient",
    ("POST", "/care/patients/{patient_id}/reassign"): "care_patient",
    # A follow-up's changes answer with the patient as read_patient shows them.
    ("PATCH", "/api/v1/care/patients/{patient_id}"): "care_patient",
    ("POST", "/api/v1/care/patients/{patient_id}/end"): "care_patient",
    ("POST", "/api/v1/care/patients/{patient_id}/reassign"): "care_patient",
    ("GET", "/api/v1/care/patients/{patient_id}/changes"): "care_changes",
    # Admission requests are health data of the patients they name.
    ("GET", "/api/v1/care/patients/{patient_id}/admissions"): "care_admissions",
    ("GET", "/api/v1/care/facilities/{facility_id}/admissions"): "care_facility_admissions",
}
# Home care's urgent cases (cases/medical.py): every route that can show one's medical text
# and home in full to those in charge of it, and the purpose that read is logged under
# (tests/care/test_urgent_case_list_reads.py calls them; the case's own answers and page:
# tests/care/test_urgent_case_privacy.py). Any other reader gets a neutral line, unlogged.
CARE_CASE_READS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/cases/{code}"): "care_case",
    ("GET", "/cases/{code}"): "care_case",
    ("PATCH", "/api/v1/cases/{code}"): "care_case",
    **{
        ("POST", f"/api/v1/cases/{{code}}/{verb}"): "care_case"
        for verb in (
            *("take", "forward", "accept", "return", "resolve"),
            *("close", "reject", "reopen", "duplicate"),
        )
    },
    ("GET", "/api/v1/cases"): "care_case_list",
    ("GET", "/api/v1/contacts/{contact_id}"): "care_case_list",
    ("GET", "/console/cases"): "care_console",
    ("GET", "/inbox"): "care_unit_inbox",
    ("POST", "/api/v1/cases"): "care_case_similar",  # ?suggest_duplicates=true
    ("POST", "/api/v1/cases/duplicates/suggest"): "care_case_similar",
    ("GET", "/api/v1/cases/{code}/duplicates"): "care_case_similar",
    ("GET", "/api/v1/duplicates/clusters"): "care_case_cluster",
    ("GET", "/dashboard"): "care_case_cluster",
    ("GET", "/api/v1/cases/{code}/events"): "care_case_timeline",
    # The live refresh of the case page's timeline: its notes, reasons and answers.
    ("GET", "/cases/{code}/timeline"): "care_case_timeline",
    ("GET", "/api/v1/cases/{code}/articles"): "care_case_articles",
    # A file on such a case follows its medical text (404 to the neutral reader).
    ("GET", "/api/v1/cases/{code}/attachments/{attachment_id}"): "attachment",
}
# Routes showing cases' content that never show a care case's medical text, and why.
CARE_CASE_NONE: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/duplicates/merge"): "answers the cases' codes only",
    ("POST", "/api/v1/conversations/{conversation_id}/case"): "answers the new case's code",
    ("GET", "/api/v1/events"): (
        "a care case's live edits, answers and file names carry no medical value (timeline.py)"
    ),
}
# Pages read with a session, not a token: their logs are checked by their own tests.
PAGES = {
    ("GET", "/"),
    ("GET", "/cases/{code}"),
    ("GET", "/console/conversations"),
    ("GET", "/conversations/{conversation_id}"),
    ("GET", "/conversations/{conversation_id}/messages"),
    ("GET", "/conversations/{conversation_id}/files/{message_id}/{index}"),
}
CARE_PAGES = {route for route in PERSONAL if route[1].startswith("/care")}

_CASE_CONTENT = "the case itself (description, incident address), no reporter details"
_ECHO = "answers with what the caller just sent, not with anyone else's data"
_STAFF = "staff accounts, not citizens"
_CONFIG = "configuration or reference data"
NO_PERSONAL: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/openapi.json"): _CONFIG,
    ("GET", "/api/v1/docs"): _CONFIG,
    ("GET", "/healthz"): _CONFIG,
    ("GET", "/readyz"): _CONFIG,
    ("GET", "/metrics"): "counts and timings by route template, never a path or a person",
    ("POST", "/api/v1/auth/token"): _STAFF,
    ("GET", "/api/v1/users/me"): _STAFF,
    ("GET", "/api/v1/users"): _STAFF,
    ("POST", "/api/v1/users"): _STAFF,
    ("PUT", "/api/v1/users/{user_id}/sip"): _STAFF,
    ("PUT", "/api/v1/users/{user_id}/skills"): _STAFF,
    ("GET", "/api/v1/callbacks/{callback_id}/attempts"): "when and how the line dialled, no number",
    ("PATCH", "/api/v1/users/{user_id}"): _STAFF,
    ("POST", "/api/v1/users/{user_id}/revoke"): _STAFF,
    ("POST", "/api/v1/users/me/password"): _STAFF,
    ("POST", "/api/v1/auth/logout"): _STAFF,
    ("PUT", "/api/v1/agents/me/status"): _STAFF,
    ("GET", "/api/v1/agents/me"): _STAFF,
    ("GET", "/api/v1/agents"): _STAFF,
    ("GET", "/api/v1/shifts"): _CONFIG,
    ("PUT", "/api/v1/shifts"): _CONFIG,
    ("POST", "/api/v1/shifts/clock/{verb}"): _STAFF,
    ("GET", "/api/v1/roster"): _STAFF,
    ("POST", "/api/v1/roster"): _STAFF,
    ("DELETE", "/api/v1/roster/{entry_id}"): _STAFF,
    ("POST", "/api/v1/roster/copy-week"): _STAFF,
    ("POST", "/api/v1/roster/{entry_id}/swaps"): _STAFF,
    ("PUT", "/api/v1/roster/off-shift"): _STAFF,
    ("POST", "/api/v1/roster/clock-out"): _STAFF,
    ("GET", "/api/v1/swaps"): _STAFF,
    ("POST", "/api/v1/swaps/{swap_id}/{verb}"): _STAFF,
    ("POST", "/api/v1/swaps/{swap_id}/withdraw"): _STAFF,
    ("POST", "/api/v1/swaps/{swap_id}/accept"): _STAFF,
    ("POST", "/api/v1/swaps/{swap_id}/decline"): _STAFF,
    ("GET", "/api/v1/staffing/forecast"): "counts of calls per half-hour, no caller",
    ("POST", "/api/v1/public/volunteers"): _ECHO,
    ("GET", "/api/v1/volunteers"): "volunteers who offered to staff the line, not citizens",
    ("POST", "/api/v1/volunteers/{volunteer_id}/{verb}"): (
        "volunteers who offered to staff the line, not citizens"
    ),
    ("PUT", "/api/v1/volunteers/{volunteer_id}/reserve"): (
        "volunteers who offered to staff the line, not citizens"
    ),
    ("GET", "/api/v1/volunteers/mine"): "the caller's own volunteer offer, not a citizen",
    ("POST", "/api/v1/volunteers/{volunteer_id}/withdraw"): (
        "volunteers who offered to staff the line, not citizens"
    ),
    ("PUT", "/api/v1/volunteers/{volunteer_id}/account"): (
        "volunteers who offered to staff the line, not citizens"
    ),
    ("POST", "/api/v1/public/volunteers/confirm"): "a status, nobody's data",
    ("GET", "/api/v1/staffing/notices"): "surge alerts to staff and volunteers, no caller",
    ("GET", "/api/v1/surge"): "queue figures, no caller",
    ("PUT", "/api/v1/surge"): "queue figures, no caller",
    # The staffing page: the roster, queue figures and volunteers, no caller or citizen.
    ("GET", "/staffing"): "staff, queue figures and volunteers who offered to staff the line",
    ("POST", "/staffing/surge"): "queue figures, no caller",
    ("POST", "/staffing/volunteers/{volunteer_id}/{verb}"): (
        "volunteers who offered to staff the line, not citizens"
    ),
    ("POST", "/staffing/volunteers/{volunteer_id}/withdraw"): (
        "volunteers who offered to staff the line, not citizens"
    ),
    ("POST", "/staffing/volunteers/{volunteer_id}/account"): (
        "volunteers who offered to staff the line, not citizens"
    ),
    ("POST", "/staffing/my-offer/withdraw"): "the signed-in volunteer's own offer",
    ("POST", "/staffing/swaps/{swap_id}/{verb}"): _STAFF,
    ("POST", "/staffing/clock/{verb}"): _STAFF,
    ("POST", "/staffing/roster"): _STAFF,
    ("POST", "/staffing/roster/{entry_id}/remove"): _STAFF,
    ("POST", "/staffing/roster/copy-week"): _STAFF,
    ("POST", "/staffing/roster/copy-last-week"): _STAFF,
    ("POST", "/staffing/roster/{entry_id}/swap"): _STAFF,
    ("POST", "/staffing/leave"): _STAFF,
    ("POST", "/staffing/attendance/{user_id}/end-leave"): _STAFF,
    ("POST", "/staffing/attendance/{user_id}/clock-out"): _STAFF,
    ("POST", "/staffing/shifts/{shift_id}"): _CONFIG,
    ("GET", "/tinh-nguyen"): _ECHO,
    ("POST", "/tinh-nguyen"): _ECHO,
    ("GET", "/tinh-nguyen/da-gui"): "a thank-you page, no one's data",
    ("POST", "/tinh-nguyen/xac-nhan"): _ECHO,
    ("GET", "/tinh-nguyen/da-xac-nhan"): "a thank-you page, no one's data",
    ("POST", "/api/v1/cases/duplicates/suggest"): _CASE_CONTENT,
    ("GET", "/api/v1/cases/{code}/duplicates"): _CASE_CONTENT,
    ("GET", "/api/v1/duplicates/clusters"): _CASE_CONTENT,
    ("POST", "/api/v1/duplicates/merge"): _CASE_CONTENT,
    # Intake: the case the operator just typed in, reporter included (the hot path).
    ("POST", "/api/v1/cases"): _ECHO,
    ("PATCH", "/api/v1/cases/{code}"): _CASE_CONTENT,
    ("GET", "/api/v1/cases/{code}/events"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/take"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/forward"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/accept"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/return"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/resolve"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/close"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/reject"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/reopen"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/duplicate"): _CASE_CONTENT,
    ("POST", "/api/v1/cases/{code}/notes"): _ECHO,
    ("POST", "/api/v1/cases/{code}/attachments"): _ECHO,
    ("POST", "/api/v1/contacts"): _ECHO,
    ("POST", "/api/v1/contacts/{contact_id}/identities"): _ECHO,
    ("GET", "/api/v1/contacts/{contact_id}/reads"): "the log itself: staff ids and purposes",
    ("GET", "/api/v1/categories"): _CONFIG,
    ("PATCH", "/api/v1/categories/{code}"): _CONFIG,
    ("GET", "/api/v1/units"): _CONFIG,
    ("POST", "/api/v1/units"): _CONFIG,
    ("GET", "/api/v1/units/suggest"): _CONFIG,
    ("GET", "/api/v1/places/provinces"): _CONFIG,
    ("GET", "/api/v1/places/wards"): _CONFIG,
    # A call record the line or an operator just sent (its caller is theirs).
    ("POST", "/api/v1/calls"): _ECHO,
    ("PATCH", "/api/v1/calls/{call_id}"): "the call's times and outcome, no caller",
    ("GET", "/api/v1/phone"): _CONFIG,
    ("GET", "/api/v1/phone/changes"): _CONFIG,
    ("PUT", "/api/v1/phone/lines/{number}"): _CONFIG,
    ("PUT", "/api/v1/phone/menus/{name}"): _CONFIG,
    ("PUT", "/api/v1/phone/destinations/{name}"): _CONFIG,
    ("PUT", "/api/v1/phone/queues/{name}"): _CONFIG,
    ("GET", "/api/v1/phone/queues"): _CONFIG,
    ("POST", "/api/v1/phone/queues"): _CONFIG,
    ("GET", "/api/v1/phone/queues/{name}"): _CONFIG,
    ("PUT", "/api/v1/phone/prompts/{name}/text"): _CONFIG,
    ("PUT", "/api/v1/phone/prompts/{name}"): _CONFIG,
    ("DELETE", "/api/v1/phone/prompts/{name}"): _CONFIG,
    ("GET", "/api/v1/reports/summary"): "counts only",
    ("POST", "/api/v1/triage"): "a category for the text sent",
    ("GET", "/api/v1/triage/models"): _CONFIG,
    ("POST", "/api/v1/triage/models/{version}/activate"): _CONFIG,
    ("GET", "/api/v1/admin/changes"): "who changed staff accounts and settings",
    ("POST", "/api/v1/suggestions"): "suggestions for the text sent",
    ("GET", "/api/v1/knowledge/articles"): "public guidance articles",
    ("POST", "/api/v1/knowledge/articles"): "public guidance articles",
    ("GET", "/api/v1/knowledge/articles/{article_id}"): "public guidance articles",
    ("PATCH", "/api/v1/knowledge/articles/{article_id}"): "public guidance articles",
    ("POST", "/api/v1/knowledge/articles/{article_id}/publish"): "public guidance articles",
    ("POST", "/api/v1/knowledge/articles/{article_id}/archive"): "public guidance articles",
    ("GET", "/api/v1/knowledge/articles/{article_id}/revisions"): "public guidance articles",
    ("POST", "/api/v1/knowledge/suggest"): "public guidance articles",
    ("GET", "/api/v1/cases/{code}/articles"): "public guidance articles",
    ("POST", "/api/v1/cases/{code}/articles/{article_id}/used"): "public guidance articles",
    ("GET", "/api/v1/public/faq"): "public guidance articles",
    ("GET", "/api/v1/public/faq/{slug}"): "public guidance articles",
    # The live stream: `call.answered` carries the caller's card, logged by the line when it
    # builds it for the answering operator (test_the_caller_card_pushed_to_an_operator...).
    ("GET", "/api/v1/events"): "case events; the pushed caller card is logged at its source",
    ("GET", "/login"): _STAFF,
    ("GET", "/console/cases"): _CASE_CONTENT,
    ("POST", "/lang"): "sets the pages' language, shows nothing",
    ("GET", "/dashboard"): "counts, staff states and duplicate clusters (case content only)",
    ("GET", "/dashboard/live"): "counts, staff states and callers waiting (counts only)",
    ("GET", "/dashboard/charts"): "counts only",
    ("POST", "/dashboard/merge"): "merges cases and redirects, shows nothing",
    ("GET", "/reports"): "counts only",
    ("GET", "/phan-anh"): _ECHO,
    ("POST", "/phan-anh"): _ECHO,
    ("GET", "/phan-anh/da-gui"): "the sender's own code and secret, once",
    ("GET", "/phan-anh/cong-khai"): "public reports with names, numbers and addresses removed",
    ("GET", "/phan-anh/csrf"): _CONFIG,
    ("GET", "/phan-anh/manifest.webmanifest"): _CONFIG,
    ("GET", "/phan-anh/sw.js"): _CONFIG,
    ("GET", "/favicon.ico"): _CONFIG,
    ("GET", "/phan-anh/{rest:path}"): "a not-found page",
    ("POST", "/phan-anh/{code}/tep"): "adds the holder's own files, shows nothing back",
    ("GET", "/tra-cuu"): _ECHO,
    (
        "POST",
        "/tra-cuu",
    ): "status, the hotline's answer and replies for the secret's holder, no reporter details",
    ("POST", "/login"): _STAFF,
    ("POST", "/logout"): _STAFF,
    ("POST", "/agent-status"): _STAFF,
    ("GET", "/faq"): "public guidance articles",
    ("GET", "/inbox"): _CASE_CONTENT,
    ("GET", "/cases/{code}/timeline"): _CASE_CONTENT,
    # Redirects after the action, or the case page again (logged as GET /cases/{code}).
    ("POST", "/cases/{code}/act/{action}"): "the case page's read, logged as that page's",
    ("POST", "/cases/{code}/merge"): "the case page's read, logged as that page's",
    ("POST", "/cases/{code}/notes"): "the case page's read, logged as that page's",
    ("GET", "/api/v1/channels"): _CONFIG,
    ("POST", "/api/v1/channels"): _CONFIG,
    ("GET", "/api/v1/channels/{channel_id}"): _CONFIG,
    ("PATCH", "/api/v1/channels/{channel_id}"): _CONFIG,
    ("POST", "/api/v1/channels/{channel_id}/disable"): _CONFIG,
    ("POST", "/api/v1/channels/{channel_id}/register-webhook"): _CONFIG,
    ("GET", "/hooks/{channel_id}"): "a provider's handshake, answered to the provider",
    ("POST", "/hooks/{channel_id}"): "a provider's webhook: stores, answers only ok",
    # The web chat widget: a visitor, not staff, reading only their own thread.
    ("OPTIONS", "/chat/{channel_id}/{route}"): "CORS preflight, no data",
    ("POST", "/chat/{channel_id}/session"): "a new visitor token, no one's data",
    ("POST", "/chat/{channel_id}/messages"): _ECHO,
    ("GET", "/chat/{channel_id}/messages"): "the visitor's own thread, to its token's holder",
    ("GET", "/chat/{channel_id}/stream"): "the visitor's own thread, to its token's holder",
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): _ECHO,
    ("POST", "/api/v1/conversations/{conversation_id}/segments"): _ECHO,
    ("POST", "/conversations/{conversation_id}/segments"): _ECHO,
    ("POST", "/tra-cuu/tra-loi"): (
        "the secret's holder's own message, then the tracking page: no reporter details"
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/case"): _CASE_CONTENT,
    ("POST", "/api/v1/conversations/{conversation_id}/link"): (
        "the conversation's ids and status: no name, number or message"
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/close"): (
        "the conversation's ids and status: no name, number or message"
    ),
    # Administration: staff accounts, the directory, model versions, guidance articles.
    ("GET", "/admin"): _STAFF,
    ("GET", "/admin/users"): _STAFF,
    ("POST", "/admin/users"): _STAFF,
    ("GET", "/admin/users/{user_id}"): _STAFF,
    ("POST", "/admin/users/{user_id}/active"): _STAFF,
    ("POST", "/admin/users/{user_id}/password"): _STAFF,
    ("POST", "/admin/users/{user_id}/revoke"): _STAFF,
    ("POST", "/admin/users/{user_id}/sip"): _STAFF,
    ("GET", "/admin/categories"): _CONFIG,
    ("POST", "/admin/categories/{code}"): _CONFIG,
    ("GET", "/admin/units"): _CONFIG,
    ("GET", "/admin/triage"): "model versions and their figures on the held-out corpus",
    ("POST", "/admin/triage/train"): "trains on case texts and categories, shows figures only",
    ("POST", "/admin/triage/{version}/activate"): _CONFIG,
    ("GET", "/admin/knowledge"): "public guidance articles",
    ("POST", "/admin/knowledge"): "public guidance articles",
    ("GET", "/admin/knowledge/{article_id}"): "public guidance articles",
    ("POST", "/admin/knowledge/{article_id}/{verb}"): "public guidance articles",
    ("GET", "/admin/phone"): _CONFIG,
    ("GET", "/admin/phone/new/{kinds}"): _CONFIG,
    ("POST", "/admin/phone/new/{kinds}"): _CONFIG,
    ("GET", "/admin/phone/{kinds}/{key}"): _CONFIG,
    ("POST", "/admin/phone/{kinds}/{key}"): _CONFIG,
    ("POST", "/admin/phone/prompts/{name}/upload"): _CONFIG,
    ("POST", "/admin/phone/prompts/{name}/unupload"): _CONFIG,
    ("GET", "/admin/phone/prompts/{name}/audio"): "a recorded prompt of the phone line",
    ("GET", "/api/v1/care/doctors"): _STAFF,
    ("POST", "/api/v1/care/doctors"): _STAFF,
    ("PUT", "/api/v1/care/doctors/{user_id}"): _STAFF,
    # Registration answers with the person just registered (and their check-in link).
    ("POST", "/api/v1/care/patients"): _ECHO,
    ("POST", "/api/v1/care/consults"): _ECHO,
    ("POST", "/api/v1/care/patients/{patient_id}/link"): "a new check-in link, no personal data",
    ("POST", "/api/v1/care/patients/{patient_id}/admissions"): _ECHO,
    ("POST", "/api/v1/care/admissions/{admission_id}"): "logged: tests/care/test_admissions.py",
    ("GET", "/api/v1/care/facilities"): _CONFIG,
    ("POST", "/api/v1/care/facilities"): _CONFIG,
    ("PATCH", "/api/v1/care/facilities/{facility_id}"): _CONFIG,
    ("GET", "/cham-soc/{token}"): "the link holder's check-in form: no name, number or address",
    ("POST", "/cham-soc/{token}"): "the link holder's check-in form: no name, number or address",
    # Conversations' forms: they redirect, or show the conversation again (logged as its
    # page's read); a reply posted by the page's script answers with the thread (the same).
    ("POST", "/conversations/{conversation_id}/reply"): "the conversation's read, as its page's",
    ("POST", "/conversations/{conversation_id}/case"): "the conversation's read, as its page's",
    ("POST", "/conversations/{conversation_id}/link"): "the conversation's read, as its page's",
    ("POST", "/conversations/{conversation_id}/close"): "the conversation's read, as its page's",
    # Saved replies: texts the hotline wrote, no citizen's data.
    ("GET", "/api/v1/saved-replies"): _CONFIG,
    ("POST", "/api/v1/saved-replies"): _CONFIG,
    ("GET", "/api/v1/saved-replies/{reply_id}"): _CONFIG,
    ("PATCH", "/api/v1/saved-replies/{reply_id}"): _CONFIG,
    ("DELETE", "/api/v1/saved-replies/{reply_id}"): _CONFIG,
    ("GET", "/admin/saved-replies"): _CONFIG,
    ("POST", "/admin/saved-replies"): _CONFIG,
    ("POST", "/admin/saved-replies/{reply_id}"): _CONFIG,
    ("POST", "/admin/saved-replies/{reply_id}/delete"): _CONFIG,
}


def app_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, HEAD aside (it is GET without a body)."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        entries = contexts() if contexts else [route]
        for entry in entries:
            for method in getattr(entry, "methods", None) or ():
                if method != "HEAD":
                    found.add((method, entry.path))
    return found


async def test_every_route_is_known_to_log_personal_reads_or_to_show_none(app):
    routes = app_routes(app)
    assert not PERSONAL.keys() & NO_PERSONAL.keys()
    unknown = routes - PERSONAL.keys() - NO_PERSONAL.keys()
    assert not unknown, f"say whether these show a citizen's data (and log it): {unknown}"
    gone = (PERSONAL.keys() | NO_PERSONAL.keys()) - routes
    assert not gone, f"no longer routes: {gone}"


async def test_every_route_showing_cases_is_known_to_log_a_care_cases_full_read(app):
    """A route showing what cases say either logs a home care urgent case's full reading
    under its purpose, or is listed with the reason it never shows one."""
    routes = app_routes(app)
    case_content = {r for r, why in NO_PERSONAL.items() if why == _CASE_CONTENT}
    unknown = case_content - CARE_CASE_READS.keys() - CARE_CASE_NONE.keys()
    assert not unknown, f"say whether these show a care case's medical text: {unknown}"
    assert not CARE_CASE_READS.keys() & CARE_CASE_NONE.keys()
    gone = (CARE_CASE_READS.keys() | CARE_CASE_NONE.keys()) - routes
    assert not gone, f"no longer routes: {gone}"


@dataclass
class Scene:
    code: str
    contact_id: int
    other_contact_id: int
    call_id: int
    unknown_call_id: int
    callback_id: int
    recorded_call_id: int
    attachment_id: int


async def _scene(app, client, world, settings) -> Scene:
    staff = world.auth("operator")
    recorded_call_id = await recorded_call(app, settings)  # caller 0912345678, a contact
    case = (await client.post("/api/v1/cases", json=new_case_body(), headers=staff)).json()
    png = {"file": ("anh.png", make_png(), "image/png")}
    r = await client.post(f"/api/v1/cases/{case['code']}/attachments", files=png, headers=staff)
    attachment_id = r.json()["id"]
    call = (await record_call_for(client, world, call_body())).json()
    unknown = await client.post(
        "/api/v1/calls",
        json=call_body(
            caller="0987 000 111",
            answered_at=None,
            talk_seconds=0,
            outcome="callback_requested",
        ),
        headers=world.auth("supervisor"),
    )
    callbacks = await client.get("/api/v1/callbacks", headers=world.auth("admin"))
    other = await client.post(
        "/api/v1/contacts",
        json={"name": "Trần Văn Bình", "phones": ["0933 222 111"]},
        headers=staff,
    )
    return Scene(
        code=case["code"],
        contact_id=case["contact_id"],
        other_contact_id=other.json()["id"],
        call_id=call["id"],
        unknown_call_id=unknown.json()["id"],
        callback_id=callbacks.json()[0]["id"],
        recorded_call_id=recorded_call_id,
        attachment_id=attachment_id,
    )


async def _zalo_conversation(app, client, world, code: str) -> dict[str, Any]:
    """A citizen's Zalo conversation, linked to the case `code`."""
    from tests.channels.zalo_helpers import deliver, make_channel, payload

    channel = await make_channel(client, world, "http://127.0.0.1:9")
    assert (await deliver(client, channel, payload("user_send_text"))).status_code == 200
    async with app.state.hotline.unit_of_work() as session:
        from hotline.channels.models import Conversation

        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        found = {"id": conversation.id, "contact_id": conversation.contact_id}
    r = await client.post(
        f"/api/v1/conversations/{found['id']}/link",
        json={"case": code},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200, r.text
    return found


async def _kept_file(app, conversation_id: int) -> int:
    """A photo kept with the conversation's message, as an e-mail's would be."""
    from hotline.attachments.service import keep_file
    from hotline.channels.models import Message

    async with app.state.hotline.unit_of_work() as session:
        message = await session.scalar(
            select(Message).where(Message.conversation_id == conversation_id)
        )
        assert message is not None
        kept = keep_file(session, filename="anh.png", data=make_png())
        message.attachments = [{"kind": "image", "name": "anh.png", "stored": kept.as_json()}]
        return message.id


async def _reads(app, user: int) -> list[PersonalDataRead]:
    async with app.state.hotline.unit_of_work() as session:
        rows = await session.scalars(
            select(PersonalDataRead)
            .where(PersonalDataRead.user_id == user)
            .order_by(PersonalDataRead.id)
        )
        return list(rows.all())


async def _sign_in(client, who: str) -> None:
    page = await client.get("/login")
    r = await client.post(
        "/login", data={"username": who, "password": PASSWORD, "csrf": _csrf_of(page.text)}
    )
    assert r.status_code in (200, 303), r.text


async def test_every_route_showing_a_citizen_logs_the_read(app, client, world, settings):
    from hotline.agents.models import AgentStatus
    from hotline.agents.service import line_update

    s = await _scene(app, client, world, settings)
    caller = "+84912345678"
    unknown = "+84987000111"
    # (method, path template) -> (who, method, url, whose data: contact id or number).
    calls: dict[tuple[str, str], tuple[str, str, str, int | str]] = {
        ("GET", "/api/v1/cases/{code}"): ("officer", "GET", f"/api/v1/cases/{s.code}", 0),
        ("GET", "/api/v1/cases"): (
            "operator",
            "GET",
            f"/api/v1/cases?contact_id={s.contact_id}",
            s.contact_id,
        ),
        ("GET", "/api/v1/cases/{code}/attachments/{attachment_id}"): (
            "operator",
            "GET",
            f"/api/v1/cases/{s.code}/attachments/{s.attachment_id}",
            s.contact_id,
        ),
        ("GET", "/api/v1/contacts/lookup"): (
            "operator",
            "GET",
            "/api/v1/contacts/lookup?phone=0912345678",
            s.contact_id,
        ),
        ("GET", "/api/v1/contacts/{contact_id}"): (
            "operator",
            "GET",
            f"/api/v1/contacts/{s.contact_id}",
            s.contact_id,
        ),
        ("GET", "/api/v1/calls"): ("operator", "GET", "/api/v1/calls", unknown),
        ("GET", "/api/v1/calls/{call_id}/context"): (
            "operator",
            "GET",
            f"/api/v1/calls/{s.call_id}/context",
            s.contact_id,
        ),
        ("GET", "/api/v1/calls/{call_id}/recording"): (
            "supervisor",
            "GET",
            f"/api/v1/calls/{s.recorded_call_id}/recording",
            s.contact_id,
        ),
        ("GET", "/api/v1/callbacks"): ("operator", "GET", "/api/v1/callbacks", unknown),
        ("POST", "/api/v1/callbacks/{callback_id}/done"): (
            "operator",
            "POST",
            f"/api/v1/callbacks/{s.callback_id}/done",
            unknown,
        ),
        # A supervisor: the card's person is followed at home (`_care_calls`), and only
        # supervisors merge such a card (duplicates/contacts.py).
        ("POST", "/api/v1/contacts/{contact_id}/merge"): (
            "supervisor",
            "POST",
            f"/api/v1/contacts/{s.contact_id}/merge",
            s.contact_id,
        ),
    }
    # The officer reads it through its unit's forwarding.
    r = await client.post(
        f"/api/v1/cases/{s.code}/forward",
        json={"unit_id": world.units["ward_a"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    calls[("GET", "/api/v1/cases/{code}")] = (
        *calls[("GET", "/api/v1/cases/{code}")][:3],
        s.contact_id,
    )
    conversation = await _zalo_conversation(app, client, world, s.code)
    calls[("GET", "/api/v1/conversations")] = (
        "operator",
        "GET",
        "/api/v1/conversations",
        conversation["contact_id"],
    )
    calls[("GET", "/api/v1/conversations/{conversation_id}")] = (
        "operator",
        "GET",
        f"/api/v1/conversations/{conversation['id']}",
        conversation["contact_id"],
    )
    calls[("GET", "/api/v1/cases/{code}/conversations")] = (
        "operator",
        "GET",
        f"/api/v1/cases/{s.code}/conversations",
        conversation["contact_id"],
    )
    message_id = await _kept_file(app, conversation["id"])
    calls[
        ("GET", "/api/v1/conversations/{conversation_id}/messages/{message_id}/files/{index}")
    ] = (
        "operator",
        "GET",
        f"/api/v1/conversations/{conversation['id']}/messages/{message_id}/files/0",
        conversation["contact_id"],
    )
    calls.update(await _care_calls(client, world, s))
    assert calls.keys() | PAGES | CARE_PAGES == PERSONAL.keys()
    for route, (who, method, url, whose) in calls.items():
        reader = await user_id(client, world, who)
        before = len(await _reads(app, reader))
        body = {"merge_id": s.other_contact_id} if route[1].endswith("/merge") else None
        if route[1].endswith("/checkins") and method == "POST":
            body = {"spo2": 97}
        if route[1].startswith("/api/v1/care/patients/{patient_id}") and method != "GET":
            body = {
                "PATCH": {"address": "Số 5 Kim Mã"},
                "/reassign": {"doctor_id": await user_id(client, world, "doctor")},
                "/end": {"reason": "recovered"},
            }.get(method if method == "PATCH" else route[1][route[1].rfind("/") :], body)
        r = await client.request(method, url, json=body, headers=world.auth(who))
        assert r.status_code in (200, 201), (route, r.text)
        new = (await _reads(app, reader))[before:]
        assert [row.purpose for row in new if row.purpose == PERSONAL[route]], (route, new)
        subjects = {row.contact_id for row in new} | {row.phone for row in new}
        assert whose in subjects, (route, whose, subjects)
    # The board shows the caller's card while its user is on a call.
    operator = await user_id(client, world, "operator")
    await on_shift(client, world)
    r = await client.put(
        "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    async with app.state.hotline.unit_of_work() as session:
        await line_update(
            session, user_id=operator, status=AgentStatus.BUSY, current_call_id=s.call_id
        )
    await _sign_in(client, "operator")
    before = len(await _reads(app, operator))
    board = await client.get("/")
    assert f"Đang nghe cuộc gọi từ {caller}" in board.text
    new = (await _reads(app, operator))[before:]
    assert [(r.purpose, r.contact_id) for r in new] == [("caller_card", s.contact_id)]


async def _care_calls(
    client: Any, world: Any, s: Scene
) -> dict[tuple[str, str], tuple[str, str, str, int | str]]:
    """A patient followed by the world's doctor, and the care routes that read them."""
    doctor = await user_id(client, world, "doctor")
    r = await client.post(
        "/api/v1/care/doctors",
        json={"user_id": doctor, "years_experience": 6, "groups": ["proactive"]},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/care/patients",
        # The name on the number's contact (another name is another household member).
        json={"status": "F0", "name": "Nguyễn Văn An", "phone": "0912345678", "age": 40},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["contact_id"] == s.contact_id
    url = f"/api/v1/care/patients/{r.json()['id']}"
    r = await client.post(
        "/api/v1/care/consults", json={"phone": "0912345678"}, headers=world.auth("operator")
    )
    assert r.status_code == 201, r.text
    consult = f"/api/v1/care/consults/{r.json()['id']}"
    r = await client.post(
        "/api/v1/care/facilities",
        json={"unit_id": world.units["ward_a"], "name": "Bệnh viện dã chiến số 1",
              "oxygen_beds_total": 5, "oxygen_beds_free": 5},
        headers=world.auth("admin"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    facility = f"/api/v1/care/facilities/{r.json()['id']}"
    r = await client.post(
        f"{url}/admissions",
        json={"facility_id": r.json()["id"], "bed_kind": "oxygen"},
        headers=world.auth("doctor"),
    )
    assert r.status_code == 201, r.text
    return {
        ("GET", "/api/v1/care/consults"): (
            "supervisor", "GET", "/api/v1/care/consults", s.contact_id
        ),
        ("POST", "/api/v1/care/consults/{consult_id}/take"): (
            "supervisor", "POST", f"{consult}/take", s.contact_id
        ),
        ("POST", "/api/v1/care/consults/{consult_id}/done"): (
            "supervisor", "POST", f"{consult}/done", s.contact_id
        ),
        ("GET", "/api/v1/care/patients"): ("doctor", "GET", "/api/v1/care/patients", s.contact_id),
        ("GET", "/api/v1/care/patients/{patient_id}"): ("doctor", "GET", url, s.contact_id),
        ("GET", "/api/v1/care/patients/{patient_id}/checkins"): (
            "doctor", "GET", f"{url}/checkins", s.contact_id
        ),
        ("POST", "/api/v1/care/patients/{patient_id}/checkins"): (
            "doctor", "POST", f"{url}/checkins", s.contact_id
        ),
        ("GET", "/api/v1/care/patients/{patient_id}/fhir"): (
            "doctor", "GET", f"{url}/fhir", s.contact_id
        ),
        ("GET", "/api/v1/care/worklist"): ("doctor", "GET", "/api/v1/care/worklist", s.contact_id),
        ("PATCH", "/api/v1/care/patients/{patient_id}"): ("doctor", "PATCH", url, s.contact_id),
        ("GET", "/api/v1/care/patients/{patient_id}/changes"): (
            "doctor", "GET", f"{url}/changes", s.contact_id
        ),
        ("POST", "/api/v1/care/patients/{patient_id}/reassign"): (
            "supervisor", "POST", f"{url}/reassign", s.contact_id
        ),
        ("GET", "/api/v1/care/patients/{patient_id}/admissions"): (
            "doctor", "GET", f"{url}/admissions", s.contact_id
        ),
        ("GET", "/api/v1/care/facilities/{facility_id}/admissions"): (
            "officer", "GET", f"{facility}/admissions", s.contact_id
        ),
        # Last: an ended follow-up takes no more check-ins or changes.
        ("POST", "/api/v1/care/patients/{patient_id}/end"): (
            "doctor", "POST", f"{url}/end", s.contact_id
        ),
    }  # fmt: skip


async def test_the_caller_card_pushed_to_an_operator_is_their_logged_read(app, client, world):
    """The line builds `call.answered` (the card on the console) with this service."""
    from hotline.calls.service import call_context

    call = await record_call_for(client, world, call_body(caller="0987 000 111"))
    operator = await user_id(client, world, "operator")
    async with app.state.hotline.unit_of_work() as session:
        await call_context(
            session, call_id=call.json()["id"], reader_id=operator, purpose="call_answered"
        )
    new = await _reads(app, operator)
    assert [(r.purpose, r.phone, r.contact_id) for r in new] == [
        ("call_answered", "+84987000111", None)
    ]


async def test_intake_answer_is_not_logged_as_a_read(app, client, world):
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201
    assert await _reads(app, await user_id(client, world, "operator")) == []
