"""Member registration in chat: ĐĂNG KÝ (consent first), SỬA THÔNG TIN, and Zalo's shared info.

Steps (the state lives in the conversation row, so it survives a restart):
consent -> full name -> unit (typed part of its name, picked, confirmed) ->
optional phone -> summary -> saved.  SỬA THÔNG TIN edits one field at a time.
A Zalo ``user_submit_info`` event pre-fills the name and phone, which the member
confirms; nothing is saved without consent.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.conversation.dispatcher import Context, Handler
from bot.conversation.flow import (
    MENU_CHOICE,
    expiry,
    in_group_notice,
    options_reply,
    register_commands,
    takes_free_text,
)
from bot.core import models
from bot.core.models import Choice, Reply
from bot.core.people import clean_name, normalise_phone
from bot.core.privacy_notice import VOLUNTARY, data_notice
from bot.participation.catalog import get_catalog

logger = logging.getLogger(__name__)

FLOW = "registration"
REGISTER = register_commands(FLOW, "đăng ký", "đăng kí", "đăng ký hội viên", "đăng ký thông tin", "dang ky thanh vien")
EDIT = register_commands(FLOW, "sửa thông tin", "sửa", "cập nhật thông tin", "sửa đăng ký")
UNIT_MATCHES_SHOWN = 8
YES_WORDS = {"co", "vang", "da", "dung", "dung roi", "dung a", "ok", "xac nhan", "dong y", "phai"}
NO_WORDS = {"khong", "khong a", "khong phai", "khong dung", "sai", "sai roi", "chua dung", "chon lai"}


def consent_text(config: dict[str, Any]) -> str:
    """What is stored, why, for how long, how to delete it, and the law it rests on.

    The body is :func:`bot.core.privacy_notice.data_notice`, the same text the content
    bank's answer about stored data shows (placeholder ``{data_notice}``).
    """
    return (
        "Trước khi đăng ký, chị vui lòng đọc thông báo về dữ liệu cá nhân:\n"
        f"{data_notice(config)} {VOLUNTARY}\n"
        "Chị có đồng ý để Hội lưu và xử lý các thông tin trên không?"
    )


def summary_lines(ctx: Context, name: str | None, unit: str | None, phone: str | None) -> str:
    units = get_catalog(ctx.config).units
    return (
        f"• Họ và tên: {name or '(chưa có)'}\n"
        f"• Đơn vị: {units.label(unit) if unit else '(chưa có)'}\n"
        f"• Số điện thoại: {phone or '(không cung cấp)'}"
    )


class RegistrationHandler(Handler):
    """ĐĂNG KÝ, SỬA THÔNG TIN and the registration flow."""

    name = FLOW

    def handle(self, ctx: Context) -> bool:
        event = ctx.event
        if event.kind not in (models.TEXT, models.POSTBACK):
            return False
        payload = event.payload or ""
        in_flow = ctx.conversation.get("flow") == FLOW
        if payload == "REGISTER" or (not payload and ctx.folded in REGISTER):
            return self.start(ctx)
        if payload == "EDIT" or (not payload and ctx.folded in EDIT):
            return self.edit_menu(ctx)
        if payload.startswith(("REG_", "EDIT_")):
            if not in_flow:
                ctx.say(Reply("Phiên đăng ký đã kết thúc. Gõ ĐĂNG KÝ để bắt đầu lại.", [MENU_CHOICE]))
                return True
            return self.step(ctx, payload)
        if takes_free_text(ctx, FLOW):
            return self.step(ctx, "")
        return False

    def on_expired(self, ctx: Context) -> None:
        ctx.say("Phiên đăng ký trước đã hết hạn, thông tin chưa lưu đã bị bỏ. Gõ ĐĂNG KÝ để làm lại.")

    # -- entry points ----------------------------------------------------------
    def start(self, ctx: Context, prefill: dict[str, str] | None = None) -> bool:
        if in_group_notice(ctx, "đăng ký"):
            return True
        member = ctx.member or {}
        if member.get("registered_at") and member.get("consent_version") == ctx.config["CONSENT_VERSION"] and not prefill:
            text = "Chị đã đăng ký với thông tin:\n" + summary_lines(ctx, member["full_name"], member["unit_code"], member["phone"])
            ctx.say(Reply(text, [Choice("Sửa thông tin", "EDIT"), Choice("Dữ liệu của tôi", "MY_DATA"), MENU_CHOICE]))
            return True
        mode = "reconsent" if member.get("registered_at") and not prefill else "new"
        state = {"step": "consent", "mode": mode, "prefill": prefill or {}}
        self._set(ctx, state)
        ctx.say(Reply(consent_text(ctx.config), [Choice("Đồng ý", "REG_AGREE"), Choice("Không đồng ý", "REG_DECLINE")]))
        return True

    def edit_menu(self, ctx: Context, intro: str = "") -> bool:
        if in_group_notice(ctx, "sửa thông tin"):
            return True
        member = ctx.member or {}
        if not member.get("registered_at"):
            return self.start(ctx)
        text = (intro + "\n\n" if intro else "") + "Thông tin hiện tại:\n" + summary_lines(
            ctx, member["full_name"], member["unit_code"], member["phone"]
        ) + "\nChị muốn sửa mục nào?"
        self._set(ctx, {"step": "edit_menu", "mode": "edit"})
        ctx.say(Reply(text, [
            Choice("Họ và tên", "EDIT_NAME"), Choice("Đơn vị", "EDIT_UNIT"), Choice("Số điện thoại", "EDIT_PHONE"),
            Choice("Xong", "EDIT_DONE"),
        ]))
        return True

    # -- the steps -------------------------------------------------------------
    def step(self, ctx: Context, payload: str) -> bool:
        state = dict(ctx.conversation.get("state") or {})
        step = state.get("step")
        text = ctx.text
        if payload == "REG_DECLINE":
            ctx.set_flow(None)
            ctx.say(Reply("Chị chưa đồng ý nên trợ lý không lưu thông tin nào. Chị vẫn có thể hỏi đáp, thi và hái hoa "
                          "bình thường; khi muốn đăng ký, gõ ĐĂNG KÝ.", [MENU_CHOICE]))
            return True
        if payload == "REG_AGREE" and step == "consent":
            state["consent_at"] = ctx.now
            if state.get("mode") == "reconsent":  # registered under an older consent text
                ctx.store.update_member(ctx.member["id"], consent_at=ctx.now, consent_version=ctx.config["CONSENT_VERSION"])  # type: ignore[index]
                ctx.set_flow(None)
                ctx.say(Reply("Cảm ơn chị đã đồng ý. Thông tin đăng ký của chị được giữ nguyên.", [Choice("Sửa thông tin", "EDIT"), MENU_CHOICE]))
                return True
            return self._ask_name(ctx, state)
        if step == "consent":  # anything but the two answers: ask again
            ctx.say(Reply("Chị chọn “Đồng ý” để tiếp tục đăng ký, hoặc “Không đồng ý” để dừng.",
                          [Choice("Đồng ý", "REG_AGREE"), Choice("Không đồng ý", "REG_DECLINE")]))
            return True
        if payload == "EDIT_DONE":
            ctx.set_flow(None)
            ctx.say(Reply("Đã xong. Cảm ơn chị đã cập nhật thông tin.", [MENU_CHOICE]))
            return True
        if payload == "EDIT_NAME":
            return self._ask_name(ctx, state)
        if payload == "EDIT_UNIT":
            return self._ask_unit(ctx, state)
        if payload == "EDIT_PHONE":
            return self._ask_phone(ctx, state)
        if step == "name":
            return self._got_name(ctx, state, text, payload)
        if step in ("unit", "unit_pick", "unit_confirm"):
            return self._unit_step(ctx, state, text, payload)
        if step == "phone":
            return self._got_phone(ctx, state, text, payload)
        if step == "confirm":
            if payload == "REG_SAVE":
                return self._save(ctx, state)
            if payload == "REG_RESTART":
                return self._ask_name(ctx, {**state, "name": None, "unit": None, "phone": None})
            return self._confirm(ctx, state, "Chị chọn “Lưu thông tin” hoặc “Nhập lại”.")
        if step == "prefill_confirm":
            return self._apply_prefill(ctx, state) if payload == "REG_PREFILL_APPLY" else self.edit_menu(ctx)
        if step == "edit_menu":
            return self.edit_menu(ctx)
        ctx.set_flow(None)
        return False

    def _set(self, ctx: Context, state: dict[str, Any]) -> None:
        ctx.set_flow(FLOW, state, expires_at=expiry(ctx, "FLOW_EXPIRY_MINUTES"))

    def _ask_name(self, ctx: Context, state: dict[str, Any]) -> bool:
        state["step"] = "name"
        self._set(ctx, state)
        prefill = (state.get("prefill") or {}).get("name")
        label = "Bước 1/3: " if state.get("mode") == "new" else ""
        text = f"{label}Chị vui lòng gõ họ và tên đầy đủ (ví dụ: Nguyễn Thị Lan)."
        choices = []
        if prefill and clean_name(prefill):
            text += f"\nHoặc chọn dùng tên chị đã chia sẻ qua Zalo: {clean_name(prefill)}"
            choices.append(Choice("Dùng tên này", "REG_NAME_PREFILL"))
        ctx.say(Reply(text, choices))
        return True

    def _got_name(self, ctx: Context, state: dict[str, Any], text: str, payload: str) -> bool:
        raw = (state.get("prefill") or {}).get("name", "") if payload == "REG_NAME_PREFILL" else text
        name = clean_name(raw)
        if name is None:
            ctx.say("Họ tên cần có ít nhất hai chữ, chỉ gồm chữ cái (ví dụ: Nguyễn Thị Lan). Chị gõ lại giúp trợ lý nhé.")
            return True
        state["name"] = name
        if state.get("mode") == "edit":
            ctx.store.update_member(ctx.member["id"], full_name=name)  # type: ignore[index]
            ctx.member = ctx.store.get_member(ctx.member["id"])  # type: ignore[index]
            return self.edit_menu(ctx, "Đã cập nhật họ và tên.")
        return self._ask_unit(ctx, state)

    def _ask_unit(self, ctx: Context, state: dict[str, Any], intro: str = "") -> bool:
        state["step"] = "unit"
        self._set(ctx, state)
        label = "Bước 2/3: " if state.get("mode") == "new" else ""
        ctx.say((intro + "\n" if intro else "") + f"{label}Chị sinh hoạt ở chi hội nào, thuộc xã, phường nào? "
                "Chị gõ một phần tên là đủ, có dấu hoặc không dấu (ví dụ: Phú Lợi, hoặc ap 1 lai hoa).")
        return True

    def _unit_step(self, ctx: Context, state: dict[str, Any], text: str, payload: str) -> bool:
        units = get_catalog(ctx.config).units
        if payload == "REG_UNIT_AGAIN":
            return self._ask_unit(ctx, state)
        if payload.startswith("REG_UNIT:"):
            unit = units.get(payload[len("REG_UNIT:"):])
            if unit is None:
                return self._ask_unit(ctx, state, "Đơn vị này không còn trong danh mục.")
            state.update(step="unit_confirm", unit=unit.code)
            self._set(ctx, state)
            ctx.say(Reply(f"Chị sinh hoạt tại: {units.label(unit.code, top=True)}. Đúng không ạ?",
                          [Choice("Xác nhận", "REG_UNIT_OK"), Choice("Chọn lại", "REG_UNIT_AGAIN")]))
            return True
        if payload == "REG_UNIT_OK" and state.get("unit"):
            if state.get("mode") == "edit":
                ctx.store.update_member(ctx.member["id"], unit_code=state["unit"])  # type: ignore[index]
                ctx.member = ctx.store.get_member(ctx.member["id"])  # type: ignore[index]
                return self.edit_menu(ctx, "Đã cập nhật đơn vị.")
            return self._ask_phone(ctx, state)
        if state.get("step") == "unit_confirm" and ctx.folded in YES_WORDS:
            return self._unit_step(ctx, state, "", "REG_UNIT_OK")
        if state.get("step") == "unit_confirm" and ctx.folded in NO_WORDS:
            return self._ask_unit(ctx, state)
        phone = normalise_phone(text) if sum(c.isdigit() for c in text) >= 9 else None
        if phone is not None or (sum(c.isdigit() for c in text) >= 9 and not any(c.isalpha() for c in text)):
            # a phone number typed one step early: keep it for the phone step, never search it as a unit
            if phone:
                state["prefill"] = {**(state.get("prefill") or {}), "phone": phone}
                self._set(ctx, state)
            return self._ask_unit(ctx, state, "Đây là số điện thoại; trợ lý sẽ hỏi số điện thoại ở bước sau."
                                  if phone else "Đây không phải tên đơn vị.")
        # any other text is a (new) search
        matches, total = units.search(text, UNIT_MATCHES_SHOWN)
        if not matches:
            ctx.say(f"Trợ lý không tìm thấy đơn vị nào có tên “{text}”. Chị gõ lại một phần tên khác "
                    "(ví dụ tên phường, xã hoặc chi hội).")
            return True
        state.update(step="unit_pick", query=text)
        self._set(ctx, state)
        intro = f"Có {total} đơn vị khớp; dưới đây là {len(matches)} đơn vị đầu, chị gõ cụ thể hơn nếu chưa thấy." if total > len(matches) else "Chị chọn đơn vị của mình:"
        ctx.say(options_reply(ctx, intro, [(units.label(u.code), f"REG_UNIT:{u.code}") for u in matches],
                              extras=[Choice("Gõ lại", "REG_UNIT_AGAIN")]))
        return True

    def _ask_phone(self, ctx: Context, state: dict[str, Any], intro: str = "") -> bool:
        state["step"] = "phone"
        self._set(ctx, state)
        edit = state.get("mode") == "edit"
        text = (intro + "\n" if intro else "") + ("" if edit else "Bước 3/3: ") + (
            "Số điện thoại của chị (không bắt buộc). Chị gõ số, ví dụ 0912 345 678, hoặc chọn “Bỏ qua”."
        )
        choices = [Choice("Bỏ qua", "REG_PHONE_SKIP")]
        prefill = normalise_phone((state.get("prefill") or {}).get("phone", ""))
        if prefill:
            text += f"\nHoặc dùng số chị đã chia sẻ qua Zalo: {prefill}"
            choices.insert(0, Choice("Dùng số này", "REG_PHONE_PREFILL"))
        if edit and (ctx.member or {}).get("phone"):
            choices.append(Choice("Xóa số điện thoại", "REG_PHONE_DELETE"))
        ctx.say(Reply(text, choices))
        return True

    def _got_phone(self, ctx: Context, state: dict[str, Any], text: str, payload: str) -> bool:
        if payload in ("REG_PHONE_SKIP", "REG_PHONE_DELETE"):
            phone = None
        else:
            raw = (state.get("prefill") or {}).get("phone", "") if payload == "REG_PHONE_PREFILL" else text
            phone = normalise_phone(raw)
            if phone is None:
                ctx.say(Reply("Số điện thoại chưa đúng. Số di động gồm 10 chữ số bắt đầu bằng 03, 05, 07, 08 hoặc 09; số cố "
                              "định gồm 11 chữ số bắt đầu bằng 02. Chị gõ lại, hoặc chọn “Bỏ qua”.",
                              [Choice("Bỏ qua", "REG_PHONE_SKIP")]))
                return True
        state["phone"] = phone
        if state.get("mode") == "edit":
            if payload == "REG_PHONE_SKIP":
                return self.edit_menu(ctx, "Số điện thoại giữ nguyên.")
            ctx.store.update_member(ctx.member["id"], phone=phone)  # type: ignore[index]
            if phone:
                ctx.store.link_imported_participations(ctx.member["id"], phone)  # type: ignore[index]
            ctx.member = ctx.store.get_member(ctx.member["id"])  # type: ignore[index]
            return self.edit_menu(ctx, "Đã cập nhật số điện thoại." if phone else "Đã xóa số điện thoại.")
        return self._confirm(ctx, state)

    def _confirm(self, ctx: Context, state: dict[str, Any], intro: str = "") -> bool:
        state["step"] = "confirm"
        self._set(ctx, state)
        text = (intro + "\n" if intro else "") + "Chị kiểm tra lại thông tin đăng ký:\n" + summary_lines(
            ctx, state.get("name"), state.get("unit"), state.get("phone")
        )
        ctx.say(Reply(text, [Choice("Lưu thông tin", "REG_SAVE"), Choice("Nhập lại", "REG_RESTART")]))
        return True

    def _apply_prefill(self, ctx: Context, state: dict[str, Any]) -> bool:
        prefill = state.get("prefill") or {}
        fields = {}
        name, phone = clean_name(prefill.get("name", "")), normalise_phone(prefill.get("phone", ""))
        if name:
            fields["full_name"] = name
        if phone:
            fields["phone"] = phone
            ctx.store.link_imported_participations(ctx.member["id"], phone)  # type: ignore[index]
        ctx.store.update_member(ctx.member["id"], **fields)  # type: ignore[index]
        ctx.member = ctx.store.get_member(ctx.member["id"])  # type: ignore[index]
        return self.edit_menu(ctx, "Đã cập nhật theo thông tin chị chia sẻ.")

    def _save(self, ctx: Context, state: dict[str, Any]) -> bool:
        member = ctx.member or {}
        fields = {
            "full_name": state.get("name"), "unit_code": state.get("unit"), "phone": state.get("phone"),
            "consent_at": state.get("consent_at") or ctx.now, "consent_version": ctx.config["CONSENT_VERSION"],
        }
        if not member.get("registered_at"):
            fields["registered_at"] = ctx.now
        ctx.store.update_member(member["id"], **fields)
        if state.get("phone"):
            ctx.store.link_imported_participations(member["id"], state["phone"])
        ctx.member = ctx.store.get_member(member["id"])
        ctx.set_flow(None)
        ctx.meta["command"] = "registered"
        ctx.say(Reply(
            f"Đã lưu thông tin đăng ký. Cảm ơn chị {state.get('name')}! Kết quả thi và tham gia cuộc thi của chị từ nay "
            "được tính cho đơn vị của chị. Gõ DỮ LIỆU CỦA TÔI để xem, SỬA THÔNG TIN để sửa.",
            [Choice("Thi tìm hiểu", "QUIZ_LIST"), Choice("Hái hoa dân chủ", "HAIHOA"), MENU_CHOICE],
        ))
        return True


class SubmitInfoHandler(Handler):
    """Zalo ``user_submit_info``: pre-fill the registration with the shared name and phone.

    Runs before the command handler, which otherwise takes every non-text event.
    """

    name = "submit_info"

    def __init__(self, registration: RegistrationHandler):
        self.registration = registration

    def handle(self, ctx: Context) -> bool:
        if ctx.event.kind != models.SUBMIT_INFO:
            return False
        prefill = {k: str(ctx.event.extra.get(k) or "") for k in ("name", "phone")}
        if not any(prefill.values()):
            return True
        member = ctx.member or {}
        if member.get("registered_at"):
            # already registered: confirm each change instead of overwriting
            name, phone = clean_name(prefill["name"]), normalise_phone(prefill["phone"])
            changes = []
            if name and name != member.get("full_name"):
                changes.append(f"họ tên “{name}”")
            if phone and phone != member.get("phone"):
                changes.append(f"số điện thoại {phone}")
            if not changes:
                ctx.say("Cảm ơn chị, thông tin chị chia sẻ trùng với thông tin đã đăng ký.")
                return True
            ctx.set_flow(FLOW, {"step": "prefill_confirm", "mode": "edit", "prefill": prefill},
                         expires_at=expiry(ctx, "FLOW_EXPIRY_MINUTES"))
            ctx.say(Reply(f"Chị vừa chia sẻ {', '.join(changes)}. Cập nhật vào thông tin đăng ký?",
                          [Choice("Cập nhật", "REG_PREFILL_APPLY"), Choice("Giữ như cũ", "EDIT_DONE")]))
            return True
        return self.registration.start(ctx, prefill=prefill)
