"""The messaging platforms, one module each; ``build_channels`` creates them all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from bot.channels.base import Channel
from bot.channels.messenger import MessengerChannel
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOAChannel
from bot.channels.zalo_tokens import TokenStore, ZaloTokenManager
from bot.core.clock import SYSTEM_CLOCK, Clock

CHANNEL_NAMES = ("messenger", "zalo", "zalo_bot")


def build_channels(
    config: Mapping[str, Any],
    store_factory: Callable[[], TokenStore],
    session: requests.Session | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Channel]:
    """Every platform channel, enabled or not (callers check ``.enabled``).

    ``store_factory`` opens a new store (bot.storage.store.Store): the Zalo token manager uses one per refresh,
    from whichever thread sends.
    """
    tokens = ZaloTokenManager(config, store_factory, session=session, clock=clock.now)
    return {
        "messenger": MessengerChannel(config, session),
        "zalo": ZaloOAChannel(config, session, tokens=tokens),
        "zalo_bot": ZaloBotChannel(config, session),
    }
