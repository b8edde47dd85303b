"""The instrument REST API (DRF) under /api/v1/."""
