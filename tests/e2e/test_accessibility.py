"""Every main page in a real browser: axe-core finds no serious or critical WCAG 2.1 A/AA
violation, and the Tab key reaches every visible control with a visible focus.

axe-core is vendored in tests/e2e/vendor/axe-core (MPL-2.0, version in VERSION): the tests
need no network and no manual step. The pages only read, so one server with one seeded
SQLite database serves every page (the engine does not change the HTML).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.e2e.test_console import _answer_call
from tests.portal.test_portal import WARD

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

USERS = {
    "operator": ("a11y-dtv", "a11y-dtv-1022"),
    "officer": ("a11y-canbo", "a11y-canbo-1022"),
    "supervisor": ("a11y-truongca", "a11y-truongca-1022"),
    "on-call": ("a11y-dtv2", "a11y-dtv2-1022"),  # an operator the line has put a call through to
    "doctor": ("a11y-bacsi", "a11y-bacsi-1022"),
}


def _wrong_password(page: Any) -> None:
    page.fill("#username", USERS["operator"][0])
    page.fill("#password", "sai-mat-khau")
    page.click("button[type=submit]")
    page.wait_for_selector("#password-error")


def _saved_case(page: Any) -> None:
    """The operator saves a case: the pane with the suggested units to forward it to."""
    page.fill("#description", "Khu trọ có 5 công nhân hết gạo ba ngày nay, xin hỗ trợ lương thực")
    page.select_option("#category", "ho_tro_kho_khan")
    page.click("#ward-q")
    page.keyboard.type("ba dinh")
    page.locator("#ward-list li", has_text="Ba Đình").first.click()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#saved:not([hidden]) #units label")


def _open_resolve(page: Any) -> None:
    page.locator("summary", has_text="Giải quyết").first.click()
    page.wait_for_selector("textarea[name=answer]", state="visible")


def _empty_reply(page: Any) -> None:
    page.click("#add-reply")
    page.wait_for_selector("#text-error", state="visible")


def _bad_report(page: Any) -> None:
    page.fill("#description", "Đèn đường ngõ 5 phố Kim Mã hỏng cả tuần nay")
    page.select_option("#ward_code", WARD)
    page.fill("#phone", "12345")
    page.click("#send")
    page.wait_for_selector("#phone-error", state="visible")


def _bad_checkin(page: Any) -> None:
    page.fill("#spo2", "9x")
    page.click("#record")
    page.wait_for_selector("#spo2-error")


def _unknown_code(page: Any) -> None:
    page.fill("#code", "ABCD-1234")
    page.fill("#secret", "ABCDE-12345")
    page.click("#main button[type=submit]")
    page.wait_for_selector("#track-error")


def _bad_volunteer(page: Any) -> None:
    page.fill("#full_name", "Lê Thị Hoa")
    page.fill("#phone", "12345")
    page.click("#send")
    page.wait_for_selector("#phone-error:not([hidden])")


@dataclass(frozen=True)
class Page:
    path: str
    user: str | None  # a key of USERS, or None for a page anyone opens
    ready: str  # a selector present once the page has drawn what it draws
    then: Callable[[Any], None] | None = None  # brings the page to the state checked
    phone: bool = False  # on a phone-sized screen (the portal is the citizens' app)


PAGES = {
    "login": Page("/login", None, "#username"),
    "login-error": Page("/login", None, "#username", _wrong_password),
    "console": Page("/", "operator", "main[data-live='1']"),
    "console-saved": Page("/", "operator", "main[data-live='1']", _saved_case),
    "console-call": Page("/", "on-call", "#on-call"),
    "case": Page("/cases/{code}", "officer", "#case-status"),
    "case-note-error": Page("/cases/{code}", "operator", "#case-status", _empty_reply),
    "inbox": Page("/inbox", "officer", "#main"),
    "inbox-resolve": Page("/inbox", "officer", "#main", _open_resolve),
    "dashboard": Page("/dashboard", "supervisor", "#main"),
    "reports": Page("/reports", "supervisor", "#main"),
    "report-form": Page("/phan-anh", None, "#send"),
    "report-form-error": Page("/phan-anh", None, "#send", _bad_report),
    "report-form-phone": Page("/phan-anh", None, "#send", phone=True),
    "public": Page("/phan-anh/cong-khai", None, "#main"),
    "track": Page("/tra-cuu", None, "#code"),
    "track-error": Page("/tra-cuu", None, "#code", _unknown_code),
    "faq": Page("/faq", None, "#main"),
    "staffing": Page("/staffing", "supervisor", "#forecast-table"),
    "volunteer-form": Page("/tinh-nguyen", None, "#send", phone=True),
    "volunteer-form-error": Page("/tinh-nguyen", None, "#send", _bad_volunteer, phone=True),
    "care": Page("/care", "doctor", "#worklist"),
    "care-patient": Page("/care/patients/{patient}", "doctor", "#checkin-form"),
    "care-checkin-error": Page("/care/patients/{patient}", "doctor", "#checkin-form", _bad_checkin),
    "care-alerts": Page("/care/alerts", "supervisor", "main[data-live='1']"),
}


async def _seed(settings: Settings) -> tuple[str, int, int]:
    """A ward unit with its officer and a case forwarded to it, operators, a supervisor, a
    doctor following a patient: the code of the case, the id of the operator a call will be
    put through to, and the patient's id."""
    from hotline.agents.service import set_status
    from hotline.auth.service import SYSTEM, create_user
    from hotline.cases.service import NewCase, open_case
    from hotline.cases.workflow import forward_case
    from hotline.directory.service import create_unit

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        unit = await create_unit(
            s,
            code="UB-00004",
            name="UBND Phường Ba Đình",
            unit_type="ward_committee",
            ward_codes=["00004"],
            categories=["ho_tro_kho_khan"],
        )
        roles = {
            "operator": "operator",
            "officer": "unit_officer",
            "supervisor": "supervisor",
            "on-call": "operator",
            "doctor": "doctor",
        }
        ids = {}
        for key, (username, password) in USERS.items():
            ids[key] = await create_user(
                s,
                username=username,
                password=password,
                role=roles[key],
                unit_id=unit.id if key == "officer" else None,
                full_name=username,
            )
        # The line answers for operators who have a status (agents/service.py line_update).
        await set_status(s, user_id=ids["on-call"].id, status="available")
        case = await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="zalo",
                description="Khu trọ ngõ 12 có 20 công nhân hết gạo 3 ngày nay",
                category="ho_tro_kho_khan",
                contact_phone="0912345678",
                contact_name="Trần Văn Bình",
                ward_code="00004",
            ),
        )
        await open_case(
            s,
            actor=SYSTEM,
            data=NewCase(
                channel="phone",
                description="Bố tôi 72 tuổi khó thở, cần cấp cứu gấp",
                category="cap_cuu",
                urgent=True,
                contact_phone="0987654321",
                ward_code="00004",
            ),
        )
        await forward_case(s, actor=SYSTEM, case=case, unit_id=unit.id, note="Hỗ trợ gấp")
        code = case.code
        patient = await _follow(s, ids["doctor"])
    await engine.dispose()
    return code, ids["on-call"].id, patient


async def _follow(session: Any, doctor: Any) -> int:
    """The doctor's profile and a patient of theirs with two check-ins (no warning sign)."""
    from hotline.auth.service import SYSTEM, actor_of
    from hotline.care.checkins import CheckInData, record_by_doctor
    from hotline.care.doctors import DoctorIn, save_doctor
    from hotline.care.registration import PatientIn, register_patient

    await save_doctor(
        session,
        actor=SYSTEM,
        user_id=doctor.id,
        data=DoctorIn(years_experience=6, groups=("proactive",)),
        create=True,
    )
    patient = await register_patient(
        session,
        actor=SYSTEM,
        data=PatientIn(
            status="F0", name="Lê Văn Hùng", phone="0903123456", age=45, doctor_id=doctor.id
        ),
    )
    for spo2, rr in ((98, 16), (96, 20)):
        await record_by_doctor(
            session,
            actor=actor_of(doctor),
            patient_id=patient.id,
            data=CheckInData(spo2=spo2, respiratory_rate=rr, pulse=84, temperature=37.2),
        )
    return int(patient.id)


@dataclass
class Site11y:
    server: LiveServer
    browser: Any
    code: str
    patient: int


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site11y]:
    """SQLite only: what is checked is the HTML the pages send, the same on either engine."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: `make test` installs Debian's chromium when run as root")
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("a11y")
    shutil.copy(sqlite_template, folder / "hotline.sqlite3")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'hotline.sqlite3'}",
        var_dir=folder / "var",
        site_province_code="01",
    )
    with LiveServer(settings) as server:
        seeded = server.run(_seed(settings))
        assert isinstance(seeded, tuple)
        code, on_call, patient = seeded
        server.run(_answer_call(settings, on_call))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield Site11y(server, browser, code, patient)
            browser.close()


def _open(site: Site11y, name: str) -> Any:
    """A fresh context (no cookie, no service worker of another page) with the page open."""
    spec = PAGES[name]
    if spec.phone:
        context = site.browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    else:
        context = site.browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    if spec.user is not None:
        username, password = USERS[spec.user]
        page.goto(site.server.url + "/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
    page.goto(site.server.url + spec.path.format(code=site.code, patient=site.patient))
    page.wait_for_selector(spec.ready, state="attached")
    page.wait_for_load_state("load")
    if spec.then is not None:
        spec.then(page)
    return context, page


# axe-core's source is evaluated through the DevTools protocol (`page.evaluate`), which the
# page's CSP (no inline script, no eval) does not govern: the page is checked under its real
# policy, with no bypass.
AXE_RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:10]:
            summary = " / ".join(str(node["summary"] or "").splitlines()[1:3])
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


# Every control a keyboard user must reach: visible, enabled, not taken out of the tab
# order. A control is known by what it is (tag, id, name, link, text), not by its node:
# htmx and the live updates redraw parts of a page while Tab goes round it. Radio buttons of
# one group count once (Tab enters a group, arrows move in it).
DESCRIBE = """(el) => {
  if (el.type === 'radio' && el.name) return 'radio:' + el.name;
  const text = (el.getAttribute('aria-label') || el.textContent || '').trim().replace(/\\s+/g, ' ');
  return [el.tagName.toLowerCase(), el.id && '#' + el.id, el.name && '[' + el.name + ']',
    el.getAttribute('href'), el.type === 'submit' && el.value, text.slice(0, 60)]
    .filter(Boolean).join(' ');
}"""

CONTROLS = (
    """() => {
  const describe = """
    + DESCRIBE
    + """;
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[tabindex]:not([tabindex="-1"]), [contenteditable="true"]';
  const found = new Set();
  for (const el of document.querySelectorAll(selector)) {
    if (el.disabled || el.getAttribute('tabindex') === '-1' || el.closest('[inert]')) continue;
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) continue;
    found.add(describe(el));
  }
  return [...found];
}"""
)

FOCUSED = (
    """() => {
  const describe = """
    + DESCRIBE
    + """;
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  if (!el.dataset.a11yFocus) {
    window.a11yFocused = (window.a11yFocused || 0) + 1;
    el.dataset.a11yFocus = 'f' + window.a11yFocused;
  }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  return { what: describe(el), seen: el.dataset.a11yFocus, visible: outline || shadow };
}"""
)


def _violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, WCAG_TAGS)
    return [v for v in violations if v["impact"] in BLOCKING]


def _tab_round(page: Any) -> tuple[list[str], list[str]]:
    """The controls Tab never reaches, and those it reaches with no visible focus."""
    controls = page.evaluate(CONTROLS)
    assert controls, "a page with nothing to reach says nothing"
    reached: set[str] = set()
    unseen_focus: list[str] = []
    # From the top of the document, as after loading it, round the whole tab order once:
    # until the first element Tab reached comes round again (or, if focus is trapped
    # somewhere, until far more presses than there are controls).
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    first: str | None = None
    for _ in range(3 * len(controls) + 30):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        if focused["seen"] == first:
            break
        first = first or focused["seen"]
        reached.add(focused["what"])
        if not focused["visible"]:
            unseen_focus.append(focused["what"])
    return [c for c in controls if c not in reached], unseen_focus


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(PAGES))
def test_page_passes_axe_and_works_with_the_keyboard(site: Site11y, name: str) -> None:
    """axe first, on the page as drawn; then Tab round it (focus changes what is shown)."""
    context, page = _open(site, name)
    try:
        blocking = _violations(page)
        missed, unseen_focus = _tab_round(page)
    finally:
        context.close()
    where = f"{name} ({PAGES[name].path})"
    assert blocking == [], f"{where}: axe-core\n{_describe(blocking)}"
    assert missed == [], f"{where}: Tab never reaches {missed}"
    assert unseen_focus == [], f"{where}: no visible focus on {unseen_focus}"
