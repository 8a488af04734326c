"""The website chat channel: visitors of the union's website talk to the bot.

Like the local channels, its messages stay in the database and the chat page
reads them back (``/chat/api/messages``); unlike the simulator it is a real
channel, named "web", counted in reports.  A visitor is an anonymous random id
kept in a signed cookie (or the same signed token sent by the embed script).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.local import LocalChannel


class WebChannel(LocalChannel):
    """Messages to website visitors: rendered with tappable choices, read back by the page."""

    def __init__(self, config: Mapping[str, Any]):
        super().__init__("web", config, buttons=True)
        self.label = "Trang web"
