"""Password hashing (argon2id through pwdlib), with a dummy hash against user enumeration."""

from __future__ import annotations

import os
import threading

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

__all__ = ["PasswordHasher"]

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class PasswordHasher:
    """Hashes and verifies passwords; :meth:`verify_none` spends the same time as a check."""

    def __init__(self, concurrency: int | None = None) -> None:
        self._hash = PasswordHash((Argon2Hasher(),))
        # Each argon2 check takes 64 MiB and ~100 ms of a core: a burst of sign-ins must
        # queue here rather than take gigabytes at once.
        self._slots = threading.BoundedSemaphore(concurrency or max(2, os.cpu_count() or 2))
        # Verifying against this when the user does not exist makes the response to an
        # unknown name take as long as the one to a wrong password.
        self._dummy = self._hash.hash("gradio-portal dummy password")

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hash.hash(password)

    def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """Check ``password``; return (valid, a rehash to store when parameters changed)."""
        with self._slots:
            if hashed is None:
                self._hash.verify(password, self._dummy)
                return False, None
            return self._hash.verify_and_update(password, hashed)

    def verify_none(self, password: str) -> None:
        """Spend a verification's time for a user that does not exist."""
        with self._slots:
            self._hash.verify(password, self._dummy)


def check_password_policy(password: str) -> None:
    """Raise ValueError with a readable reason when ``password`` is unacceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"passwords have at most {MAX_PASSWORD_LENGTH} characters")
