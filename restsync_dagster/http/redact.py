"""Keeping secrets out of messages and logs.

Three layers, all by default: values registered in a :class:`~restsync_dagster.secrets.Secrets`
are masked wherever they appear; query parameters whose *name* looks secret (``api_key``,
``access_token``, ``signature`` …) are masked in every URL we print; and the DEBUG traces of
``httpcore``, which print raw response headers before we could learn a cookie's value, get their
credential-bearing headers (``Set-Cookie``, ``Authorization`` …) masked by name.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit, quote

from ..secrets import MASK, Secrets

SECRET_NAME = re.compile(
    r"key|token|secret|passw|pwd|signature|^sig$|credential|session|auth|cookie", re.IGNORECASE
)
_QUERY_PARAM = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&#\s\"'<>]+)=(?P<value>[^&#\s\"'<>]*)")
_HEADER_TUPLE = re.compile(r"\((?P<q>b?)'(?P<name>[^']+)', b?'(?:[^'\\]|\\.)*'\)")
_HEADER_LINE = re.compile(r"(?im)^(?P<name>(?:set-)?cookie|authorization|proxy-authorization|x-api-key)\s*:\s*.*$")


def sanitize_url(url: object, secrets: Secrets | None = None) -> str:
    """``url`` with secret-looking query values and any userinfo password replaced by ``***``."""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return _scrub_text(text, secrets)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(
            f"{quote(k, safe='')}={MASK if SECRET_NAME.search(k) else quote(v, safe=':/,@')}" for k, v in pairs
        )
    out = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return secrets.redact(out) if secrets is not None else out


def _scrub_text(text: str, secrets: Secrets | None) -> str:
    """Mask secret-named query values and credential headers found anywhere in free text."""
    if "=" in text:
        text = _QUERY_PARAM.sub(
            lambda m: f"{m['sep']}{m['name']}={MASK}" if SECRET_NAME.search(m["name"]) else m.group(0), text
        )
    if "'" in text:
        text = _HEADER_TUPLE.sub(
            lambda m: f"({m['q']}'{m['name']}', b'{MASK}')" if SECRET_NAME.search(m["name"]) else m.group(0), text
        )
    if ":" in text:
        text = _HEADER_LINE.sub(lambda m: f"{m['name']}: {MASK}", text)
    return secrets.redact(text) if secrets is not None else text


def scrub(text: object, secrets: Secrets | None = None) -> str:
    """Free text made safe to print: credential headers, secret-named params and secret values masked."""
    return _scrub_text(str(text), secrets)


def excerpt(text: str, secrets: Secrets | None, limit: int = 200) -> str:
    """A short single-line excerpt of a response body for an error message, redacted."""
    flat = " ".join(text.split())
    flat = scrub(flat, secrets)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class RedactingFilter(logging.Filter):
    """The one log filter: rewrites each record into a scrubbed, pre-formatted message.

    Credential headers and secret-named parameters are masked by name; the values of ``secrets``
    (when given) by value. Each open client attaches one for its registry and removes it on close.
    """

    def __init__(self, secrets: Secrets | None = None):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            message = str(record.msg)
        record.msg = _scrub_text(message, self.secrets)
        record.args = ()
        return True


SCRUBBED_LOGGERS = (
    "restsync.http",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def install_log_scrubber(secrets: Secrets | None = None) -> RedactingFilter:
    """Attach a filter for ``secrets`` to our logger and to httpx/httpcore's (a filter on a logger
    only sees records created at that exact logger, so each child logger gets it)."""
    scrubber = RedactingFilter(secrets)
    for name in SCRUBBED_LOGGERS:
        logging.getLogger(name).addFilter(scrubber)
    return scrubber


def remove_log_scrubber(scrubber: RedactingFilter) -> None:
    for name in SCRUBBED_LOGGERS:
        logging.getLogger(name).removeFilter(scrubber)
