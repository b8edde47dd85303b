from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("batches/<str:lot_number>/", views.batch_detail, name="batch-detail"),
]
