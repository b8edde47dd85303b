"""A plain DRF create for bench-api to measure the record path against: token authentication,
a ModelSerializer and one INSERT into a table of its own. Never part of a deployment: installed
and routed only when ALPHARELEASE_BENCH_PLAIN_DRF is on (config/settings.py, config/urls.py)."""
