"""Rules an object must keep within the whole configuration; errors name the field."""

from __future__ import annotations

import ipaddress
from datetime import time
from typing import Any

from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.phoneconfig.schemas import Destination, Line, Menu, PhoneConfig, Queue, Target
from hotline.phoneconfig.windows import parse_window
from hotline.sip_uri import ParseError, parse_uri


def check_destination(dest: Destination) -> None:
    try:
        uri = parse_uri(dest.uri)
    except ParseError:
        raise InvalidInput(
            "Địa chỉ SIP không hợp lệ (ví dụ sip:115@10.0.0.5)", field="uri"
        ) from None
    if uri.scheme not in ("sip", "sips") or not uri.host:
        raise InvalidInput("Địa chỉ SIP phải có dạng sip:tên@máy", field="uri")
    if not dest.refer and not _is_ip(uri.host):
        # The line has no DNS resolver: it can only call (bridge) an address it can reach.
        raise InvalidInput("Nối máy trực tiếp cần địa chỉ IP (sip:tên@10.0.0.5)", field="uri")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_target(target: Target, config: PhoneConfig, where: str) -> None:
    """Exactly one place, and that place configured. `where`: the target's field name."""
    chosen = [
        name for name in ("destination", "queue", "menu") if getattr(target, name) is not None
    ] + (["voicemail"] if target.voicemail else [])
    if len(chosen) != 1:
        raise InvalidInput(
            "Chọn đúng một nơi: nơi nhận, hàng đợi, menu con hoặc hộp thư thoại", field=where
        )
    field = f"{where}.{chosen[0]}"
    if target.destination is not None and target.destination not in {
        d.name for d in config.destinations
    }:
        raise InvalidInput(
            msg("Không có nơi nhận '{destination}'", destination=target.destination), field=field
        )
    if target.queue is not None and target.queue not in {q.name for q in config.queues}:
        raise InvalidInput(msg("Không có hàng đợi '{queue}'", queue=target.queue), field=field)
    if target.menu is not None and target.menu not in {m.name for m in config.menus}:
        raise InvalidInput(msg("Không có menu '{menu}'", menu=target.menu), field=field)


def check_menu(menu: Menu, config: PhoneConfig) -> None:
    queues = {q.name for q in config.queues}
    prompts = {p.name for p in config.prompts}
    seen: set[str] = set()
    for i, option in enumerate(menu.options):
        where = f"options[{i}]"
        if option.digit in seen:
            raise InvalidInput(
                msg("Phím {digit} được dùng hai lần", digit=option.digit), field=f"{where}.digit"
            )
        seen.add(option.digit)
        check_target(option, config, where)
    if menu.fallback_queue not in queues:
        raise InvalidInput(
            msg("Không có hàng đợi '{queue}'", queue=menu.fallback_queue),
            field="fallback_queue",
        )
    if menu.greeting not in prompts:
        raise InvalidInput(
            msg("Không có lời chào '{greeting}'", greeting=menu.greeting), field="greeting"
        )
    if menu.surge_prompt is not None and menu.surge_prompt not in prompts:
        raise InvalidInput(
            msg("Không có lời nhắn '{prompt}'", prompt=menu.surge_prompt), field="surge_prompt"
        )


def check_line(line: Line, config: PhoneConfig) -> None:
    if line.menu not in {m.name for m in config.menus}:
        raise InvalidInput(msg("Không có menu '{menu}'", menu=line.menu), field="menu")


def check_queue(queue: Queue, config: PhoneConfig) -> None:
    """Windows parse, start before they end (a night shift is two windows) and never overlap;
    the announcement is a prompt; the overflow goes somewhere configured, and following
    overflows from this queue never comes back to it."""
    _check_hours(queue)
    if queue.announcement not in {p.name for p in config.prompts}:
        raise InvalidInput(
            msg("Không có lời nhắc '{prompt}'", prompt=queue.announcement), field="announcement"
        )
    if queue.overflow_after is not None and queue.overflow is None:
        raise InvalidInput("Cần nơi chuyển khi chờ quá lâu", field="overflow")
    if queue.overflow is None:
        return
    check_target(queue.overflow, config, "overflow")
    queues = {q.name: q for q in config.queues}
    seen: set[str] = {queue.name}
    step: Target | None = queue.overflow
    while step is not None and step.queue is not None:
        if step.queue in seen:
            raise InvalidInput(
                msg("Chuyển tiếp vòng tròn qua hàng đợi '{queue}'", queue=step.queue),
                field="overflow.queue",
            )
        seen.add(step.queue)
        step = queues[step.queue].overflow if step.queue in queues else None


def _check_hours(queue: Queue) -> None:
    spans: list[tuple[time, time, int]] = []
    for i, text in enumerate(queue.hours or []):
        field = f"hours[{i}]"
        try:
            window = parse_window(text)
        except ValueError:
            raise InvalidInput("Giờ làm việc phải có dạng HH:MM-HH:MM", field=field) from None
        if window.end <= window.start:
            raise InvalidInput("Giờ kết thúc phải sau giờ bắt đầu", field=field)
        for start, end, j in spans:
            if window.start < end and start < window.end:
                raise InvalidInput(msg("Trùng với khung giờ thứ {other}", other=j + 1), field=field)
        spans.append((window.start, window.end, i))


def error_field(error: Any) -> str:
    """A Pydantic error's place as the rules above name it: `options[1].digit`, `hours[0]`."""
    field = ""
    for part in error.get("loc", ()):
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field


# Pydantic's error types, said in Vietnamese as the rest of the configuration's refusals.
_MESSAGES = {
    "missing": msg("Không được để trống"),
    "string_type": msg("Cần một chuỗi ký tự"),
    "string_too_short": msg("Không được để trống"),
    "string_too_long": msg("Dài quá {max_length} ký tự"),
    "string_pattern_mismatch": msg("Chỉ gồm chữ thường không dấu, số và dấu _ (tối đa 20 ký tự)"),
    "int_parsing": msg("Cần một số nguyên"),
    "int_from_float": msg("Cần một số nguyên"),
    "float_parsing": msg("Cần một số"),
    "bool_parsing": msg("Cần có hoặc không"),
    "greater_than": msg("Phải lớn hơn {gt}"),
    "greater_than_equal": msg("Phải từ {ge} trở lên"),
    "less_than": msg("Phải nhỏ hơn {lt}"),
    "less_than_equal": msg("Tối đa {le}"),
    "too_short": msg("Cần ít nhất {min_length} mục"),
    "too_long": msg("Tối đa {max_length} mục"),
    "literal_error": msg("Chỉ nhận một trong: {expected}"),
}


def error_message(error: Any) -> str:
    """A Pydantic error in Vietnamese (its own English when the type is not listed)."""
    template = _MESSAGES.get(error.get("type", ""))
    if template is None:
        return str(error.get("msg", "")) or msg("Không hợp lệ")
    if error.get("type") == "string_pattern_mismatch" and error_field(error) == "number":
        return msg("Số đường dây chỉ gồm chữ số, chữ cái và + * # _ - (tối đa 20 ký tự)")
    if error.get("type") == "string_pattern_mismatch" and error_field(error).endswith("digit"):
        return msg("Một phím: 0–9, * hoặc #")
    ctx = {k: f"{v:g}" if isinstance(v, float) else v for k, v in (error.get("ctx") or {}).items()}
    try:
        return msg(template.template, **ctx)
    except (KeyError, IndexError):
        return str(error.get("msg", "")) or msg("Không hợp lệ")
