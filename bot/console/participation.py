"""Quizzes and contests: quiz results and leaderboards, participation lists, CSV import with its report.

Built on the participation feature (bot.participation.catalog, bot.reports.unit_report, bot.participation.importer);
downloads use its JSON/CSV endpoints under /admin/api/.
"""

from __future__ import annotations

from flask import abort, current_app, g, render_template, request

from bot.console.blueprint import bp, can
from bot.console.labels import unit_names
from bot.core.units import unit_within
from bot.participation.catalog import get_catalog
from bot.participation.importer import ImportFileError, import_participation
from bot.reports.unit_report import leaderboard_rows
from bot.web.auth import audit, requires, staff_unit
from bot.web.context import clock_now, get_store

PER_PAGE = 100
QUIZ_STATES = {"open": "Đang mở", "upcoming": "Sắp mở", "closed": "Đã đóng", "scheduled": "Sắp mở"}
SOURCES = {"chat": "Tự báo qua chatbot", "import": "Danh sách nhập"}
MAX_UPLOAD = 5 * 1024 * 1024


def _lists(import_report=None, errors=None, status: int = 200):
    config = current_app.config
    catalog = get_catalog(config)
    now = clock_now()
    quizzes = []
    for quiz in catalog.quizzes.values():
        opens, closes = quiz.window(config["TIMEZONE"])
        quizzes.append({"id": quiz.id, "title": quiz.title, "questions": len(quiz.questions),
                        "status": quiz.status(now, config["TIMEZONE"]), "opens": opens, "closes": closes})
    contest = request.args.get("contest", "")
    if contest not in catalog.contests:
        contest = ""
    query = request.args.get("q", "").strip()[:100]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = get_store().participation_rows(
        contest_id=contest or None, scope_unit=staff_unit(), query=query, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    names = unit_names()
    for row in rows:
        row["unit"] = names.get(row["unit_code"] or "", row["unit_code"] or "")
        row["contest"] = catalog.contests[row["contest_id"]].name if row["contest_id"] in catalog.contests else row["contest_id"]
    args = {k: v for k, v in {"contest": contest, "q": query}.items() if v}
    return render_template(
        "admin/participation.html", quizzes=quizzes, contests=list(catalog.contests.values()), quiz_states=QUIZ_STATES,
        rows=rows, total=total, page=page, pages=max(1, -(-total // PER_PAGE)), contest=contest, q=query, args=args,
        sources=SOURCES, report=import_report, errors=errors or {}, scope=staff_unit(),
    ), status


@bp.get("/participation")
@requires("read")
def participation():
    return _lists()


@bp.post("/participation/import")
@requires("report")
def participation_import():
    """Upload a participation list (CSV); ``dry_run`` checks without saving. Shows the validation report."""
    upload = request.files.get("file")
    dry_run = request.form.get("dry_run") == "1"
    if upload is None or not upload.filename:
        return _lists(errors={"file": ["Chọn tệp CSV danh sách tham gia (cột: họ tên, điện thoại, đơn vị, cuộc thi, ngày)."]}, status=400)
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _lists(errors={"file": ["Tệp lớn quá 5 MB; chia thành nhiều tệp nhỏ hơn."]}, status=400)
    config = current_app.config
    try:
        report = import_participation(
            get_store(), get_catalog(config), data, filename=upload.filename, now=clock_now(), tz=config["TIMEZONE"],
            by=g.staff["username"], dry_run=dry_run, scope=staff_unit(),
        )
    except ImportFileError as exc:
        return _lists(errors={"file": [str(exc)]}, status=400)
    if not dry_run:
        audit("participation.import", upload.filename, f"added={len(report.added)} merged={len(report.merged)} rejected={len(report.rejected)}")
    return _lists(import_report=report)


@bp.get("/participation/quizzes/<quiz_id>")
@requires("read")
def quiz_page(quiz_id: str):
    config = current_app.config
    catalog = get_catalog(config)
    quiz = catalog.quizzes.get(quiz_id)
    if quiz is None:
        abort(404, "Không có bài thi này.")
    opens, closes = quiz.window(config["TIMEZONE"])
    leaders = None
    unit = request.args.get("unit", "").strip().upper() or None
    bound = staff_unit()
    if not unit_within(unit, bound):
        unit = bound
    if can("report"):
        leaders = leaderboard_rows(get_store(), catalog.units, quiz_id, period=None, scope=unit,
                                   limit=int(config["LEADERBOARD_SIZE"]) or 1000)
    return render_template(
        "admin/quiz.html", quiz=quiz, opens=opens, closes=closes, status=quiz.status(clock_now(), config["TIMEZONE"]),
        quiz_states=QUIZ_STATES, leaders=leaders, unit=unit or "", units=unit_names(),
        show_answers=can("content"),  # viewers and reporters do not see the answer key
    )
