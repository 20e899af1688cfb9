"""Login throttling per account and per client address (the `limits` library).

In one process the counters live in memory; with Redis configured they are shared, so a
brute force spread across processes is still counted once.
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

__all__ = ["LoginThrottle"]


class LoginThrottle:
    def __init__(self, *, per_account: str, per_address: str, redis_url: str | None = None) -> None:
        storage: Storage = RedisStorage(redis_url) if redis_url else MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account: RateLimitItem = parse(per_account)
        self._per_address: RateLimitItem = parse(per_address)

    def allowed(self, account: str, address: str) -> bool:
        """True when another attempt may be checked now (does not count one)."""
        return self._limiter.test(self._per_account, "account", account) and self._limiter.test(
            self._per_address, "address", address
        )

    def failed(self, account: str, address: str) -> None:
        """Count a failed attempt against both the account and the address."""
        self._limiter.hit(self._per_account, "account", account)
        self._limiter.hit(self._per_address, "address", address)

    def retry_after(self, account: str, address: str) -> int:
        """Seconds until the next attempt may succeed."""
        import time

        resets = [
            self._limiter.get_window_stats(self._per_account, "account", account).reset_time,
            self._limiter.get_window_stats(self._per_address, "address", address).reset_time,
        ]
        return max(1, int(max(resets) - time.time()) + 1)

    def reset(self, account: str) -> None:
        """Forget an account's failures after a successful login."""
        self._limiter.clear(self._per_account, "account", account)
