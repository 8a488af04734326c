"""JSON endpoints for the staff console: reports, quizzes, units, contests, participation import.

Behind staff login; report data needs the "report" permission, lists "read".  A
staff account bound to a unit sees only that unit and its sub-units: asking for
another unit gets 403, asking for none gets the bound unit.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from bot.core.units import unit_within
from bot.participation.catalog import get_catalog
from bot.participation.importer import ImportFileError, import_participation
from bot.participation.units import unit_as_dict
from bot.reports.export import csv_bytes, xlsx_bytes
from bot.reports.unit_report import (
    ReportError,
    build_report,
    leaderboard_rows,
    parse_period,
    quiz_result_rows,
    report_tables,
)
from bot.web.auth import PERMISSIONS, audit, requires, staff_unit
from bot.web.context import clock_now, get_store

bp = Blueprint("participation_api", __name__, url_prefix="/admin/api")


class ScopeError(Exception):
    """The staff member asked for a unit outside their own."""


def _error(message: str, status: int = 400):
    return jsonify({"error": message}), status


def _scope(requested: str | None) -> str | None:
    """The unit a request may see: the requested one if within the staff's unit."""
    bound = staff_unit()
    requested = (requested or "").strip().upper() or None
    if bound is None:
        return requested
    if requested is None:
        return bound
    if unit_within(requested, bound):
        return requested
    raise ScopeError(f"Tài khoản chỉ xem được đơn vị {bound} và các đơn vị cấp dưới.")


@bp.errorhandler(ScopeError)
def _scope_error(exc: ScopeError):
    return _error(str(exc), 403)


@bp.errorhandler(ReportError)
def _report_error(exc: ReportError):
    return _error(str(exc), 400)


def _filename(text: str) -> str:
    """A safe download file name part: letters, digits, dot, dash, underscore (no quotes, no line breaks)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:80] or "-"


def _report() -> dict[str, Any]:
    config = current_app.config
    now = clock_now()
    period = parse_period(request.args.get("from"), request.args.get("to"), config["TIMEZONE"], now)
    return build_report(get_store(), get_catalog(config), config, period, _scope(request.args.get("unit")), now=now)


@bp.get("/reports/summary")
@requires("report")
def report_summary():
    """The whole periodic report of a unit (?unit=&from=&to=)."""
    return jsonify(_report())


@bp.get("/reports/leaderboard")
@requires("report")
def report_leaderboard():
    """?quiz=ID[&unit=&from=&to=&limit=]: best attempt per member, score desc then time asc."""
    config = current_app.config
    quiz_id = request.args.get("quiz") or ""
    catalog = get_catalog(config)
    if not quiz_id:
        return _error("Cần tham số quiz (mã bài thi).")
    period = None
    if request.args.get("from") or request.args.get("to"):
        period = parse_period(request.args.get("from"), request.args.get("to"), config["TIMEZONE"], clock_now())
    limit = request.args.get("limit", type=int)
    rows = leaderboard_rows(get_store(), catalog.units, quiz_id, period=period, scope=_scope(request.args.get("unit")),
                            limit=int(config["LEADERBOARD_SIZE"]) if limit is None else max(limit, 0))
    quiz = catalog.quizzes.get(quiz_id)
    return jsonify({"quiz_id": quiz_id, "title": quiz.title if quiz else quiz_id, "rows": rows})


@bp.get("/reports/commendations")
@requires("report")
def report_commendations():
    return jsonify(_report()["commendations"])


@bp.get("/reports/export")
@requires("report")
def report_export():
    """?format=xlsx (every section, one sheet each) or ?format=csv&section=tong-hop (one section)."""
    report = _report()
    tables = report_tables(report)
    name = _filename(f"bao-cao_{report['unit']['code'] or 'toan-hoi'}_{report['period']['from']}_{report['period']['to']}")
    audit("report.export", report["unit"]["code"] or "", f"{report['period']['from']}..{report['period']['to']}")
    if request.args.get("format", "xlsx") == "xlsx":
        return Response(xlsx_bytes(tables, report), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    section = request.args.get("section", "tong-hop")
    table = next((t for t in tables if t.key == section), None)
    if table is None:
        return _error(f"Không có mục {section} (có: {', '.join(t.key for t in tables)}).")
    return Response(csv_bytes(table.headers, table.rows, table.total), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}_{section}.csv"'})


@bp.get("/quizzes")
@requires("read")
def quizzes():
    config = current_app.config
    now = clock_now()
    out = []
    for quiz in get_catalog(config).quizzes.values():
        opens, closes = quiz.window(config["TIMEZONE"])
        out.append({"id": quiz.id, "title": quiz.title, "questions": len(quiz.questions), "status": quiz.status(now, config["TIMEZONE"]),
                    "opens": opens, "closes": closes, "attempts_allowed": quiz.attempts_allowed})
    return jsonify(out)


@bp.get("/quizzes/<quiz_id>")
@requires("read")
def quiz_detail(quiz_id: str):
    quiz = get_catalog(current_app.config).quizzes.get(quiz_id)
    if quiz is None:
        return _error("Không có bài thi này.", 404)
    # the answer key (and the explanation that gives it away) only for those who edit content
    keys = g.staff["role"] in PERMISSIONS["content"]
    questions = []
    for q in quiz.questions:
        item = {"id": q.id, "text": q.text, "choices": list(q.choices), "source": q.source, "time_limit_seconds": q.time_limit}
        if keys:
            item.update(correct=q.choices[q.correct], explanation=q.explanation)
        questions.append(item)
    return jsonify({"id": quiz.id, "title": quiz.title, "description": quiz.description, "questions": questions})


@bp.get("/quizzes/<quiz_id>/results")
@requires("report")
def quiz_results(quiz_id: str):
    """Every attempt (channel, platform id, unit, score, duration); ?format=csv for a file."""
    if quiz_id not in get_catalog(current_app.config).quizzes:
        return _error("Không có bài thi này.", 404)  # the id goes into a file name: only known ones
    headers, rows = quiz_result_rows(get_store(), get_catalog(current_app.config).units, quiz_id, _scope(request.args.get("unit")),
                                    tz=current_app.config["TIMEZONE"])
    if request.args.get("format") == "csv":
        return Response(csv_bytes(headers, rows), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="ket-qua_{_filename(quiz_id)}.csv"'})
    return jsonify({"quiz_id": quiz_id, "columns": headers, "rows": rows})


@bp.get("/units")
@requires("read")
def units():
    tree = get_catalog(current_app.config).units
    scope = _scope(request.args.get("unit"))
    return jsonify({"sample": tree.sample, "units": [unit_as_dict(tree, u) for u in tree.units.values() if tree.is_within(u.code, scope)]})


@bp.get("/contests")
@requires("read")
def contests():
    return jsonify([c.as_dict() for c in get_catalog(current_app.config).contests.values()])


@bp.post("/participation/import")
@requires("report")
def participation_import():
    """Multipart upload (field ``file``; ``dry_run=1`` to check only): the validation report."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _error("Cần tệp CSV (trường file).")
    config = current_app.config
    dry_run = (request.form.get("dry_run") or request.args.get("dry_run") or "").lower() in ("1", "true", "yes")
    try:
        report = import_participation(
            get_store(), get_catalog(config), upload.read(), filename=upload.filename, now=clock_now(), tz=config["TIMEZONE"],
            by=g.staff["username"], dry_run=dry_run, scope=staff_unit(),
        )
    except ImportFileError as exc:
        return _error(str(exc))
    if not dry_run:
        audit("participation.import", upload.filename, f"added={len(report.added)} merged={len(report.merged)} rejected={len(report.rejected)}")
    return jsonify(report.as_dict())
