from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from batches.api.decay import DecayApiView
from batches.certificate_urls import api_urlpatterns as certificate_api
from batches.certificate_urls import web_urlpatterns as certificate_web
from batches.operations import views as operations
from config.favicon import favicon

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", operations.healthz, name="healthz"),
    path("readyz", operations.readyz, name="readyz"),
    path("metrics", operations.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/decay/", DecayApiView.as_view(), name="api-decay"),
    path("api/v1/", include(certificate_api)),
    path("api/v1/", include("batches.api_urls")),
    path("", include(certificate_web)),
    path("", include("batches.urls")),
]

handler400 = "batches.api.problems.bad_request"
handler404 = "batches.api.problems.not_found"
handler500 = "qc.middleware.server_error"

if settings.BENCH_PLAIN_DRF:
    # Before the web pages' patterns, so no catch-all of theirs can shadow it.
    urlpatterns.insert(0, path("bench/plain-drf/", include("bench.plaindrf.urls")))
