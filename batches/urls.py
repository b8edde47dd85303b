from django.urls import path

from .records.lots import register_lot_converter
from .stability import protocol_views
from .stability import views as stability_views
from .web import (
    audit,
    batch_views,
    dashboard,
    elutions,
    instruments,
    results,
    session,
    signing,
    sources,
    specifications,
)

register_lot_converter()

# A lot may contain "/": the page of a batch (the shortest pattern) comes after its sub-pages.
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("dashboard/live/", dashboard.dashboard_live, name="dashboard-live"),
    path("session/keepalive/", session.session_keepalive, name="session-keepalive"),
    # batches
    path("batches/", batch_views.batch_list, name="batch-list"),
    path("batches/new/", batch_views.batch_register, name="batch-register"),
    path("batches/new/source-info/", batch_views.source_info, name="batch-source-info"),
    path("batches/<lot:lot_number>/audit/", batch_views.batch_audit, name="batch-audit"),
    path("batches/<lot:lot_number>/live/", batch_views.batch_live, name="batch-live"),
    path("batches/<lot:lot_number>/results/", batch_views.batch_results_partial,
         name="batch-results"),
    path("batches/<lot:lot_number>/certificate-status/",
         batch_views.batch_certificates_partial, name="batch-certificates"),
    path("batches/<lot:lot_number>/certificates/<int:version>/retry/",
         batch_views.certificate_retry, name="certificate-retry"),
    # results
    path("batches/<lot:lot_number>/results/<slug:test_code>/new/", results.result_record,
         name="result-record"),
    path("batches/<lot:lot_number>/results/<int:result_id>/correct/", results.result_correct,
         name="result-correct"),
    path("batches/<lot:lot_number>/results/<int:result_id>/invalidate/",
         results.result_invalidate, name="result-invalidate"),
    # disposition
    path("batches/<lot:lot_number>/review/", signing.batch_review, name="batch-review"),
    path("batches/<lot:lot_number>/release/", signing.batch_release, name="batch-release"),
    path("batches/<lot:lot_number>/release-conditionally/",
         signing.batch_release_conditionally, name="batch-release-conditionally"),
    path("batches/<lot:lot_number>/reject/", signing.batch_reject, name="batch-reject"),
    path("batches/<lot:lot_number>/", batch_views.batch_detail, name="batch-detail"),
    # specifications
    path("specifications/", specifications.specification_list, name="specification-list"),
    path("specifications/<int:pk>/", specifications.specification_detail,
         name="specification-detail"),
    path("specifications/new/<slug:product_code>/", specifications.specification_draft,
         name="specification-draft"),
    path("specifications/<int:pk>/criteria/new/", specifications.criterion_edit,
         name="criterion-add"),
    path("specifications/<int:pk>/criteria/<int:criterion_id>/", specifications.criterion_edit,
         name="criterion-edit"),
    path("specifications/<int:pk>/criteria/<int:criterion_id>/remove/",
         specifications.criterion_delete, name="criterion-delete"),
    path("specifications/<int:pk>/author/", specifications.specification_author_view,
         name="specification-author"),
    path("specifications/<int:pk>/approve/", specifications.specification_approve_view,
         name="specification-approve"),
    # stability
    path("products/<slug:code>/stability/", stability_views.product_stability_page,
         name="product-stability"),
    path("products/<slug:code>/stability/summary.pdf", stability_views.product_stability_pdf,
         name="product-stability-pdf"),
    path("products/<slug:code>/shelf-life/", stability_views.shelf_life_approve,
         name="shelf-life-approve"),
    path("products/<slug:code>/stability/results/new/", stability_views.stability_result_new,
         name="stability-result-new"),
    path("products/<slug:code>/stability/protocols/new/", protocol_views.protocol_draft,
         name="stability-protocol-draft"),
    path("stability/protocols/<int:pk>/", protocol_views.protocol_detail,
         name="stability-protocol-detail"),
    path("stability/protocols/<int:pk>/author/", protocol_views.protocol_author,
         name="stability-protocol-author"),
    path("stability/protocols/<int:pk>/approve/", protocol_views.protocol_approve,
         name="stability-protocol-approve"),
    # sources
    path("sources/", sources.source_list, name="source-list"),
    path("sources/elutions/new/", elutions.elution_new, name="elution-record"),
    path("sources/elutions/new/forecast/", elutions.elution_forecast_partial,
         name="elution-forecast"),
    path("sources/generators/<printable:serial>/", sources.generator_detail,
         name="generator-detail"),
    path("sources/lots/<lot:lot_number>/", sources.lot_detail, name="lot-detail"),
    # instruments
    path("instruments/", instruments.instrument_list, name="instrument-list"),
    path("instruments/<printable:serial>/", instruments.instrument_detail,
         name="instrument-detail"),
    path("instruments/<printable:serial>/keys/", instruments.api_key_create_view,
         name="api-key-create"),
    path("instruments/<printable:serial>/keys/<printable:prefix>/revoke/",
         instruments.api_key_revoke_view, name="api-key-revoke"),
    # audit trail
    path("audit/", audit.audit_trail, name="audit-trail"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
]
