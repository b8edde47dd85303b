"""HTML views: thin; reads through selectors, writes through services."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from .models import Batch, BatchStatus
from .selectors import batch_detail as select_batch
from .selectors import batch_list, criterion_statuses


@login_required
def dashboard(request):
    batches = batch_list()[:50]
    return render(request, "batches/dashboard.html",
                  {"batches": batches, "statuses": BatchStatus.choices})


@login_required
def batch_detail(request, lot_number: str):
    try:
        batch = select_batch(lot_number=lot_number)
    except Batch.DoesNotExist:
        raise Http404(f"No batch with lot number {lot_number}") from None
    return render(request, "batches/batch_detail.html",
                  {"batch": batch, "statuses": criterion_statuses(batch=batch)})
