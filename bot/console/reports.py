"""Reports: choose a period and a unit, view the tables, download CSV or Excel (built on bot.reports.unit_report)."""

from __future__ import annotations

from flask import current_app, render_template, request

from bot.console.blueprint import bp
from bot.console.labels import unit_names
from bot.core.units import unit_within
from bot.participation.catalog import get_catalog
from bot.reports.unit_report import (
    ReportError,
    build_report,
    parse_period,
    report_tables,
)
from bot.web.auth import requires, staff_unit
from bot.web.context import clock_now, get_store


@bp.get("/reports")
@requires("report")
def reports():
    config = current_app.config
    values = {k: request.args.get(k, "").strip() for k in ("from", "to", "unit")}
    values["unit"] = values["unit"].upper()[:64]
    bound = staff_unit()
    errors: dict[str, list[str]] = {}
    if bound and not values["unit"]:
        values["unit"] = bound
    if not unit_within(values["unit"], bound):
        errors["unit"] = [f"Tài khoản chỉ xem được báo cáo của đơn vị {bound} và các đơn vị trực thuộc."]
    report = tables = None
    now = clock_now()
    period = None
    try:
        period = parse_period(values["from"] or None, values["to"] or None, config["TIMEZONE"], now)
    except ReportError as exc:
        errors["to" if "sau" in str(exc) else "from"] = [str(exc)]
    catalog = get_catalog(config)
    if period is not None and not errors:
        try:
            report = build_report(get_store(), catalog, config, period, values["unit"] or None, now=now)
        except ReportError as exc:
            errors["unit"] = [str(exc)]
        else:
            tables = report_tables(report)
            values["from"], values["to"] = report["period"]["from"], report["period"]["to"]
    names = unit_names()
    units = {code: name for code, name in names.items() if unit_within(code, bound)}
    query = {"from": values["from"] or None, "to": values["to"] or None, "unit": values["unit"] or None}
    return render_template(
        "admin/reports.html", values=values, errors=errors, report=report, tables=tables, units=units, query=query,
        sample=catalog.units.sample, bound=bound, generated=now,
    ), 400 if errors else 200
