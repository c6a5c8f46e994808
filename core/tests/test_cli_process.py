"""The ``realtime`` console script as a real process: pipes, exit statuses, standard error.

In-process tests cannot see these: pytest captures logging and replaces the standard
streams, so a closed pipe or an unhandled log record never reaches a real file descriptor.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("realtime")
EXIT_OUTPUT_CLOSED = 141


def realtime(pbx_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), "--config-dir", str(pbx_dir), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def closed_pipe() -> Iterator[int]:
    """The write end of a pipe whose reader has gone: every write to it fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    yield write_end
    os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["load-multi", "sippeers", "name LIKE", "%"],  # a rich table when rich is installed
        ["--plain", "load-multi", "sippeers", "name LIKE", "%"],
        ["load", "sippeers", "name", "alice", "--plain"],
        ["--json", "load", "sippeers", "name", "alice"],
        ["config", "show", "queues.conf"],
        ["drivers"],
        ["--version"],
        ["--help"],
        ["load", "--help"],
    ],
)
def test_closed_pipe_is_status_141_and_silent(
    pbx_dir: Path, closed_pipe: int, args: list[str]
) -> None:
    proc = subprocess.run(
        [str(EXE), "--config-dir", str(pbx_dir), *args],
        stdout=closed_pipe,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (EXIT_OUTPUT_CLOSED, "")


@pytest.mark.parametrize("mode", ["--plain", "--json"])
def test_piped_into_head(pbx_dir: Path, mode: str) -> None:
    """``realtime load-multi ... | head -1`` with more output than the pipe holds.

    JSON is one large string: a single write of it returned short when head left, and
    CPython dropped the rest silently (exit 0); it is written in pieces now.
    """
    conn = sqlite3.connect(pbx_dir / "pbx.db")
    with conn:
        conn.executemany(
            "INSERT INTO sippeers (name, host, context) VALUES (?, 'dynamic', 'bulk')",
            [(f"peer{i:05d}",) for i in range(5000)],
        )
    conn.close()
    argv = ["--config-dir", str(pbx_dir), mode, "load-multi", "sippeers", "context", "bulk"]
    producer = subprocess.Popen(
        [str(EXE), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert producer.stdout is not None and producer.stderr is not None
    head = subprocess.run(
        ["head", "-1"], stdin=producer.stdout, capture_output=True, check=True, timeout=60
    )
    producer.stdout.close()  # head holds the only reader now
    err = producer.stderr.read()
    producer.stderr.close()
    assert producer.wait(timeout=60) == EXIT_OUTPUT_CLOSED
    assert err == b""
    assert head.stdout.split() == (
        [b"id", b"name", b"host", b"context"] if mode == "--plain" else [b"["]
    )


def test_a_closed_standard_error_is_status_141_and_silent(pbx_dir: Path, closed_pipe: int) -> None:
    """20,000 warnings into a closed pipe (``2>&1 | head -1``): exit 141, no traceback."""
    (pbx_dir / "noisy.conf").write_text("[c]\n" + "".join(f"x{i}\n" for i in range(20000)))
    proc = subprocess.run(
        [str(EXE), "--config-dir", str(pbx_dir), "config", "show", "noisy.conf"],
        stdout=subprocess.DEVNULL,
        stderr=closed_pipe,
        check=False,
        timeout=60,
    )
    assert proc.returncode == EXIT_OUTPUT_CLOSED


def test_backend_failure_is_one_line(pbx_dir: Path) -> None:
    (pbx_dir / "res_config_sqlite3.conf").write_text("[pbx]\ndbfile = missing/dir/pbx.db\n")
    proc = realtime(pbx_dir, "load", "sippeers", "name", "alice")
    assert (proc.returncode, proc.stdout) == (3, "")
    [line] = proc.stderr.splitlines()  # not also the failover warning saying the same
    assert line.startswith(
        "realtime: error: backend failure: load on 'sippeers' failed on every backend: "
        "sqlite3:pbx: "
    )


def test_warnings_are_marked_and_come_before_the_error(pbx_dir: Path) -> None:
    (pbx_dir / "extconfig.conf").write_text(
        "[settings]\nsippeers => nosuchdriver,pbx\nnot a setting\n"
    )
    proc = realtime(pbx_dir, "load", "sippeers", "name", "alice")
    assert (proc.returncode, proc.stdout) == (2, "")
    warning, error = proc.stderr.splitlines()
    assert warning == (
        f"realtime: warning: {pbx_dir}/extconfig.conf:3: no '=' (equal sign) in line, ignored"
    )
    assert error.startswith("realtime: error: no driver named 'nosuchdriver' is installed")


def test_usage_error_without_traceback(pbx_dir: Path) -> None:
    proc = realtime(pbx_dir, "load", "sippeers", "name")
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: realtime load [-h] ")
    assert proc.stderr.endswith(
        "realtime: error: load: the following arguments are required: VALUE\n"
    )
