"""The log view's plain-text parts: what the Since box means, and the file name of a download."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from core.errors import clip

_RELATIVE = re.compile(r'^(\d+(?:\.\d+)?)\s*([smhd])$')
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}


def parse_since(text: str) -> float | None:
    """'10m', '2h', '1d', '30s' ago, or a time like '2024-05-01 12:00' (UTC) → epoch seconds; '' → None."""
    text = text.strip()
    if not text:
        return None
    relative = _RELATIVE.match(text)
    if relative:
        since = time.time() - float(relative.group(1)) * _UNITS[relative.group(2)]
    else:
        try:
            moment = datetime.fromisoformat(text.replace('Z', '+00:00'))
        except ValueError:
            raise ValueError(f'"{clip(text)}" is not a time: use 10m, 2h, 1d or 2024-05-01 12:00 (UTC).') from None
        since = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return max(since, 0.0)  # before 1970 (or 10^400 days ago): from the first line on


def log_filename(names: list[str]) -> str:
    stamp = datetime.now(UTC).strftime('%Y%m%d-%H%M%S')
    prefix = names[0] if len(names) == 1 else f'{len(names)}-containers'
    return f'{re.sub(r"[^A-Za-z0-9_.-]", "_", prefix)}-logs-{stamp}.txt'
