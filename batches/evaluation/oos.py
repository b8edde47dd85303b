"""A failure after release: the batch flagged for recall (post-release OOS), the dashboard
alert, and a mail to the Qualified Persons."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction

from qc.audit import audit_record
from qc.roles import Role

from ..lifecycle import RELEASED_STATUSES, lock_batch
from ..models import Batch, BatchStatus, Result, Verdict
from ..texts import message, when

log = logging.getLogger(__name__)


def _qp_addresses() -> list[str]:
    users = get_user_model().objects.filter(groups__name=Role.QP.value, is_active=True)
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def _notify_qps(*, batch_id: int, result_id: int, recipients: list[str]) -> None:
    batch = Batch.objects.select_related("product").get(pk=batch_id)
    result = Result.objects.select_related("criterion", "evaluation", "recorded_by").get(
        pk=result_id)
    subject = (f"[{settings.SITE_NAME}] Post-release OOS: lot {batch.lot_number} "
               f"({batch.product.name}) - recall assessment needed")
    body = "\n".join([
        f"A result of lot {batch.lot_number} ({batch.product.name}) failed after the batch "
        "was released.",
        "",
        f"Test: {result.criterion.name}",
        f"Result: {result.shown}, measured {when(result.measured_at)}",
        f"Evaluation: {message(result.evaluation.message)}",
        "",
        "The batch is flagged for recall (status: post-release OOS). Assess the recall and "
        f"start the OOS investigation: /batches/{batch.lot_number}/",
    ])
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception as exc:  # the dashboard alert stands; the failure is recorded
        log.exception("post-release OOS mail for %s could not be sent", batch.lot_number)
        with transaction.atomic():
            audit_record(actor=None, action="batch.post_release_oos_mail_failed", obj=batch,
                         after={"recipients": recipients, "error": f"{type(exc).__name__}: "
                                f"{exc}"[:500]}, batch_lot=batch.lot_number)


def batch_flag_post_release_oos(*, batch_id: int, result_id: int) -> None:
    """A result failed on a (conditionally) released batch: flag the batch for recall, alert
    the dashboard, mail the QPs. Does nothing for a batch not released or already flagged."""
    with transaction.atomic():
        batch = lock_batch(batch_id)
        if batch.status not in RELEASED_STATUSES:
            return
        result = Result.objects.select_related("criterion", "evaluation", "invalidation").get(
            pk=result_id, batch_id=batch_id)
        if result.verdict != Verdict.FAIL or result.is_invalidated:
            return
        before = batch.status
        batch.status = BatchStatus.POST_RELEASE_OOS
        batch.save(update_fields=["status"])
        recipients = _qp_addresses()
        audit_record(actor=None, action="batch.post_release_oos", obj=batch,
                     before={"status": before},
                     after={"status": BatchStatus.POST_RELEASE_OOS, "result_id": result.pk,
                            "test_code": result.criterion.test_code,
                            "notified": recipients},
                     reason=result.evaluation.message, batch_lot=batch.lot_number)
        if recipients:
            transaction.on_commit(lambda: _notify_qps(batch_id=batch_id, result_id=result_id,
                                                      recipients=recipients))
