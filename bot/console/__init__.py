"""The staff console: Vietnamese web pages under /admin/, one module per page group.

Login, roles, CSRF and the audit log come from :mod:`bot.web.auth`; every view here
is wrapped in ``requires(permission)``.  Pages are server-rendered (Jinja escapes
everything) and work without JavaScript; ``static/console.js`` adds the live
parts (previews, audience counts, the progress bar).  Responses under /admin
carry a strict Content-Security-Policy: scripts and styles only from the app.
"""

from __future__ import annotations

from bot.console import (  # noqa: F401  (the modules add their routes to bp)
    accounts,
    broadcasts,
    content,
    dashboard,
    inbox,
    member_page,
    members,
    participation,
    posts,
    reports,
    system,
    unanswered,
)
from bot.console.blueprint import bp  # noqa: F401
