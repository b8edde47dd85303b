from django.urls import path

from . import certificate_views as views
from .records.lots import register_lot_converter

register_lot_converter()

web_urlpatterns = [
    path("verify/", views.certificate_verify_page, name="certificate-verify"),
    path("batches/<lot:lot_number>/certificates/<int:version>.pdf", views.certificate_download,
         name="certificate-download"),
]

api_urlpatterns = [
    path("batches/<lot:lot_number>/certificate/", views.CertificateApiView.as_view(),
         name="api-certificate"),
    path("batches/<lot:lot_number>/certificates/<printable:version>/",
         views.CertificateApiView.as_view(), name="api-certificate-version"),
]
