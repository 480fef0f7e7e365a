"""The built-in configuration: Hà Nội's four-branch menu, built from the HOTLINE_SIP_* settings.

It is the seed: stored rows override it object by object, so a fresh install (no rows)
runs on exactly this configuration.
"""

from __future__ import annotations

from hotline.phoneconfig.schemas import (
    Destination,
    Line,
    Members,
    Menu,
    MenuOption,
    PhoneConfig,
    PromptText,
    Queue,
    Target,
)
from hotline.phoneconfig.texts import (
    BRANCH_NAMES,
    CALLBACK_TEXTS,
    DEFAULT_TEXTS,
    SURGE_TEXTS,
    VOICEMAIL_TEXTS,
)
from hotline.settings import Settings

MAIN_MENU = "main"
LEGACY_NUMBERS = ("0889556655", "0889557755")
RECORDING_NOTICE = "recording_notice"
RECORDING_TEXT = "Cuộc gọi có thể được ghi âm để nâng cao chất lượng phục vụ."


VIOLATIONS = "violations"
# Who answers each built-in queue: operators and shift leads take the general queue and the
# violations desk; doctors the consult queue (routed by the consult windows, consult.py).
DEFAULT_MEMBERS = {
    "operator": Members(roles=["operator", "supervisor"]),
    "doctor": Members(roles=["doctor"]),
    VIOLATIONS: Members(roles=["operator", "supervisor"]),
}


def default_config(settings: Settings) -> PhoneConfig:
    queues = [
        Queue(
            name=name,
            label=label,
            hours=settings.sip_opening_hours.get(name),
            members=DEFAULT_MEMBERS[name],
            callback_after=settings.sip_callback_after,
        )
        for name, label in BRANCH_NAMES.items()
    ]
    for queue in queues:
        if queue.name == VIOLATIONS:
            # A report nobody can take now is left as a message and becomes a case, so the
            # evidence the city asked citizens to give is not lost (docs/domain.md).
            queue.overflow = Target(voicemail=True)
            queue.category = "phan_anh_vi_pham"
    known = set(BRANCH_NAMES)
    # Branches with hours in the settings but no built-in label keep their name as label.
    queues += [
        Queue(name=name, label=name, hours=hours, callback_after=settings.sip_callback_after)
        for name, hours in settings.sip_opening_hours.items()
        if name not in known
    ]
    texts = {
        **DEFAULT_TEXTS,
        **CALLBACK_TEXTS,
        **SURGE_TEXTS,
        **VOICEMAIL_TEXTS,
        RECORDING_NOTICE: RECORDING_TEXT,
    }
    return PhoneConfig(
        # 1022, and the two numbers Hà Nội ran before folding them into 1022 (docs/domain.md): one
        # menu whichever a citizen remembers. Numbers as the trunk puts them in the
        # Request-URI; a number not listed also gets the main menu.
        lines=[Line(number=n, menu=MAIN_MENU) for n in ("1022", *LEGACY_NUMBERS)],
        menus=[
            Menu(
                name=MAIN_MENU,
                options=[
                    MenuOption(digit="1", destination="115"),
                    MenuOption(digit="2", destination="cdc"),
                    MenuOption(digit="3", queue="doctor"),
                    MenuOption(digit="4", queue=VIOLATIONS),
                ],
                digit_timeout=settings.sip_digit_timeout,
                fallback_queue="operator",
            )
        ],
        destinations=[
            Destination(name="115", uri=settings.sip_transfer_115, outcome="transferred_115"),
            Destination(name="cdc", uri=settings.sip_transfer_cdc, outcome="transferred_cdc"),
        ],
        queues=queues,
        prompts=[PromptText(name=name, text=text) for name, text in texts.items()],
    )
