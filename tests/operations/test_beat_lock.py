"""Two hosts may run beat: a Redis lock lets exactly one send the periodic tasks."""

import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from batches.operations.beat import BeatLock, LockedScheduler, lock_client


def test_beat_refuses_a_lock_url_that_is_not_redis(settings, tmp_path):
    from config.celery import app

    settings.BEAT_LOCK_URL = "amqp://guest@127.0.0.1//"
    with pytest.raises(ImproperlyConfigured, match="BEAT_LOCK_URL"):
        LockedScheduler(app=app, schedule_filename=str(tmp_path / "schedule"))


@pytest.fixture
def redis_url(settings):
    return settings.CELERY_BROKER_URL


@pytest.fixture
def lock_key(redis_url):
    key = "alpharelease:test-beat-lock"
    lock_client(redis_url).delete(key)
    yield key
    lock_client(redis_url).delete(key)


@pytest.mark.services
def test_only_one_beat_holds_the_lock_and_the_other_takes_over_when_it_stops(redis_url,
                                                                             lock_key):
    first = BeatLock(lock_client(redis_url), ttl_s=5, key=lock_key)
    second = BeatLock(lock_client(redis_url), ttl_s=5, key=lock_key)
    assert first.hold() and not second.hold()
    assert first.hold(), "the holder renews"
    assert first.holder() == first.token
    first.release()
    assert second.hold() and not first.hold()


@pytest.mark.services
def test_a_holder_that_did_not_renew_in_time_steps_down(redis_url, lock_key):
    first = BeatLock(lock_client(redis_url), ttl_s=0.3, key=lock_key)
    second = BeatLock(lock_client(redis_url), ttl_s=5, key=lock_key)
    assert first.hold()
    time.sleep(0.5)  # the holder hung past its TTL
    assert second.hold()
    assert not first.hold(), "it must not renew a lock another beat now holds"
    assert first.holder() == second.token


@pytest.mark.services
def test_of_two_schedulers_only_the_lock_holder_sends(settings, tmp_path, monkeypatch,
                                                      lock_key):
    from config.celery import app

    monkeypatch.setattr("batches.operations.beat.LOCK_KEY", lock_key)
    settings.BEAT_LOCK_TTL_S = 6
    sent = {"a": [], "b": []}
    schedulers = {}
    for name in sent:
        scheduler = LockedScheduler(app=app, schedule_filename=str(tmp_path / name))
        scheduler.update_from_dict({"often": {"task": "batches.tasks.sweep_unevaluated",
                                              "schedule": 0.05}})
        scheduler.apply_async = (lambda entry, *a, _n=name, **k: sent[_n].append(entry.name))
        schedulers[name] = scheduler
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        for scheduler in schedulers.values():
            scheduler.tick()
        time.sleep(0.06)
    assert sent["a"] and not sent["b"], sent
    schedulers["a"].close()  # the first host's beat stops
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        schedulers["b"].tick()
        time.sleep(0.06)
    assert sent["b"], "the standby took over"
    schedulers["b"].close()
