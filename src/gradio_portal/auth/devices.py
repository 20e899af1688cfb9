"""A readable device name from a User-Agent header, for the sessions page.

A short ordered table instead of a parser library: users only need to tell their own
devices apart ("Firefox on Windows"), and an unknown agent still shows, truncated.
"""

from __future__ import annotations

import re

__all__ = ["describe_user_agent"]

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Firefox", re.compile(r"\bFirefox/|\bFxiOS/")),
    ("Chrome", re.compile(r"\b(?:Headless)?Chrome/|\bCriOS/|\bChromium/")),
    ("Safari", re.compile(r"\bSafari/")),
    ("curl", re.compile(r"^curl/")),
    ("Python", re.compile(r"^python-|^httpx/|^python/", re.IGNORECASE)),
)
_SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
)
_MAX_RAW = 60


def describe_user_agent(user_agent: str) -> str:
    """``"Firefox on Windows"``, ``"Chrome"``, or the raw header cut short when unknown.

    >>> describe_user_agent("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0")
    'Firefox on Linux'
    """
    agent = user_agent.strip()
    if not agent:
        return "Unknown device"
    browser = next((name for name, pattern in _BROWSERS if pattern.search(agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system or ""
    return agent if len(agent) <= _MAX_RAW else agent[: _MAX_RAW - 1] + "…"
