"""Login throttling per account and per client address (the `limits` library).

In one process the counters live in memory; with Redis configured they are shared, so a
brute force spread across processes is still counted once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from gradio_portal._errors import SessionStoreError
from gradio_portal.users import normalize_username

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """Counts failed sign-ins; :meth:`allowed` says whether another may be tried now.

    A Redis outage fails closed: the error surfaces as :class:`SessionStoreError`, which the
    portal answers with 503, rather than letting unthrottled guesses through.
    """

    def __init__(
        self,
        *,
        per_account: str,
        per_address: str,
        redis_url: str | None = None,
        key_prefix: str = "gradio_portal:login",
    ) -> None:
        storage: Storage = (
            RedisStorage(redis_url, key_prefix=key_prefix, wrap_exceptions=True)
            if redis_url
            else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account: RateLimitItem = parse(per_account)
        self._per_address: RateLimitItem = parse(per_address)

    def allowed(self, account: str, address: str) -> bool:
        """True when another attempt may be checked now (does not count one)."""
        with _unavailable():
            return self._limiter.test(
                self._per_account, "account", _account_key(account)
            ) and self._limiter.test(self._per_address, "address", address)

    def failed(self, account: str, address: str) -> None:
        """Count a failed attempt against both the account and the address."""
        with _unavailable():
            self._limiter.hit(self._per_account, "account", _account_key(account))
            self._limiter.hit(self._per_address, "address", address)

    def retry_after(self, account: str, address: str) -> int:
        """Seconds until the next attempt may succeed (only exhausted limits count)."""
        resets = [time.time()]
        with _unavailable():
            for item, kind, key in (
                (self._per_account, "account", _account_key(account)),
                (self._per_address, "address", address),
            ):
                stats = self._limiter.get_window_stats(item, kind, key)
                if stats.remaining <= 0:
                    resets.append(stats.reset_time)
        return max(1, int(max(resets) - time.time()) + 1)

    def reset(self, account: str) -> None:
        """Forget an account's failures after a successful login."""
        with _unavailable():
            self._limiter.clear(self._per_account, "account", _account_key(account))


def _account_key(account: str) -> str:
    # The spelling sign-in resolves to one account (NFKC, case-folded): while "alice" is
    # locked out, its full-width spelling (which signs in as alice) is too.
    return normalize_username(account)[:256]


@contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except StorageError as exc:
        raise SessionStoreError(
            "the login throttle's Redis is unreachable; check GRADIO_PORTAL_REDIS_URL"
        ) from exc
