"""Sessions in Redis, for several portal processes sharing one session space."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gradio_portal._errors import ConfigurationError, SessionStoreError

try:
    import redis
    from redis.exceptions import RedisError
except ModuleNotFoundError as exc:  # the redis extra is not installed
    if exc.name != "redis":
        raise
    raise ConfigurationError(
        "sessions in Redis (GRADIO_PORTAL_REDIS_URL) need the redis package, which is not "
        "installed: run `pip install 'gradio-portal[redis]'`"
    ) from exc

from gradio_portal.sessions.base import SessionRecord, hash_token, new_token
from gradio_portal.users.user import User

__all__ = ["RedisSessionStore"]

# Each data key is its own hash field ("d:<name>"), so concurrent writers of different keys
# never overwrite each other. The script refuses to resurrect a deleted session.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i - 1], ARGV[i]) end
for _, field in ipairs(cjson.decode(ARGV[#ARGV])) do redis.call('HDEL', KEYS[1], field) end
return redis.call('HGETALL', KEYS[1])
"""
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1]) end
return 0
"""


class RedisSessionStore:
    """A :class:`~gradio_portal.sessions.SessionStore` in Redis.

    Sessions expire in Redis after ``ttl`` seconds (the absolute timeout), so nothing piles
    up; the portal applies the idle timeout itself.
    """

    def __init__(self, url: str, *, ttl: int, prefix: str = "gradio_portal") -> None:
        self.client: redis.Redis = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
        self.ttl = ttl
        self.prefix = prefix
        self._update = self.client.register_script(_UPDATE)
        self._touch = self.client.register_script(_TOUCH)

    def _session_key(self, key: str) -> str:
        return f"{self.prefix}:session:{key}"

    def _user_key(self, user_id: int) -> str:
        return f"{self.prefix}:user-sessions:{user_id}"

    def create(
        self,
        user: User,
        *,
        data: Mapping[str, Any],
        now: float,
        user_agent: str,
        address: str,
        token: str | None = None,
    ) -> tuple[str, SessionRecord]:
        token = token or new_token()
        key = hash_token(token)
        fields: dict[str | bytes, str | bytes] = {
            "user": json.dumps(
                [user.id, user.username, user.display_name, list(user.roles), list(user.groups)]
            ),
            "created_at": repr(now),
            "last_seen_at": repr(now),
            "user_agent": user_agent[:256],
            "address": address[:64],
        }
        fields.update({f"d:{name}": json.dumps(value) for name, value in data.items()})
        with self._errors():
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(self._session_key(key), mapping=fields)  # type: ignore[arg-type]
            pipe.expire(self._session_key(key), self.ttl)
            pipe.sadd(self._user_key(user.id), key)
            pipe.expire(self._user_key(user.id), self.ttl)
            pipe.execute()
        return token, _record(key, {_b(k): _b(v) for k, v in fields.items()})

    def get(self, key: str) -> SessionRecord | None:
        with self._errors():
            fields: dict[bytes, bytes] = self.client.hgetall(self._session_key(key))  # type: ignore[assignment]
        return _record(key, fields) if fields else None

    def update(
        self, key: str, changes: Mapping[str, Any], deletions: frozenset[str]
    ) -> dict[str, Any] | None:
        args: list[str] = []
        for name, value in changes.items():
            args += [f"d:{name}", json.dumps(value)]
        args.append(json.dumps([f"d:{name}" for name in deletions]))
        with self._errors():
            flat = self._update(keys=[self._session_key(key)], args=args)
        if not flat:
            return None
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        return _data(fields)

    def touch(self, key: str, now: float) -> None:
        with self._errors():
            self._touch(keys=[self._session_key(key)], args=[repr(now)])

    def delete(self, key: str) -> None:
        with self._errors():
            self.client.delete(self._session_key(key))

    def delete_for_user(self, user_id: int, *, keep: str | None = None) -> int:
        with self._errors():
            keys = [_b(k).decode() for k in self.client.smembers(self._user_key(user_id))]
            doomed = [k for k in keys if k != keep]
            if not doomed:
                return 0
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(*[self._session_key(k) for k in doomed])
            pipe.srem(self._user_key(user_id), *doomed)
            removed, _ = pipe.execute()
        return int(removed)

    def list_for_user(self, user_id: int) -> list[SessionRecord]:
        with self._errors():
            keys = [_b(k).decode() for k in self.client.smembers(self._user_key(user_id))]
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.hgetall(self._session_key(key))
            results = pipe.execute()
            stale = [key for key, fields in zip(keys, results, strict=True) if not fields]
            if stale:
                self.client.srem(self._user_key(user_id), *stale)
        records = [_record(k, f) for k, f in zip(keys, results, strict=True) if f]
        return sorted(records, key=lambda r: r.last_seen_at, reverse=True)

    def ping(self) -> None:
        with self._errors():
            self.client.ping()

    def _errors(self) -> _RedisErrors:
        return _RedisErrors()


class _RedisErrors:
    """Turns Redis failures into :class:`SessionStoreError` with a hint."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is not None and isinstance(exc, RedisError):
            raise SessionStoreError(
                "the Redis session store is unreachable; check GRADIO_PORTAL_REDIS_URL"
            ) from exc


def _b(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _data(fields: Mapping[bytes, bytes]) -> dict[str, Any]:
    return {k.decode()[2:]: json.loads(v) for k, v in fields.items() if k.startswith(b"d:")}


def _record(key: str, fields: Mapping[bytes, bytes]) -> SessionRecord:
    # Sessions stored before groups existed have four fields.
    user_id, username, display_name, roles, *groups = json.loads(fields[b"user"])
    return SessionRecord(
        key=key,
        user=User(
            id=user_id,
            username=username,
            display_name=display_name,
            roles=tuple(roles),
            groups=tuple(groups[0]) if groups else (),
        ),
        data=_data(fields),
        created_at=float(fields[b"created_at"]),
        last_seen_at=float(fields[b"last_seen_at"]),
        user_agent=fields.get(b"user_agent", b"").decode(),
        address=fields.get(b"address", b"").decode(),
    )
