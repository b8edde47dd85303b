import pytest

from tests.factories import record_release_required_results


@pytest.fixture
def tested_batch(ac225_batch, analyst, now, committed):
    """The 225Ac batch with every release-required result in and passed."""
    with committed():
        record_release_required_results(ac225_batch, analyst, now=now)
    ac225_batch.refresh_from_db()
    return ac225_batch
