"""Writing one content entry as YAML the way people write it, and writing files safely.

The layout keeps the field order of content/README.md, folds long answers at
sentence ends, quotes names and document numbers, and writes a file atomically
(a temporary file renamed over the old one) under a folder lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import yaml

from bot.answers.bank import ENTRY_FIELDS

_LOCK = threading.Lock()


class ContentEditError(Exception):
    """The save was refused; ``message`` says why in Vietnamese."""


def digest(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:32]


# -- writing YAML ------------------------------------------------------------------------------


class _Flow(list):
    pass


class _Quoted(str):
    pass


class _Dumper(yaml.SafeDumper):
    """The bank's layout: indented block lists, short lists in flow style."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True))
_Dumper.add_representer(_Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style='"'))

_ANSWER_TOKEN = "ANSWER-PLACEHOLDER-7f3a"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def _source_date(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if re.fullmatch(r"\d{4}", value):
            return int(value)
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    return value


def _source_value(key: str, value: Any) -> Any:
    """Dates typed; names and document numbers quoted, as the content format asks."""
    if key == "date":
        return _source_date(value)
    if key in ("name", "number") and isinstance(value, (str, int)) and not isinstance(value, bool):
        return _Quoted(str(value))
    return value


def _layout(data: dict[str, Any], *, flow_lists: bool = True) -> dict[str, Any]:
    """The entry in field order, with the values typed for the dumper."""
    out: dict[str, Any] = {}
    for key in ENTRY_FIELDS:
        if key not in data or data[key] is None or data[key] == []:
            continue
        value = data[key]
        if key in ("keywords", "related") and flow_lists and isinstance(value, list):
            value = _Flow(value)
        elif key == "sources" and isinstance(value, list):
            value = [
                {k: _source_value(k, v) for k, v in s.items() if v not in (None, "")}
                if isinstance(s, dict) else s
                for s in value
            ]
        elif key in ("reviewed", "review_by") and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = dt.date.fromisoformat(value.strip())
        out[key] = value
    for key, value in data.items():  # unknown fields are kept (the checker reports them)
        if key not in out and key not in ENTRY_FIELDS:
            out[key] = value
    return out


def _plain(value: Any) -> Any:
    """What YAML loads back, for comparing (subclasses become plain)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _folded_lines(answer: str) -> list[str]:
    """The answer as the lines of a folded (``>-``) scalar: one sentence per line,
    a blank line for each line break of the text."""
    lines: list[str] = []
    for i, paragraph in enumerate(answer.split("\n")):
        if i:
            lines.append("")
        for sentence in _SENTENCE_END.split(paragraph) if paragraph else []:
            lines.extend(textwrap.wrap(sentence, 110, break_long_words=False, break_on_hyphens=False) or [sentence])
    return lines


def render_entry(data: dict[str, Any], indent: int = 2) -> str:
    """The entry as a block-list item, indented ``indent`` spaces, ending with a newline.

    The answer is written folded, one sentence per line, as editors write it.  The
    text is loaded back and compared: if a layout choice changed a value, a plainer
    layout is used, so what is written always loads as exactly ``data``.
    """
    for folded, flow_lists in ((True, True), (False, True), (False, False)):
        laid = _layout(data, flow_lists=flow_lists)
        answer = laid.get("answer")
        manual = folded and isinstance(answer, str) and answer.strip() != ""
        if manual:
            laid["answer"] = _ANSWER_TOKEN
        text = yaml.dump([laid], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1_000_000, indent=2)
        if manual:
            body = "".join(("    " + line if line else "") + "\n" for line in _folded_lines(str(answer)))
            text = text.replace(f"  answer: {_ANSWER_TOKEN}\n", "  answer: >-\n" + body, 1)
            laid["answer"] = answer
        block = "".join((" " * indent + line) if line.strip() else line for line in text.splitlines(keepends=True))
        try:
            loaded = yaml.safe_load("entries:\n" + block)
        except yaml.YAMLError:
            continue
        if isinstance(loaded, dict) and loaded.get("entries") == [_plain(laid)]:
            return block
    raise ContentEditError("Không ghi được mục này ra YAML.")  # pragma: no cover - the plain layout always loads back


# -- locking and atomic write -------------------------------------------------------------------


@contextlib.contextmanager
def locked(content_dir: str) -> Iterator[None]:
    """One writer at a time: a thread lock, and an OS file lock for other processes."""
    path = os.path.join(tempfile.gettempdir(), f"bot-content-{digest(os.path.abspath(content_dir))[:16]}.lock")
    with _LOCK:
        with open(path, "a+b") as fh:
            try:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - Windows
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                try:
                    import fcntl

                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
                except ImportError:  # pragma: no cover - Windows
                    import msvcrt

                    fh.seek(0)
                    msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    mode = 0o644
    with contextlib.suppress(FileNotFoundError):
        mode = os.stat(path).st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


