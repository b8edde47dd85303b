"""Log lines as JSON objects, one a line, times in UTC, each with its request id."""

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from .requests import request_id_var


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # django.request logs after the middleware has returned: its record carries the
            # request itself.
            request = getattr(record, "request", None)
            record.request_id = (getattr(request, "request_id", None)
                                 or request_id_var.get() or None)
        return True


class UtcJsonFormatter(JsonFormatter):
    """{"time": "2026-12-03T16:43:35.123456+00:00", "level": "INFO", "logger": ..., "message":
    ..., "request_id": ..., extra fields...}"""

    def __init__(self, *args, **kwargs):
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            # Django attaches the request and server objects to some records: not log data.
            reserved_attrs=[*RESERVED_ATTRS, "request", "server_time", "color_message"],
        )
