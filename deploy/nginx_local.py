"""The reference nginx config (deploy/nginx-consentry.conf) run on 127.0.0.1, for tests and benchmarks.

Renders the reference file with only the machine-specific parts replaced (ports, certificate,
static root, server name; every directive kept), makes a self-signed certificate with
`cryptography`, and runs Debian's nginx in the foreground in front of a given gunicorn port.
Used by tests/deploy/test_nginx.py (the slow-body attack) and bench/login_flood.py (the
production shape under a login flood). Not used by the app.
"""

import datetime
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "deploy" / "nginx-consentry.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tls_context_unverified() -> ssl.SSLContext:
    """A client context for the self-signed certificate of a local run."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def wait_for(url: str, seconds: float, context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer in {seconds} s")
        time.sleep(0.2)


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def render(
    reference: str,
    *,
    http_port: int,
    https_port: int,
    app_port: int,
    static: Path,
    cert: Path,
    key: Path,
    access_log: Path,
) -> str:
    """The reference config with only the machine-specific parts replaced; every directive kept."""
    replacements = [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("/etc/ssl/consentry/fullchain.pem", str(cert)),
        ("/etc/ssl/consentry/privkey.pem", str(key)),
        ("/srv/consentry/staticfiles/", f"{static}/"),
        ("server_name consent.example.com;", "server_name localhost;"),
        ("/var/log/nginx/access.log", str(access_log)),
    ]
    for old, new in replacements:
        assert old in reference, f"the reference config no longer has {old!r}: update the renderer"
        reference = reference.replace(old, new)
    return reference


def main_config(workdir: Path, site_config: Path) -> str:
    temp = workdir / "temp"
    temp.mkdir(mode=0o777, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {workdir}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site_config};
}}
"""


class LocalNginx:
    """Debian's nginx with the rendered reference config, in front of gunicorn on `app_port`.

    `cpus`, when given, pins nginx to those CPUs (a benchmark's server side)."""

    def __init__(self, workdir: Path, app_port: int, static: Path, cpus: Sequence[int] = ()) -> None:
        if NGINX is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        self.workdir, self.app_port, self.static, self.cpus = workdir, app_port, static, tuple(cpus)
        self.http_port, self.https_port = free_port(), free_port()
        self.tls = tls_context_unverified()
        self.process: subprocess.Popen | None = None

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.https_port}"

    def __enter__(self) -> "LocalNginx":
        cert, key = self_signed(self.workdir)
        site = self.workdir / "consentry.conf"
        site.write_text(
            render(
                REFERENCE.read_text(),
                http_port=self.http_port,
                https_port=self.https_port,
                app_port=self.app_port,
                static=self.static,
                cert=cert,
                key=key,
                access_log=self.workdir / "access.log",
            )
        )
        main = self.workdir / "nginx.conf"
        main.write_text(main_config(self.workdir, site))
        checked = subprocess.run([NGINX, "-t", "-c", str(main)], capture_output=True, text=True, timeout=30)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered config:\n{checked.stderr}")
        prefix = ["taskset", "-c", ",".join(map(str, self.cpus))] if self.cpus else []
        self.process = subprocess.Popen(
            [*prefix, NGINX, "-c", str(main), "-g", "daemon off;"],
            stderr=(self.workdir / "nginx.stderr").open("w"),
        )
        try:
            wait_for(self.origin + "/healthz", 30, self.tls)
        except AssertionError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def cpu_ticks(self) -> int:
        """CPU used so far by nginx's master and workers (utime + stime, in clock ticks)."""
        assert self.process is not None
        pids = [self.process.pid]
        try:
            pids += [
                int(pid)
                for pid in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
                .read_text()
                .split()
            ]
        except OSError:
            pass
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total
