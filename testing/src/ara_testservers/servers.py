"""Start, restart and stop throwaway database servers (recipes: shared/research/server-recipes)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "DEBIAN_PACKAGES",
    "MariaDBServer",
    "PostgresServer",
    "Server",
    "ServerError",
    "free_port",
]

#: Debian packages each server needs (installed when missing and running as root).
DEBIAN_PACKAGES = {
    "postgresql": ("postgresql",),
    "mariadb": ("mariadb-server", "mariadb-client"),
}

USER = "ara"
PASSWORD = "ara-test-pw"  # a throwaway server on loopback
DATABASE = "ara"


class ServerError(RuntimeError):
    """A server could not be installed, started or stopped."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], what: str, **kw: object) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"{what} did not finish within {exc.timeout:g} s") from None
    if proc.returncode != 0:
        raise ServerError(
            f"{what} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}"
        )
    return str(proc.stdout)


def _apt_install(packages: tuple[str, ...]) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ServerError(
            f"server binaries missing; install the Debian packages {' '.join(packages)}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], "apt-get update", env=env)
    _run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        "apt-get install",
        env=env,
    )


class Server:
    """Common life cycle: a temp directory, a PID, start/stop/restart, a context manager."""

    kind = ""
    binary = ""
    stop_signal = signal.SIGTERM

    def __init__(self, base: Path | None = None) -> None:
        self._own_base = base is None
        self.base = Path(tempfile.mkdtemp(prefix=f"ara-{self.kind}-")) if base is None else base
        self.base.chmod(0o755)
        self.port = free_port()
        self.pid: int | None = None
        #: the address it listens on, and what its start command runs under (in_netns)
        self.host = "127.0.0.1"
        self.launch_prefix: list[str] = []
        self.user = USER
        self.password = PASSWORD
        self.database = DATABASE

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port} pid={self.pid}>"

    def in_netns(self, ns: Any) -> None:
        """Run inside network namespace ``ns`` (a :class:`~ara_testservers.faults.Netns`),
        listening on its address, which clients here reach over a path ``ns.cut()`` cuts.
        Call it before :meth:`start`."""
        self.host = ns.host
        self.launch_prefix = ns.prefix()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        et: type[BaseException] | None,
        ev: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @classmethod
    def available(cls) -> bool:
        """True if the server binaries are installed."""
        raise NotImplementedError

    @classmethod
    def ensure_installed(cls) -> None:
        """Install the Debian packages if the binaries are missing (as root)."""
        if not cls.available():
            _apt_install(DEBIAN_PACKAGES[cls.kind])
            if not cls.available():
                raise ServerError(f"{cls.kind}: binaries still missing after apt-get install")

    def start(self) -> None:
        raise NotImplementedError

    def _alive(self) -> bool:
        if self.pid is None:
            return False
        proc: subprocess.Popen[bytes] | None = getattr(self, "_proc", None)
        if proc is not None and proc.pid == self.pid:
            return proc.poll() is None
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        return self.binary.encode() in cmdline

    def processes(self) -> list[int]:
        """The server's PID and those of every process it started (PostgreSQL: one per client)."""
        if self.pid is None:
            return []
        parents: dict[int, int] = {}
        for path in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(path).read_text().rsplit(")", 1)[1].split()
            except OSError:  # exited meanwhile
                continue
            parents[int(path.split("/")[2])] = int(fields[1])
        found = [self.pid]
        for pid in found:  # grows while it is walked: children of children
            found.extend(child for child, parent in parents.items() if parent == pid)
        return found

    def freeze(self) -> None:
        """Stop every process of the server (SIGSTOP): the kernel still accepts connections
        and acknowledges packets, but nothing answers. :meth:`thaw` resumes it."""
        stopped: set[int] = set()
        while True:  # the parent first, then again until no new process appeared
            fresh = [pid for pid in self.processes() if pid not in stopped]
            if not fresh:
                return
            for pid in fresh:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
                stopped.add(pid)

    def kill(self) -> None:
        """A crash: SIGKILL every process of the server, and wait until they are dead."""
        pids = self.processes()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(_running(pid) for pid in pids):
            if time.monotonic() > deadline:
                raise ServerError(f"{self!r} survived SIGKILL")
            time.sleep(0.02)
        self._reap()
        self._remove_stale_locks()
        self.pid = None

    def _remove_stale_locks(self) -> None:
        """Remove what a killed server leaves that would stop it from starting again."""

    def thaw(self) -> None:
        """Resume a frozen server (SIGCONT to every process; harmless if it runs)."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @contextlib.contextmanager
    def frozen(self, limit: float = 60.0) -> Iterator[None]:
        """Freeze the server for the block; it thaws after ``limit`` seconds at the latest,
        so a call that never returns fails its test instead of hanging the run."""
        self.freeze()
        guard = threading.Timer(limit, self.thaw)
        guard.daemon = True
        guard.start()
        try:
            yield
        finally:
            guard.cancel()
            self.thaw()

    def stop(self, sig: signal.Signals | None = None, timeout: float = 60.0) -> None:
        """Stop the server (its own signal by default; SIGKILL for a crash) and wait."""
        if not self._alive():
            self.pid = None
            return
        assert self.pid is not None
        self.thaw()  # a frozen server would not act on the signal
        os.kill(self.pid, sig or self.stop_signal)
        deadline = time.monotonic() + timeout
        while self._alive() and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        if self._alive():
            os.kill(self.pid, signal.SIGKILL)
            time.sleep(0.2)
        self._reap()
        self.pid = None

    def _reap(self) -> None:
        proc: subprocess.Popen[bytes] | None = getattr(self, "_proc", None)
        if proc is not None and proc.pid == self.pid:
            proc.poll()

    def restart(self) -> None:
        """Stop and start again on the same port and data directory."""
        self.stop()
        self._launch()

    def _launch(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop the server and remove its directory."""
        try:
            self.stop()
        finally:
            if self._own_base:
                shutil.rmtree(self.base, ignore_errors=True)

    def url(self, driver: str = "", database: str | None = None) -> str:
        raise NotImplementedError


def _running(pid: int) -> bool:
    """True unless the process is gone or a zombie (dead, not yet reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _wait_port(
    port: int, timeout: float, what: str, alive: object, host: str = "127.0.0.1"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                return
        if callable(alive) and not alive():
            raise ServerError(f"{what} exited during start-up")
        time.sleep(0.02)
    raise ServerError(f"{what} did not accept connections within {timeout:.0f} s")


class PostgresServer(Server):
    """PostgreSQL: initdb --no-sync as the ``postgres`` user, trust on the socket, scram on TCP."""

    kind = "postgresql"
    binary = "postgres"
    stop_signal = signal.SIGINT

    @staticmethod
    def bindir() -> Path | None:
        found = sorted(
            glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
        )
        return Path(found[-1]).parent if found else None

    @classmethod
    def available(cls) -> bool:
        return cls.bindir() is not None

    def _as_postgres(self, *cmd: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return list(cmd)

    def start(self) -> None:
        self.ensure_installed()
        bindir = self.bindir()
        assert bindir is not None
        self.bin = bindir
        self.data = self.base / "data"
        self.run = self.base / "run"
        self.run.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.run, "postgres", "postgres")
        pwfile = self.base / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        _run(
            self._as_postgres(
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ),
            "initdb",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{self.host}'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.run}'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
                + self.extra_conf()
            )
        if self.host != "127.0.0.1":  # in a namespace: clients come from its peer's address
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.write("host all all 0.0.0.0/0 scram-sha-256\n")
        self._launch()
        self.psql(
            f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}' CREATEDB",
            f"CREATE DATABASE {DATABASE} OWNER {USER}",
        )

    def extra_conf(self) -> str:
        """Lines appended to ``postgresql.conf`` after the defaults above (they win)."""
        return ""

    def _launch(self) -> None:
        _run(
            self.launch_prefix
            + self._as_postgres(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.base / "postgres.log"),
                "-w",
                "-t",
                "60",
                "start",
            ),
            "pg_ctl start",
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        _wait_port(self.port, 30, "postgres", self._alive, self.host)

    def _remove_stale_locks(self) -> None:
        # the postmaster was pg_ctl's child: init reaps it, and until then its PID exists, so
        # a new postmaster (or pg_rewind's crash recovery) would take the lock files for a live
        # server's. The server is dead: they are stale.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        (self.run / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    def psql(
        self,
        *statements: str,
        database: str = "postgres",
        user: str = "postgres",
        timeout: float = 120.0,
    ) -> str:
        """Run SQL over the socket (as the superuser by default); returns psql's output.

        Each statement may take ``timeout`` seconds (then ``ServerError``)."""
        out = ""
        for sql in statements:
            out += _run(
                self._as_postgres(
                    str(self.bin / "psql"),
                    "-h",
                    str(self.run),
                    "-p",
                    str(self.port),
                    "-U",
                    user,
                    "-d",
                    database,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-qAt",
                    "-c",
                    sql,
                ),
                "psql",
                timeout=timeout,
            )
        return out

    def url(self, driver: str = "psycopg", database: str | None = None) -> str:
        return (
            f"postgresql+{driver}://{USER}:{PASSWORD}@{self.host}:{self.port}/"
            f"{database or self.database}"
        )

    def settings(self, database: str | None = None) -> dict[str, str]:
        """res_pgsql.conf-style settings reaching this server."""
        return {
            "hostname": self.host,
            "port": str(self.port),
            "dbname": database or self.database,
            "user": USER,
            "password": PASSWORD,
        }


class MariaDBServer(Server):
    """MariaDB: ``--no-defaults`` first, ``--user=root``, utf8mb4, a password user for TCP."""

    kind = "mariadb"
    binary = "mariadbd"

    @classmethod
    def available(cls) -> bool:
        return shutil.which("mariadbd") is not None or Path("/usr/sbin/mariadbd").exists()

    def start(self) -> None:
        self.ensure_installed()
        self.data = self.base / "data"
        self.sock = self.base / "mysqld.sock"
        # its own temporary directory: servers started at the same moment by other runs
        # otherwise collide on /tmp/#sql-temptable-* during the bootstrap
        self.tmp = self.base / "tmp"
        self.tmp.mkdir(exist_ok=True)
        _run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.data}",
                f"--tmpdir={self.tmp}",
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            "mariadb-install-db",
        )
        self._launch()
        self.sql(
            f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4; "
            f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'; "
            f"GRANT ALL ON *.* TO '{USER}'@'%' WITH GRANT OPTION; "
            f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}'; "
            f"GRANT ALL ON *.* TO '{USER}'@'localhost' WITH GRANT OPTION;"
        )

    def _launch(self) -> None:
        binary = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        log = (self.base / "mariadb.err").open("ab")
        proc = subprocess.Popen(
            [
                *self.launch_prefix,
                binary,
                "--no-defaults",
                f"--datadir={self.data}",
                f"--tmpdir={self.tmp}",
                f"--socket={self.sock}",
                f"--port={self.port}",
                f"--bind-address={self.host}",
                f"--pid-file={self.base / 'mysqld.pid'}",
                f"--log-error={self.base / 'mariadb.err'}",
                "--user=root",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                "--innodb-flush-log-at-trx-commit=2",
                "--max-connections=300",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._proc = proc
        self.pid = proc.pid
        _wait_port(self.port, 60, "mariadbd", self._alive, self.host)

    def sql(self, statements: str, database: str | None = None) -> str:
        """Run SQL as root over the socket; returns the client's output."""
        cmd = ["mariadb", "--no-defaults", "-S", str(self.sock), "-u", "root", "-N", "-B"]
        if database:
            cmd.append(database)
        return _run([*cmd, "-e", statements], "mariadb client")

    def url(self, driver: str = "mysqldb", database: str | None = None) -> str:
        return (
            f"mysql+{driver}://{USER}:{PASSWORD}@{self.host}:{self.port}/"
            f"{database or self.database}?charset=utf8mb4"
        )

    def settings(self, database: str | None = None) -> dict[str, str]:
        """res_config_mysql.conf-style settings reaching this server."""
        return {
            "dbhost": self.host,
            "dbport": str(self.port),
            "dbname": database or self.database,
            "dbuser": USER,
            "dbpass": PASSWORD,
        }
