"""A throwaway OpenLDAP ``slapd`` on loopback (recipe: shared/research/server-recipes.md).

Each server has its own ``cn=config`` directory (built from a generated ``slapd.conf`` by
``slaptest``), its own mdb database directory, a free port on 127.0.0.1 and an ``ldapi://``
socket in its base directory. OpenLDAP's core, cosine and inetorgperson schemas are loaded,
then the extra ``.schema`` files given (``include``) and the cn=config ``.ldif`` schemas given
(``slapadd -n 0``). The database ``dc=ara,dc=test`` has an equality index on ``objectClass`` and
on the naming attribute ``cn``; its root DN binds with a password::

    with SlapdServer(ldif_schemas=[ara_ldap_schema]) as ldap:
        ldap.url()          # ldap://127.0.0.1:PORT
        ldap.settings()     # res_ldap.conf [_general] keys reaching it as the root DN

``slapd`` runs in the foreground (``-d 0``), so the PID is its own; it is stopped with SIGTERM.
Missing Debian packages (``slapd``, ``ldap-utils``) are installed with ``apt-get`` as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from .servers import Server, ServerError, free_port

__all__ = ["PACKAGES", "SlapdServer"]

#: The Debian packages the server needs.
PACKAGES = ("slapd", "ldap-utils")

SUFFIX = "dc=ara,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "ara-test-pw"  # a throwaway server on loopback  # noqa: S105
_SCHEMA_DIR = Path("/etc/ldap/schema")
_STANDARD = ("core", "cosine", "inetorgperson")
_SBIN = Path("/usr/sbin")


def _tool(name: str) -> str:
    found = shutil.which(name) or (str(_SBIN / name) if (_SBIN / name).exists() else None)
    if found is None:
        raise ServerError(f"{name} not found; install the Debian packages {' '.join(PACKAGES)}")
    return found


def _run(cmd: list[str], what: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ServerError(
            f"{what} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}"
        )
    return proc.stdout


def _apt_install(packages: Sequence[str]) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ServerError(f"missing programs; install the Debian packages {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            raise ServerError(f"{' '.join(cmd[:2])} failed: {proc.stderr.strip()}")


class SlapdServer(Server):
    """OpenLDAP ``slapd`` with its own cn=config, mdb database, port and ldapi socket."""

    kind = "slapd"
    binary = "slapd"
    stop_signal = signal.SIGTERM

    def __init__(
        self,
        base: Path | None = None,
        *,
        schemas: Sequence[Path] = (),
        ldif_schemas: Sequence[Path] = (),
        indexes: Sequence[str] = (),
        tls: bool = False,
    ) -> None:
        super().__init__(base)
        self.tls = tls
        self.tls_port = free_port() if tls else None
        self.ca_file = self.base / "tls" / "ca.pem" if tls else None
        self.schemas = [Path(p) for p in schemas]
        self.ldif_schemas = [Path(p) for p in ldif_schemas]
        self.indexes = ["objectClass eq", "cn eq", *indexes]
        self.suffix = SUFFIX
        self.root_dn = ROOT_DN
        self.user = ROOT_DN
        self.password = ROOT_PASSWORD
        self.database = SUFFIX
        self.config_dir = self.base / "slapd.d"
        self.data = self.base / "db"
        self.socket = self.base / "ldapi"

    @classmethod
    def available(cls) -> bool:
        return all(
            shutil.which(t) or (_SBIN / t).exists() for t in ("slapd", "slaptest", "slapadd")
        )

    @classmethod
    def ensure_installed(cls) -> None:
        if cls.available():
            return
        _apt_install(PACKAGES)
        if not cls.available():
            raise ServerError("slapd: binaries still missing after apt-get install")

    # -- configuration ----------------------------------------------------------------

    def _slapd_conf(self) -> str:
        includes = [_SCHEMA_DIR / f"{name}.schema" for name in _STANDARD] + self.schemas
        lines = [f'include "{path}"' for path in includes]
        lines += [
            f'pidfile "{self.base / "slapd.pid"}"',
            f'argsfile "{self.base / "slapd.args"}"',
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            "loglevel 0",
            "sizelimit unlimited",
            # cn=config: managed by root over ldapi (SASL EXTERNAL), e.g. to add a schema
            "database config",
            'access to * by dn.exact="gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth" '
            "manage by * none",
            "database mdb",
            "maxsize 1073741824",
            f'suffix "{self.suffix}"',
            f'rootdn "{self.root_dn}"',
            f'rootpw "{self.password}"',
            f'directory "{self.data}"',
            *(f"index {index}" for index in self.indexes),
        ]
        if self.tls:
            tls = self.base / "tls"
            lines[lines.index("database config") : lines.index("database config")] = [
                f'TLSCACertificateFile "{tls / "ca.pem"}"',
                f'TLSCertificateFile "{tls / "server.pem"}"',
                f'TLSCertificateKeyFile "{tls / "server.key"}"',
            ]
        return "\n".join(lines) + "\n"

    def _make_certificates(self) -> None:
        """A throwaway CA and a server certificate for localhost and 127.0.0.1 (openssl)."""
        tls = self.base / "tls"
        tls.mkdir(exist_ok=True)
        if shutil.which("openssl") is None:
            _apt_install(("openssl",))
        openssl = shutil.which("openssl")
        if openssl is None:
            raise ServerError("openssl not found (needed for the TLS test server)")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        (tls / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        for cmd in (
            [
                openssl,
                "req",
                "-x509",
                *ec,
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=ara-realtime test CA",
            ],
            [
                openssl,
                "req",
                *ec,
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
            [
                openssl,
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "san.ext",
            ],
        ):
            proc = subprocess.run(cmd, cwd=tls, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise ServerError(f"openssl failed: {proc.stderr.strip()}")

    def _configure(self) -> None:
        for path in [*self.schemas, *self.ldif_schemas]:
            if not path.is_file():
                raise ServerError(f"schema file {str(path)!r} not found")
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        if self.tls:
            self._make_certificates()
        conf = self.base / "slapd.conf"
        conf.write_text(self._slapd_conf())
        top = self.suffix.split(",")[0].split("=", 1)[1]
        base_entry = self.base / "base.ldif"
        base_entry.write_text(
            f"dn: {self.suffix}\nobjectClass: dcObject\nobjectClass: organization\n"
            f"dc: {top}\no: ara-realtime tests\n"
        )
        # slaptest opens the database read-only, so it must exist before the conversion
        _run([_tool("slapadd"), "-q", "-f", str(conf), "-l", str(base_entry)], "slapadd (base)")
        _run([_tool("slaptest"), "-Q", "-f", str(conf), "-F", str(self.config_dir)], "slaptest")
        for path in self.ldif_schemas:
            _run(
                [_tool("slapadd"), "-q", "-n", "0", "-F", str(self.config_dir), "-l", str(path)],
                f"slapadd of schema {path.name}",
            )

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        self.ensure_installed()
        self._configure()
        self._launch()

    def _launch(self) -> None:
        ldapi = urllib.parse.quote(str(self.socket), safe="")
        urls = f"ldap://{self.host}:{self.port} ldapi://{ldapi}"
        if self.tls_port is not None:
            urls += f" ldaps://{self.host}:{self.tls_port}"
        log = (self.base / "slapd.log").open("ab")
        proc = subprocess.Popen(
            [
                *self.launch_prefix,
                _tool("slapd"),
                "-F",
                str(self.config_dir),
                "-h",
                urls,
                "-d",
                "0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._proc = proc
        self.pid = proc.pid
        self._wait_ready(30.0)

    def _wait_ready(self, timeout: float) -> None:
        import socket  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex((self.host, self.port)) == 0:
                    return
            if not self._alive():
                tail = (self.base / "slapd.log").read_text(errors="replace")[-2000:]
                raise ServerError(f"slapd exited during start-up: {tail.strip()}")
            time.sleep(0.02)
        raise ServerError(f"slapd did not accept connections within {timeout:.0f} s")

    def slapadd(self, ldif: str) -> None:
        """Load LDIF into the database offline (fast: no per-entry sync); restarts if running."""
        running = self._alive()
        if running:
            self.stop()
        path = self.base / "load.ldif"
        path.write_text(ldif, encoding="utf-8")
        try:
            _run(
                [
                    _tool("slapadd"),
                    "-q",
                    "-F",
                    str(self.config_dir),
                    "-b",
                    self.suffix,
                    "-l",
                    str(path),
                ],
                "slapadd",
            )
        finally:
            path.unlink(missing_ok=True)
        if running:
            self._launch()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but nothing answers.

        Returns once every thread is stopped: ``kill`` only queues the signal, and a thread
        still running could answer a request sent right after.
        """
        if self.pid is not None:
            os.kill(self.pid, signal.SIGSTOP)
            _wait_stopped(self.pid)

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGCONT)

    def stop(self, sig: signal.Signals | None = None, timeout: float = 60.0) -> None:
        if self.pid is not None and self._alive():
            os.kill(self.pid, signal.SIGCONT)  # a paused server cannot handle SIGTERM
        super().stop(sig, timeout)

    def url(self, driver: str = "", database: str | None = None) -> str:
        return f"ldap://{self.host}:{self.port}"

    def settings(self) -> dict[str, str]:
        """``res_ldap.conf`` ``[_general]`` settings reaching this server as its root DN."""
        return {"url": self.url(), "user": self.root_dn, "pass": self.password}


def _wait_stopped(pid: int, timeout: float = 5.0) -> None:
    """Wait until every thread of ``pid`` is stopped (state ``T``), or it exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
            try:
                states.append(stat.read_text().rsplit(")", 1)[1].split()[0])
            except (OSError, IndexError):  # a thread that exited meanwhile
                continue
        if all(state in ("T", "t", "Z", "X") for state in states):
            return
        time.sleep(0.001)
    raise ServerError(f"slapd (pid {pid}) did not stop within {timeout:g} s of SIGSTOP")
