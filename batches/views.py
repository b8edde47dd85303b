"""HTML views. They live in batches/web/, one module per page family; see batches/urls.py."""

from .web.batch_views import batch_detail, batch_list
from .web.dashboard import dashboard

__all__ = ["batch_detail", "batch_list", "dashboard"]
