"""Running the service: health checks, metrics, request ids and logs, backups.

Reads only: nothing here changes a GMP record."""
