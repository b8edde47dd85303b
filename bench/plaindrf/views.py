from rest_framework import generics
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated

from .serializers import PlainResultSerializer


class PlainResultCreateView(generics.CreateAPIView):
    """The textbook DRF create: what any recorded result costs before its GMP rules."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = PlainResultSerializer

    def perform_create(self, serializer):
        serializer.save(recorded_by=self.request.user)
