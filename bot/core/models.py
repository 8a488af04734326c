"""Channel-neutral data: what came in (Event), what goes out (Reply), send outcomes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The local channels staff test with (the simulator page, `flask chat`): never counted in any figure.
TEST_CHANNELS = ("simulator", "console")

# Event kinds the dispatcher understands.
TEXT = "text"  # a member typed something (or tapped a quick reply / button)
POSTBACK = "postback"  # Messenger postback button, e.g. GET_STARTED
FOLLOW = "follow"  # Zalo OA follow
UNFOLLOW = "unfollow"  # Zalo OA unfollow
UNSUPPORTED = "unsupported"  # image, sticker, file...: we answer text only
SUBMIT_INFO = "submit_info"  # Zalo user_submit_info (name/phone shared by the member)
DELIVERY = "delivery"  # delivery receipt: updates message status
READ = "read"  # read receipt: updates message status
ECHO = "echo"  # the platform's copy of a message we sent: confirms an in-flight send

# Receipt and echo events: applied where the webhook is acknowledged (cheap updates of the
# outbox), never queued behind conversations, never creating a member.
DELIVERY_EVENTS = (DELIVERY, READ, ECHO)

# Channels whose platform reports delivery and reading; the others (Zalo Bot, web chat)
# cannot say, and reports show "không hỗ trợ" for them rather than zero.
RECEIPT_CHANNELS = ("messenger", "zalo")

# The reference our Messenger sends carry in message.metadata (echoed back): "outbox:<row id>".
ECHO_REF_PREFIX = "outbox:"


@dataclass
class Event:
    """One inbound event, parsed from a platform payload."""

    channel: str
    kind: str
    user_id: str  # platform user id: PSID, Zalo OA user id, Zalo Bot chat/user id
    event_key: str  # unique per channel: mid / msg_id / message_id or a hash
    timestamp: float = 0.0  # epoch seconds
    text: str = ""
    payload: str | None = None  # quick reply / postback / button payload
    group_id: str | None = None  # set for group messages
    addressed: bool = True  # in a group: mentioned, a reply to the bot, or "?"/"/hỏi"
    display_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        return self.group_id is not None

    def to_dict(self) -> dict[str, Any]:
        # not dataclasses.asdict: it deep-copies, and this runs on every webhook
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(**data)


@dataclass
class Choice:
    """A tappable option: quick reply (Messenger), button (Zalo OA), numbered line elsewhere."""

    title: str
    payload: str


@dataclass
class Reply:
    """What the bot says, before a channel renders it."""

    text: str
    choices: list[Choice] = field(default_factory=list)
    image_url: str | None = None
    link: tuple[str, str] | None = None  # (title, url): one link button

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "choices": [asdict(c) for c in self.choices],
            "image_url": self.image_url,
            "link": list(self.link) if self.link else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        link = data.get("link")
        return cls(
            text=data["text"],
            choices=[Choice(**c) for c in data.get("choices") or []],
            image_url=data.get("image_url"),
            link=(link[0], link[1]) if link else None,
        )


@dataclass
class SendResult:
    """A send that the platform accepted."""

    message_id: str | None


class SendError(Exception):
    """A send that failed, classified for the outbox.

    ``retry``: try again later (network, 5xx, rate limit).  ``unreachable``: the member
    cannot be messaged on this channel any more (blocked, unfollowed...).  ``auth``: the
    channel's token is bad (Zalo -216/-220): refresh and retry once.  ``uncertain``: the
    request was sent but no answer came back (read timeout): it may have been delivered.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        subcode: str | None = None,
        retry: bool = False,
        unreachable: str | None = None,
        auth: bool = False,
        retry_after: float | None = None,
        reason: str | None = None,
        uncertain: bool = False,
    ):
        super().__init__(f"{code}{'/' + subcode if subcode else ''}: {message}")
        self.code = str(code)
        self.subcode = subcode
        self.message = message
        self.retry = retry
        self.unreachable = unreachable
        self.auth = auth
        self.retry_after = retry_after
        # a short machine reason for reports, e.g. "outside_window", "out_of_quota"
        self.reason = reason
        # the request may have reached the platform (a read timeout after sending):
        # never retried automatically, staff decide (it could reach the member twice)
        self.uncertain = uncertain


class SignatureError(Exception):
    """The request is not signed by the platform."""


class PayloadError(ValueError):
    """The request body is not a payload we can read (bad JSON, wrong shape)."""
