"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value can be overridden from the environment (GUNICORN_*), so one image serves
any machine size.
"""

import multiprocessing
import os
from typing import Any

from gunicorn.glogging import Logger

from edge.logs import subject_paths_redact

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: every request is a short database round trip, and a worker per core
# (plus one waiting on I/O) keeps the CPU busy without thrashing. Threads let a worker
# overlap the database wait of one request with the Python work of another.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take a server down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"


class AccessLogger(Logger):
    """gunicorn's logger, with the account id of a management-API subject path left out of the
    access log's request line and path (edge/logs.py), as Django's own log lines leave it out."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U"):
            if isinstance(atoms.get(name), str):
                atoms[name] = subject_paths_redact(atoms[name])
        return atoms


logger_class = AccessLogger
# Request lines and header fields as long as nginx passes (large_client_header_buffers 4 8k in
# deploy/nginx-consentry.conf), so anything nginx lets through is answered by Django in the API's
# JSON shape, not by gunicorn's own HTML 414 (its default stops at 4,094 bytes).
limit_request_line = 8190
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
