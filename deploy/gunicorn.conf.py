# gunicorn -c deploy/gunicorn.conf.py config.wsgi:application
bind = "127.0.0.1:8001"
workers = 4
worker_class = "gthread"
threads = 4
timeout = 30
accesslog = "-"


def post_worker_init(worker):
    # Load the nuclear data before the first request that shows a decay-projected activity.
    from qc.engine import warm_up

    warm_up()
