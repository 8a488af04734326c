"""Plugs the participation features into the dispatcher: handlers in order, and menu items.

Order (after the core command handler, before questions go to the answer engine):
submit_info (first of all: the command handler takes every non-text event),
privacy, registration, quiz, hái hoa, contest.  Commands of each feature work in
the middle of another feature's flow (see bot.conversation.flow.COMMANDS).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.conversation.dispatcher import Dispatcher, MenuItem
from bot.participation.contest_flow import ContestHandler
from bot.participation.haihoa import HaiHoaHandler
from bot.participation.privacy import PrivacyHandler
from bot.participation.quiz_flow import QuizHandler
from bot.participation.registration import RegistrationHandler, SubmitInfoHandler


def install_participation(dispatcher: Dispatcher, get_bank: Callable[[], Any]) -> None:
    """Add the handlers (call between the command handler and the answer handler)."""
    registration = RegistrationHandler()
    dispatcher.handlers.insert(0, SubmitInfoHandler(registration))
    dispatcher.handlers += [PrivacyHandler(), registration, QuizHandler(get_bank), HaiHoaHandler(get_bank), ContestHandler()]
    for item in (
        MenuItem("Đăng ký hội viên", "REGISTER", "Gõ ĐĂNG KÝ để khai báo họ tên, chi hội (SỬA THÔNG TIN để sửa)", 20),
        MenuItem("Thi tìm hiểu", "QUIZ_LIST", "Gõ THI để làm bài thi trắc nghiệm về biên giới, biển, đảo", 30),
        MenuItem("Hái hoa dân chủ", "HAIHOA", "Gõ HÁI HOA để nhận một câu hỏi ngẫu nhiên", 40),
        MenuItem("Báo dự cuộc thi", "CONTEST_LIST", "Gõ THAM GIA CUỘC THI để báo cáo việc dự thi với Hội", 45),
        MenuItem("Dữ liệu của tôi", "MY_DATA", "Gõ DỮ LIỆU CỦA TÔI để xem, XÓA DỮ LIỆU để xóa dữ liệu của mình", 80),
    ):
        dispatcher.add_menu_item(item)
