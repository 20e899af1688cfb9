"""Device names on the sessions page, from real User-Agent headers."""

from __future__ import annotations

import pytest

from gradio_portal.auth.devices import describe_user_agent


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/140.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/140.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox on Linux",
        ),
        ("python-httpx/0.28.1", "Python"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        ("   ", "Unknown device"),
        ("SomeBot", "SomeBot"),
    ],
)
def test_known_agents_get_a_readable_name(agent: str, device: str) -> None:
    assert describe_user_agent(agent) == device


def test_unknown_long_agents_are_cut_short() -> None:
    assert len(describe_user_agent("x" * 5000)) == 60
