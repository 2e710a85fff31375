"""What the benchmark scripts share: a database per run, a gunicorn server, wrk, medians.

Everything runs on 127.0.0.1 only, and every process started here is stopped by its own
id when its `with` block ends, also on Ctrl-C and on errors.
"""

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parent.parent
# A git worktree has no .venv of its own: BENCH_VENV names the one to run (default: the checkout's).
VENV = Path(os.environ.get("BENCH_VENV") or ROOT / ".venv")
PYTHON = VENV / "bin" / "python"
GUNICORN = VENV / "bin" / "gunicorn"
LUA = ROOT / "bench" / "lua"
HOST = "127.0.0.1"
PG_PORT = 5432

# One fixed server shape for every case: the production config file with these overrides.
# 2 workers x 1 thread on a 2-core machine (wrk shares the cores); no worker recycling,
# so no run pays for a worker re-importing Django part-way through.
GUNICORN_OVERRIDES = ("--workers", "2", "--threads", "1", "--max-requests", "0", "--backlog", "2048")
# For write benchmarks: sync workers take one connection at a time and close it after the
# response, so every request goes to whichever worker is free. Under gthread, wrk's
# keep-alive connections stay with the worker that accepted them; when one worker happens
# to accept most of them, a run uses one core and the machine idles (seen here: 42 % idle,
# two-thirds of the usual throughput, at random from run to run). The baselines measured
# on this machine found sync the better shape for inserts anyway.
SYNC_WORKERS = ("--worker-class", "sync")


def install_sigterm_as_interrupt() -> None:
    """SIGTERM unwinds like Ctrl-C, so the `with` blocks stop what they started."""

    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def wrk_ensure() -> str:
    """The wrk binary; installed from Debian's package when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("wrk is not installed: run `apt-get install -y wrk` (Debian/Ubuntu) and start again.")
    print("wrk is missing: installing it with apt-get (Debian package 'wrk') ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("apt-get did not install wrk; install it by hand and start again.")
    return found


def port_free() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_answers(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def server_env(database_url: str, redis_url: str = "") -> dict[str, str]:
    """The environment of every manage.py and gunicorn process of one database's run.

    `redis_url`: run with the shared Redis cache, as production does (empty: local memory).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY="bench",
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        DEBUG="false",
        # The benchmarks place visitors with the edge header, trusted only when set explicitly.
        GEO_COUNTRY_HEADER="CF-IPCountry",
        LEDGER_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        CONSENT_RATE_PER_IP="100000000/min",
        CONSENT_RATE_PER_SITE="100000000/min",
        PUBLIC_API_RATE="100000000/min",
        PUBLIC_BANNER_RATE="100000000/min",
        PUBLIC_PAGES_RATE="100000000/min",
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env.update(REDIS_URL=redis_url, CACHE_KEY_PREFIX=f"bench{secrets.token_hex(4)}")
    return env


def manage(env: Mapping[str, str], *args: str) -> str:
    """Run a manage.py command; its stdout, or SystemExit with its output if it failed."""
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=ROOT, env=dict(env), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


@contextmanager
def postgres_database(host: str = HOST, port: int = PG_PORT) -> Iterator[str]:
    """A fresh, empty database for this run (user postgres, trust auth); dropped afterwards."""
    import psycopg

    name = f"consentry_bench_{secrets.token_hex(4)}"
    admin = f"postgresql://postgres@{host}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Measured(Protocol):
    """What wrk_run measures: a base URL and the CPU its server processes have used."""

    @property
    def url(self) -> str: ...

    def cpu_ticks(self) -> int: ...


def taskset(cpus: Sequence[int]) -> list[str]:
    """The command prefix that pins a process to `cpus` (none: no pinning)."""
    return ["taskset", "-c", ",".join(map(str, cpus))] if cpus else []


class Server:
    """gunicorn serving bench.settings on a free port of 127.0.0.1."""

    def __init__(
        self, env: Mapping[str, str], log_path: Path, shape: Sequence[str] = (), cpus: Sequence[int] = ()
    ) -> None:
        self.env = dict(env)
        self.port = port_free()
        self.log_path = log_path
        self.command = [
            *taskset(cpus),
            str(GUNICORN),
            "-c",
            "config/gunicorn.py",
            "config.wsgi",
            "--bind",
            f"{HOST}:{self.port}",
            *GUNICORN_OVERRIDES,
            *shape,
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        log = self.log_path.open("ab")
        # A session of its own: Ctrl-C in the terminal reaches us, and we stop it in order.
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200 and len(_children(self.process.pid)) >= 2:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not answer within 30 s; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # the master's PID: it stops its workers gracefully
        try:
            self.process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group we started, nothing else
            self.process.wait()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_ticks(self) -> int:
        """CPU used so far by the master and its live workers (workers never recycle here)."""
        assert self.process is not None
        pid = self.process.pid
        return _cpu_ticks(pid) + sum(_cpu_ticks(child) for child in _children(pid))


@dataclass(frozen=True)
class Run:
    """One measured wrk run of one case."""

    case: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # responses with an unexpected status + socket errors
    cpu_us_per_request: float
    sample: str  # the first unexpected response, if any

    def line(self) -> str:
        text = (
            f"{self.case:<10} {self.rps:9.1f} req/s  p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  "
            f"errors {self.errors:<5d} server CPU {self.cpu_us_per_request:6.0f} us/req"
        )
        return text + (f"  first error: {self.sample}" if self.sample else "")


def wrk_run(
    *,
    server: "Measured",
    case: str,
    path: str,
    script: str,
    script_args: Sequence[str] = (),
    headers: Sequence[str] = (),
    seconds: float,
    connections: int,
    threads: int = 2,
    cpus: Sequence[int] = (),
) -> Run:
    """One wrk run against the server (anything with `url` and `cpu_ticks()`); its numbers from
    the script's BENCH_JSON line. `cpus` pins wrk."""
    command = [
        *taskset(cpus),
        wrk_ensure(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{round(seconds)}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA / script),
    ]
    for header in headers:
        command += ["-H", header]
    command += [server.url + path, "--", *script_args]
    ticks_before = server.cpu_ticks()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    ticks = server.cpu_ticks() - ticks_before
    line = next((line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    requests = max(int(data["requests"]), 1)
    socket_errors = sum(int(data[key]) for key in ("connect", "read", "write", "timeout"))
    return Run(
        case=case,
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=int(data["unexpected"]) + socket_errors,
        cpu_us_per_request=ticks / os.sysconf("SC_CLK_TCK") * 1e6 / requests,
        sample=data["sample"],
    )


@dataclass(frozen=True)
class Summary:
    """The median of a case's runs (errors: the sum)."""

    case: str
    runs: int
    rps: float
    rps_min: float
    rps_max: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us_per_request: float

    @classmethod
    def of(cls, runs: Sequence[Run]) -> "Summary":
        return cls(
            case=runs[0].case,
            runs=len(runs),
            rps=statistics.median(run.rps for run in runs),
            rps_min=min(run.rps for run in runs),
            rps_max=max(run.rps for run in runs),
            p50_ms=statistics.median(run.p50_ms for run in runs),
            p99_ms=statistics.median(run.p99_ms for run in runs),
            errors=sum(run.errors for run in runs),
            cpu_us_per_request=statistics.median(run.cpu_us_per_request for run in runs),
        )

    def line(self) -> str:
        return (
            f"{self.case:<10} median of {self.runs}: {self.rps:8.1f} req/s "
            f"({self.rps_min:.0f}-{self.rps_max:.0f})"
            f"  p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  errors {self.errors}"
            f"  server CPU {self.cpu_us_per_request:5.0f} us/req"
        )


def goal_line(met: bool, text: str) -> str:
    return f"{'GOAL MET' if met else 'GOAL MISSED'}: {text}"
