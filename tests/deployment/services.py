"""Throw-away PostgreSQL and Redis servers for the distributed deployment profile, on loopback only.

``PostgresCluster`` runs Debian's PostgreSQL (``initdb`` and ``postgres`` of
the newest ``/usr/lib/postgresql/*/bin``, or the ones on PATH) on a fresh
cluster in a temporary directory; ``RedisServer`` runs Debian's
``redis-server`` without persistence. PostgreSQL refuses to run as root, so
when the tests run as root (as CI does) both run as the unprivileged user
``nobody`` through ``setpriv``, which executes the server in place: the
process we start *is* the server, in a process group of its own, so
``stop()`` reaches it and anything it forked. Both listen on 127.0.0.1 on a
free port, nothing else; their logs are kept for the test's artifacts.

``ServiceUnavailable`` says why a server cannot be had here (binary missing,
no way to drop root), with what to install.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.deployment.harness import free_port

UNPRIVILEGED_USER = "nobody"


class ServiceUnavailable(RuntimeError):
    """A server the distributed profile needs cannot be started here; the message says what to install."""


def _binary(name: str, package_dirs: str, advice: str) -> str:
    found = sorted(glob.glob(f"{package_dirs}/{name}"))
    if found:
        return found[-1]  # the newest version's directory sorts last (/usr/lib/postgresql/15/bin, ...)
    on_path = shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)
    if on_path:
        return on_path
    raise ServiceUnavailable(f"`{name}` is not installed: {advice}")


def _drop_root() -> tuple[list[str], tuple[int, int] | None]:
    """A command prefix that runs a server as an unprivileged user when we are root, and that user's ids."""
    if os.geteuid() != 0:
        return [], None
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise ServiceUnavailable("running as root without `setpriv` (util-linux): cannot start PostgreSQL as "
                                 f"the unprivileged user {UNPRIVILEGED_USER!r}")
    try:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise ServiceUnavailable(f"running as root and there is no user {UNPRIVILEGED_USER!r} to run "
                                 "PostgreSQL as") from None
    prefix = [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"]
    return prefix, (user.pw_uid, user.pw_gid)


class _Server:
    """A server process in its own process group, with a private directory and a log file."""

    name = "server"

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.directory = Path(tempfile.mkdtemp(prefix=f"docstatus-{self.name}-"))
        self.log_path = self.directory / f"{self.name}.log"
        self._prefix, self._owner = _drop_root()
        if self._owner:
            os.chown(self.directory, *self._owner)

    def _env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}

    def _spawn(self, command: list[str]) -> subprocess.Popen:
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(
                [*self._prefix, *command], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self._env(), cwd=self.directory, start_new_session=True,
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _wait_ready(self, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceUnavailable(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                ready()
                return
            except Exception as exc:  # noqa: BLE001 - any failure to answer means "not yet"
                last = exc
            time.sleep(0.2)
        raise ServiceUnavailable(f"{self.name} did not answer on 127.0.0.1:{self.port} within {timeout:.0f} s "
                                 f"(last error: {last!r}):\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Stop the server's process group (``sig``, then SIGKILL), then remove its directory. Idempotent."""
        process, self.process = self.process, None
        if process is not None:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if process.poll() is None:
                process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


class PostgresCluster(_Server):
    """A fresh PostgreSQL cluster (trust auth for the user ``airflow``, loopback TCP only) with a database ``airflow``.

    Tuned for a throw-away test database: no fsync, enough connections for
    every component, each Celery worker's result backend and pool.
    """

    name = "postgres"
    user = "airflow"
    database = "airflow"
    ADVICE = ("install Debian's PostgreSQL (apt-get install --no-install-recommends postgresql); "
              "the distributed deployment test runs its own cluster in a temporary directory")

    def __init__(self, max_connections: int = 300) -> None:
        self.initdb = _binary("initdb", "/usr/lib/postgresql/*/bin", self.ADVICE)
        self.postgres = str(Path(self.initdb).resolve().with_name("postgres"))
        if not os.access(self.postgres, os.X_OK):
            self.postgres = _binary("postgres", "/usr/lib/postgresql/*/bin", self.ADVICE)
        self.max_connections = max_connections
        super().__init__()

    @property
    def url(self) -> str:
        """The SQLAlchemy URL Airflow's metadata database takes."""
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def celery_result_backend(self) -> str:
        return f"db+postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def start(self, timeout: float = 60) -> PostgresCluster:
        data = self.directory / "data"
        done = subprocess.run(
            [*self._prefix, self.initdb, "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8",
             "--locale=C", "--no-sync", "--no-instructions"],
            capture_output=True, text=True, env=self._env(), cwd=self.directory, timeout=120, check=False,
        )
        if done.returncode != 0:
            raise ServiceUnavailable(f"initdb failed ({done.returncode}): {done.stdout}\n{done.stderr}")
        settings = {
            "listen_addresses": "127.0.0.1", "port": str(self.port), "unix_socket_directories": str(self.directory),
            "max_connections": str(self.max_connections), "fsync": "off", "synchronous_commit": "off",
            "full_page_writes": "off", "shared_buffers": "128MB", "log_min_messages": "warning",
        }
        self.process = self._spawn([self.postgres, "-D", str(data),
                                    *[arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]])
        self._wait_ready(lambda: self._connect("postgres").close(), timeout)
        admin = self._connect("postgres")
        try:
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            admin.close()
        return self

    def _connect(self, database: str | None = None):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user,
                                dbname=database or self.database, connect_timeout=5)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one read-only query on the ``airflow`` database (a connection of its own, closed after)."""
        connection = self._connect()
        try:
            connection.set_session(readonly=True, autocommit=True)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20) -> None:
        super().stop(sig, timeout)  # SIGINT: PostgreSQL's "fast" shutdown (disconnects the clients)


class RedisServer(_Server):
    """Debian's redis-server on a free loopback port, no persistence: the Celery broker."""

    name = "redis"
    ADVICE = ("install Debian's redis-server (apt-get install --no-install-recommends redis-server); "
              "`make test` and .ci/run do it through scripts/ensure-redis.sh when they run as root or with sudo")

    def __init__(self) -> None:
        self.binary = os.environ.get("DOCSTATUS_REDIS_SERVER") or _binary("redis-server", "/usr/bin", self.ADVICE)
        if not os.access(self.binary, os.X_OK):
            raise ServiceUnavailable(f"{self.binary} (DOCSTATUS_REDIS_SERVER) is not an executable: {self.ADVICE}")
        super().__init__()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> RedisServer:
        self.process = self._spawn([
            self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--protected-mode", "yes",
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.directory),
            "--loglevel", "warning",
        ])
        self._wait_ready(self._ping, timeout)
        return self

    def _ping(self) -> None:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=2)
        try:
            if not client.ping():
                raise ConnectionError("no PONG")
        finally:
            client.close()
