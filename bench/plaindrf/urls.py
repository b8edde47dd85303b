from django.urls import path

from .views import PlainResultCreateView

urlpatterns = [
    path("results/", PlainResultCreateView.as_view(), name="bench-plain-drf-results"),
]
