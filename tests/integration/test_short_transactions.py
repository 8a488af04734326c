"""Short write transactions (issue 11, B): the participation import and the nightly purge."""

from __future__ import annotations

import contextlib
import re

import pytest

from bot.participation.catalog import get_catalog
from bot.participation.importer import import_participation
from bot.participation.privacy import run_purge
from tests import dbcheck
from tests.participation_support import content_app, make_content

HEADER = "Họ và tên,Số điện thoại,Đơn vị,Cuộc thi,Ngày,Kết quả\n"
DAY = 86400.0


@pytest.fixture
def app(httpserver, db_path, tmp_path, clock):
    return content_app(httpserver, db_path, clock, make_content(tmp_path / "content"))


@contextlib.contextmanager
def traced(store):
    """Every SQL statement run on ``store``'s connection."""
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        store.db.conn.set_trace_callback(None)


def full_scans(store, statements, names) -> list[str]:
    """Statements among ``statements`` whose plan scans a table (or alias) in ``names`` without an index."""
    found = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            continue
        plan = " | ".join(str(r[3]) for r in dbcheck.execute(store, "EXPLAIN QUERY PLAN " + sql).fetchall())
        if any(m.group(1) in names for m in re.finditer(r"\bSCAN (\w+)", plan)):
            found.append(f"{sql}  ->  {plan}")
    return found


def plan_of(store, sql: str) -> str:
    return " | ".join(str(r[3]) for r in dbcheck.execute(store, "EXPLAIN QUERY PLAN " + sql).fetchall())


def rows(n: int) -> str:
    lines = [
        f"Nguyễn Thị Số {'ABCDEFGHIK'[i % 10]}{'ABCDEFGHIK'[i // 10 % 10]}{'ABCDEFGHIK'[i // 100 % 10]},"
        f"09{i:08d},CT.LAIHOA,to-quoc-ben-bo-song-2022,15/08/2022,"
        for i in range(n)
    ]
    return HEADER + "\n".join(lines) + "\n"


def run_import(app, store, text: str, **kwargs):
    return import_participation(store, get_catalog(app.config), text.encode("utf-8"), filename="ds.csv",
                                now=app.extensions["bot"].clock.now(), tz=app.config["TIMEZONE"], **kwargs)


def test_a_dry_run_writes_nothing(app, store):
    with traced(store) as statements:
        report = run_import(app, store, rows(30), dry_run=True)
    assert len(report.added) == 30
    writes = [s for s in statements if s.lstrip().upper().startswith(("BEGIN", "INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert dbcheck.value(store, "SELECT count(*) FROM participations") == 0


def test_an_import_writes_in_short_transactions_and_its_duplicate_check_uses_indexes(app, store):
    run_import(app, store, rows(50))  # rows already there: the second import finds them
    with traced(store) as statements:
        report = run_import(app, store, rows(1200))
    assert len(report.merged) == 50 and len(report.added) == 1150
    assert sum(1 for s in statements if s.startswith("BEGIN")) >= 3  # 500 rows per transaction
    lookups = [s for s in statements if "FROM participations" in s or "JOIN participations" in s]
    assert lookups and full_scans(store, lookups, {"participations", "p"}) == []
    for sql in lookups:  # found by phone (or name and unit), not by walking the whole contest
        plan = plan_of(store, sql)
        assert ("phone=?" in plan or "full_name=?" in plan) and "(contest_id=?)" not in plan, (sql, plan)


def test_the_nightly_purge_erases_member_by_member_through_indexes(app, store, clock):
    services = app.extensions["bot"]
    now = clock.now()
    for i in range(3):
        member, _ = store.touch_member("zalo", f"Z{i}", at=now - 800 * DAY)
        dbcheck.execute(store, "UPDATE members SET full_name = 'Lê Thị A', phone = ? WHERE id = ?", [f"090000000{i}", member["id"]])
    with traced(store) as statements:
        from bot.participation import privacy

        erased = privacy.purge_silent_members(store, services.config, now)
    assert erased == 3
    assert sum(1 for s in statements if s.startswith("BEGIN")) >= 3  # one short transaction per member
    erase = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert full_scans(store, erase, {"inbox", "outbox", "questions", "participations", "o", "p"}) == []
    inbox_updates = [plan_of(store, sql) for sql in erase if sql.startswith("UPDATE inbox")]
    assert inbox_updates and all("inbox_user" in plan for plan in inbox_updates)  # not every event of the channel
    assert run_purge(services) == 0  # nothing left; the job itself opens no long transaction


def test_the_nightly_purge_prunes_old_inbox_and_outbox_rows(app, store, clock):
    from bot.core.models import Event
    from tests.integration.test_members_first import _text_events

    services = app.extensions["bot"]
    now = clock.now()
    old, recent = now - 401 * DAY, now - 10 * DAY
    store.add_inbound([(e, {}) for e in _text_events("messenger", 2)], at=old)
    store.add_inbound([(Event(channel="messenger", kind="text", user_id="U9", event_key="new"), {})], at=recent)
    dbcheck.execute(store, "UPDATE inbox SET status = 'done'")
    store.add_inbound([(Event(channel="messenger", kind="text", user_id="U8", event_key="waiting"), {})], at=old)
    [sent_old] = store.enqueue(channel="messenger", recipient="U1", messages=[{"text": "a"}], at=old)
    store.mark_sent(sent_old, platform_message_id="m", at=old)
    [pending_old] = store.enqueue(channel="messenger", recipient="U2", messages=[{"text": "b"}], at=old)
    [sent_new] = store.enqueue(channel="messenger", recipient="U3", messages=[{"text": "c"}], at=recent)
    store.mark_sent(sent_new, platform_message_id="m2", at=recent)
    run_purge(services)
    keys = sorted(r["event_key"] for r in dbcheck.rows(store, "SELECT event_key FROM inbox"))
    assert keys == ["new", "waiting"]  # old handled events go; pending ones stay
    assert store.get_outbound(sent_old) is None
    assert store.get_outbound(pending_old) is not None and store.get_outbound(sent_new) is not None
