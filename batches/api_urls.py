"""/api/v1/: the instrument REST API. `batches/<lot>/certificate/` is routed by the
certificate module, beside these."""

from django.urls import path

from .api import views
from .records.lots import register_lot_converter
from .stability import api as stability_api

register_lot_converter()

urlpatterns = [
    path("results/", views.ResultCreateView.as_view(), name="api-results"),
    path("results/bulk/", views.BulkResultCreateView.as_view(), name="api-results-bulk"),
    path("batches/", views.BatchListView.as_view(), name="api-batches"),
    path("batches/<lot:lot_number>/", views.BatchDetailView.as_view(), name="api-batch"),
    path("products/<printable:code>/stability/", stability_api.ProductStabilityView.as_view(),
         name="api-product-stability"),
    path("stability/results/", stability_api.StabilityResultCreateView.as_view(),
         name="api-stability-results"),
    path("schema/", views.SchemaView.as_view(), name="api-schema"),
    path("docs/", views.DocsView.as_view(url_name="api-schema"), name="api-docs"),
]
