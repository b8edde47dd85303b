from rest_framework import serializers

from .models import PlainResult


class PlainResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlainResult
        fields = ["id", "lot_number", "test_code", "value", "unit", "measured_at",
                  "recorded_at"]
        read_only_fields = ["id", "recorded_at"]
