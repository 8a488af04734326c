"""What members are told about their personal data, written once.

The consent notice (ĐĂNG KÝ), DỮ LIỆU CỦA TÔI, the XÓA DỮ LIỆU confirmation and the
content bank's answers about data (placeholders ``{data_notice}`` and ``{data_rights}``,
filled by :func:`bot.answers.reply.fill_placeholders`) are all built from the texts
here, so they cannot drift apart.  ``config`` is the app config, or any mapping with
ORG_NAME, ORG_PHONES, ORG_EMAIL, DATA_RETENTION_MONTHS and BACKUP_KEEP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.config import SETTINGS

DEFAULT_ORG_NAME = "Hội Liên hiệp Phụ nữ"

STORED = (
    "họ và tên, đơn vị (chi hội, xã/phường), số điện thoại nếu chị cung cấp, kết quả thi, hái hoa và các cuộc thi "
    "chị báo đã tham gia, các câu hỏi chị gửi cho trợ lý; kèm mã người dùng và tên hiển thị trên kênh, tin nhắn "
    "với trợ lý (để gửi và đối soát)"
)
PURPOSE = (
    "tổng hợp, báo cáo kết quả tham gia của chi hội và của Hội, xét đề xuất khen thưởng, liên hệ với chị khi cần. "
    "Không dùng để quảng cáo, không chuyển cho tổ chức khác"
)
RIGHTS = (
    "xem dữ liệu (gõ DỮ LIỆU CỦA TÔI), sửa (gõ SỬA THÔNG TIN), rút lại sự đồng ý và xóa dữ liệu "
    "(gõ XÓA DỮ LIỆU) bất cứ lúc nào"
)
LEGAL_BASIS = (
    "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15 (có hiệu lực từ ngày 01/01/2026) và Nghị định 356/2025/NĐ-CP"
)
ERASED = (
    "họ tên, số điện thoại, tên hiển thị, mã người dùng trên kênh, sự đồng ý đã ghi, nội dung câu hỏi và tin nhắn "
    "của chị, ghi chú cuộc thi; chị sẽ không còn xuất hiện trong bảng xếp hạng, danh sách và báo cáo"
)
KEPT = "các con số thống kê ẩn danh theo chi hội (ví dụ: số lượt thi của chi hội)"
VOLUNTARY = "Việc đăng ký là tự nguyện: không đăng ký, chị vẫn hỏi đáp và thi bình thường."


def _number(config: Mapping[str, Any], name: str) -> int:
    """The setting ``name`` from ``config``, or its default (bot.core.config) where the mapping lacks it."""
    value = config.get(name)
    if value is None or value == "":
        value = next(s.default for s in SETTINGS if s.name == name)
    return int(value)


def retention_months(config: Mapping[str, Any]) -> int:
    return _number(config, "DATA_RETENTION_MONTHS")


def retention(config: Mapping[str, Any]) -> str:
    """How long the data is kept: "đến khi chị yêu cầu xóa; …"."""
    months = retention_months(config)
    keep = "đến khi chị yêu cầu xóa"
    if months:
        keep += f"; nếu chị không nhắn tin với trợ lý trong {months} tháng, dữ liệu cá nhân sẽ tự động bị xóa"
    return keep


def processor(config: Mapping[str, Any]) -> str:
    """The organisation that processes the data, with its phone numbers and e-mail."""
    phones = config.get("ORG_PHONES") or []
    if isinstance(phones, str):
        phones = [p.strip() for p in phones.split(",") if p.strip()]
    contacts = ", ".join(filter(None, [", ".join(phones), config.get("ORG_EMAIL") or ""]))
    org = config.get("ORG_NAME") or DEFAULT_ORG_NAME
    return org + (f" (liên hệ: {contacts})" if contacts else "")


def data_notice(config: Mapping[str, Any]) -> str:
    """What is stored, why, by whom, for how long, the member's rights and the law: the body of
    the consent notice, and the answer to "what does the assistant store about me"."""
    return (
        f"• Dữ liệu được lưu: {STORED}.\n"
        f"• Mục đích: {PURPOSE}.\n"
        f"• Đơn vị xử lý dữ liệu: {processor(config)}.\n"
        f"• Thời gian lưu: {retention(config)}.\n"
        f"• Quyền của chị: {RIGHTS}.\n"
        f"Căn cứ: {LEGAL_BASIS}."
    )


def erase_effect(config: Mapping[str, Any]) -> str:
    """What XÓA DỮ LIỆU erases and keeps, at once and in the nightly backups (the confirmation question says the
    same)."""
    return (
        f"Nếu chị xác nhận, trợ lý sẽ xóa ngay: {ERASED}. Chỉ giữ lại {KEPT}. Việc xóa không hoàn tác được. "
        "Riêng các bản sao lưu hằng đêm của hệ thống (chỉ dùng để khôi phục khi có sự cố) còn giữ dữ liệu đã xóa "
        f"thêm tối đa khoảng {_number(config, 'BACKUP_KEEP')} ngày, sau đó tự động bị xóa."
    )


def data_rights(config: Mapping[str, Any]) -> str:
    """How to see, correct and erase the data: the answer to "how do I see or delete my data",
    with the same words as DỮ LIỆU CỦA TÔI and the XÓA DỮ LIỆU confirmation."""
    return (
        f"• Quyền của chị: {RIGHTS}.\n"
        f"• Xóa dữ liệu: {erase_effect(config)}\n"
        f"• Thời gian lưu: {retention(config)}."
    )
