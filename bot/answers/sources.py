"""Source tiers: which web sites an answer may cite (content/sources.yaml).

The rules, as the file's own comment states them:

- a host matches a listed domain when it is that domain or a subdomain of it
  ("m.vietnamnet.vn" matches "vietnamnet.vn"; "baochinhphu.vn" does not match "chinhphu.vn");
- "www.", a port and a trailing dot are dropped, and hosts are compared in lower case;
- the forbidden list and ``forbidden_host_contains`` are looked at first; then the
  longest (most specific) listed domain decides the tier; then the suffix rules;
  a host that matches nothing is unknown (a warning, not an error).

Pure: no Flask, no storage.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

FORBIDDEN = "forbidden"
UNKNOWN = "unknown"
TIERS = ("T1", "T2", "T3", "T4")
SHOWN_TIERS = ("T1", "T2", "T3")  # T4 is for staff cross-checking only: never shown to members
SOURCES_FILE = "sources.yaml"
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "content" / SOURCES_FILE


class SourcesFileError(ValueError):
    """content/sources.yaml is missing or not in the expected shape."""


def clean_host(host: str) -> str:
    """Lower case, without port, trailing dot or a leading "www."."""
    host = (host or "").strip().lower()
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    if host.startswith("[") and "]" in host:  # an IPv6 literal
        return host[1 : host.index("]")]
    host = host.split(":", 1)[0].rstrip(".")
    host = host.removeprefix("www.")
    return host


def host_of(url: str) -> str:
    """The cleaned host of a URL ('' when it has none)."""
    try:
        return clean_host(urlsplit((url or "").strip()).netloc)
    except ValueError:
        return ""


def _matches(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


@dataclass(frozen=True)
class SourceRules:
    """The allow and deny lists of content/sources.yaml."""

    domains: dict[str, str] = field(default_factory=dict)  # domain -> T1..T4
    forbidden: tuple[str, ...] = ()
    forbidden_contains: tuple[str, ...] = ()
    suffixes: tuple[tuple[str, str], ...] = ()  # (".gov.vn", "T3")
    path: str = ""
    # host -> tier, filled as hosts are looked up: the rules never change once loaded (a
    # changed file gives new rules), and every quiz answer and cited answer asks again
    _tiers: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def tier_of_host(self, host: str) -> str:
        """T1..T4, ``forbidden`` or ``unknown`` for a host."""
        tier = self._tiers.get(host)
        if tier is None:
            tier = self._tier_of_host(host)
            if len(self._tiers) < 10_000:  # hosts come from the content files: a few hundred
                self._tiers[host] = tier
        return tier

    def _tier_of_host(self, host: str) -> str:
        host = clean_host(host)
        if not host:
            return UNKNOWN
        if any(_matches(host, d) for d in self.forbidden) or any(s in host for s in self.forbidden_contains):
            return FORBIDDEN
        best = ""
        for domain in self.domains:
            if _matches(host, domain) and len(domain) > len(best):
                best = domain
        if best:
            return self.domains[best]
        for suffix, tier in self.suffixes:
            if host.endswith(suffix):
                return tier
        return UNKNOWN

    def tier_of_url(self, url: str | None) -> str | None:
        """The tier of a source's URL; None for a source without one."""
        if not url:
            return None
        return self.tier_of_host(host_of(url))

    def shown(self, url: str | None) -> bool:
        """May a source with this URL be shown to members? (No URL, T1–T3 or unknown: yes.)"""
        return self.tier_of_url(url) not in ("T4", FORBIDDEN)


def _domain_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SourcesFileError(f"{where} phải là danh sách tên miền")
    return [clean_host(v) for v in value]


def parse_rules(data: Any, path: str = "") -> SourceRules:
    """SourceRules from the loaded YAML of sources.yaml; SourcesFileError when it is malformed."""
    if not isinstance(data, dict):
        raise SourcesFileError(f"{path}: cần các mục tiers:, forbidden:")
    tiers = data.get("tiers") or {}
    if not isinstance(tiers, dict):
        raise SourcesFileError(f"{path}: tiers phải gồm T1, T2, T3, T4")
    domains: dict[str, str] = {}
    for tier, items in tiers.items():
        if tier not in TIERS:
            raise SourcesFileError(f"{path}: hạng nguồn lạ '{tier}' (chỉ có {', '.join(TIERS)})")
        for domain in _domain_list(items, f"{path}: tiers.{tier}"):
            domains.setdefault(domain, tier)
    suffixes = []
    raw_suffixes = data.get("suffixes") or {}
    if not isinstance(raw_suffixes, dict):
        raise SourcesFileError(f"{path}: suffixes phải có dạng T3: [.gov.vn]")
    for tier, items in raw_suffixes.items():
        if tier not in TIERS:
            raise SourcesFileError(f"{path}: hạng nguồn lạ '{tier}' trong suffixes")
        for suffix in _domain_list(items, f"{path}: suffixes.{tier}"):
            suffixes.append(("." + suffix.lstrip("."), tier))
    contains = data.get("forbidden_host_contains") or []
    if not isinstance(contains, list) or not all(isinstance(v, str) and v.strip() for v in contains):
        raise SourcesFileError(f"{path}: forbidden_host_contains phải là danh sách chuỗi")
    return SourceRules(
        domains=domains,
        forbidden=tuple(_domain_list(data.get("forbidden"), f"{path}: forbidden")),
        forbidden_contains=tuple(v.strip().lower() for v in contains),
        suffixes=tuple(sorted(suffixes, key=lambda s: -len(s[0]))),
        path=path,
    )


def rules_path(content_dir: str | os.PathLike[str] | None) -> Path:
    """The content folder's sources.yaml, else the shipped one."""
    if content_dir is not None:
        own = Path(content_dir) / SOURCES_FILE
        if own.is_file():
            return own
    return DEFAULT_FILE


_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int], SourceRules]] = {}


def load_rules(content_dir: str | os.PathLike[str] | None = None) -> SourceRules:
    """The source rules for a content folder (cached until the file changes)."""
    path = rules_path(content_dir)
    try:
        st = path.stat()
    except OSError:
        raise SourcesFileError(f"không có tệp danh mục nguồn {path}") from None
    key, sig = str(path), (st.st_mtime_ns, st.st_size)
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached[0] == sig:
            return cached[1]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SourcesFileError(f"{path}: không đọc được: {exc}") from None
    rules = parse_rules(data, str(path))
    with _cache_lock:
        _cache[key] = (sig, rules)
    return rules
