"""Periodic work of the qc app."""

import logging

from celery import shared_task

from .audit_checkpoints import CheckpointError, checkpoint_write

log = logging.getLogger(__name__)


@shared_task(time_limit=120, soft_time_limit=100)
def audit_checkpoint_task(reason: str = "scheduled") -> str:
    """Sign and store a checkpoint of the audit chain head (beat: hourly). A second run
    writes a second file, so a retry can never lose or overwrite one."""
    try:
        path = checkpoint_write(reason=reason)
    except CheckpointError as exc:
        log.error("audit checkpoint not written: %s", exc)
        return f"not written: {exc}"
    return path.name if path else "empty trail: nothing to checkpoint"
