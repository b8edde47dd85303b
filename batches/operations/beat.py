"""Exactly one beat sends the periodic tasks, however many hosts run the beat unit.

Each beat tries to hold a lock in Redis (SET NX with an expiry, renewed on every tick). The
holder sends; the others wait and take over within BEAT_LOCK_TTL_S of the holder stopping
or losing its connection. A holder that cannot renew in time steps down before it sends."""

import logging
import os
import socket
import uuid

from celery.beat import PersistentScheduler
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

LOCK_KEY = "alpharelease:beat-lock"
# Extend the lock only while it is still ours (another beat may hold it by now).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def lock_client(url: str):
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"BEAT_LOCK_URL (default: CELERY_BROKER_URL) must be a Redis URL for the beat lock; "
            f"got {url.split('://')[0]}://. Run beat only against a Redis broker, or set "
            "BEAT_LOCK_URL=redis://host:6379/N.")
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class BeatLock:
    def __init__(self, client, *, ttl_s: float, key: str = LOCK_KEY):
        self.client, self.key, self.ttl_ms = client, key, int(ttl_s * 1000)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False

    def hold(self) -> bool:
        """True when this beat holds the lock for another TTL."""
        try:
            if self.held and self.client.eval(_RENEW, 1, self.key, self.token, self.ttl_ms):
                return True
            self.held = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        except Exception as exc:  # Redis unreachable: not safe to send
            if self.held:
                log.warning("beat lock: cannot renew (%s); standing by", exc)
            self.held = False
        return self.held

    def release(self) -> None:
        if self.held:
            try:
                self.client.eval(_RELEASE, 1, self.key, self.token)
            finally:
                self.held = False

    def holder(self) -> str:
        value = self.client.get(self.key)
        return value.decode() if value else ""


class LockedScheduler(PersistentScheduler):
    """celery beat --scheduler batches.operations.beat:LockedScheduler (the app's default)."""

    def __init__(self, *args, **kwargs):
        self.lock = BeatLock(lock_client(settings.BEAT_LOCK_URL),
                             ttl_s=settings.BEAT_LOCK_TTL_S)
        self._was_holding = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        holding = self.lock.hold()
        if holding != self._was_holding:
            log.info("beat lock %s (%s)", "taken: this beat sends the periodic tasks" if holding
                     else "not held: standing by", self.lock.token)
            self._was_holding = holding
        if not holding:
            return min(self.max_interval, settings.BEAT_LOCK_TTL_S / 3)
        # Never sleep past the point where the lock must be renewed.
        return min(super().tick(*args, **kwargs), settings.BEAT_LOCK_TTL_S / 3)

    def close(self):
        try:
            super().close()
        finally:
            self.lock.release()
