"""Move the wall clock ahead for a whole test run, subprocesses included.

CI runs the suite a second time with ``PYTHONPATH=tests/timeshift`` and
``BOT_TEST_SHIFT_DAYS=400``: Python imports this module at start-up in the test
process and in every Python process the tests start (the server under test), and
all of them see the wall clock (time.time, datetime.now, date.today…) that many
days ahead, still ticking.  Monotonic clocks, sleeps and timeouts stay real.  A
test or a content file that works only before some date then fails the day it
is written, not the day the date passes.

Why not libfaketime: with Python 3.11 it either breaks ``time.sleep`` (EINVAL,
when the monotonic clock is left alone) or makes timed waits on locks hang
(when it is shifted too).
"""

import os

_days = os.environ.get("BOT_TEST_SHIFT_DAYS")
if _days:
    import datetime as _dt

    import time_machine as _tm

    _traveller = _tm.travel(_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=float(_days)), tick=True)
    _traveller.start()
