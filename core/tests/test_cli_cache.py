"""``realtime cache stats``, ``cache install`` and ``cache remove`` on the example PBX."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ara_realtime import Realtime
from ara_realtime.cache import CACHE_FILE, RealtimeCache, cache_of
from ara_realtime.cli import main


def run(pbx_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config-dir", str(pbx_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_stats_of_a_running_process(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pbx_dir / CACHE_FILE).write_text(
        "[general]\nstats_dir = stats\nstats_interval = 0.05\n[sippeers]\ncoherence = ttl\n"
    )
    rt = Realtime.from_config_dir(pbx_dir)  # this test's process is the "running" one
    cache = cache_of(rt)
    assert cache is not None
    rt.load("sippeers", name="alice")
    rt.load("sippeers", name="alice")
    rt.load("sippeers", name="nobody")
    cache.publish()
    code, out, err = run(pbx_dir, "--plain", "cache", "stats", capsys=capsys)
    assert (code, err) == (0, "")
    family = next(line for line in out.splitlines() if " sippeers " in f" {line} ")
    assert family.split()[:5] == [str(os.getpid()), "sippeers", "1", "2", "33.3%"]
    assert "sqlite3:pbx" in out and "poll" not in out  # coherence = ttl: no feed used
    code, out, _ = run(pbx_dir, "cache", "stats", "--json", capsys=capsys)
    (data,) = json.loads(out)
    assert data["pid"] == os.getpid()
    assert data["families"][0]["hits"] == 1 and data["families"][0]["hit_ratio"] == 0.3333
    rt.close()
    cache.close()
    code, out, _ = run(pbx_dir, "--plain", "cache", "stats", capsys=capsys)
    assert code == 1 and "No running process" in out


def test_stats_without_a_configured_cache(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(pbx_dir, "cache", "stats", capsys=capsys)
    assert code == 2 and "realtime_cache.conf: no such file" in err
    (pbx_dir / CACHE_FILE).write_text("[sippeers]\n")
    code, _, err = run(pbx_dir, "cache", "stats", capsys=capsys)
    assert code == 2 and "stats_dir is not set" in err


def test_install_and_remove(pbx_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pbx_dir / CACHE_FILE).write_text("[sippeers]\n[voicemail]\nkey = mailbox\n")
    code, out, err = run(pbx_dir, "--json", "cache", "install", capsys=capsys)
    assert (code, err) == (0, "")
    reports = {r["family"]: r for r in json.loads(out)}
    assert reports["sippeers"] == {
        "family": "sippeers",
        "backend": "sqlite3:pbx",
        "table": "sippeers",
        "feed": "poll",
        "key": "name",
        "ready": True,
        "error": None,
    }
    assert reports["voicemail"]["key"] == "mailbox"
    code, out, _ = run(pbx_dir, "--plain", "cache", "remove", "sippeers", capsys=capsys)
    assert code == 0 and "sippeers" in out and "voicemail" not in out
    code, _, err = run(pbx_dir, "cache", "install", "nosuchfamily", capsys=capsys)
    assert code == 2 and "'nosuchfamily' is not mapped" in err


def test_data_commands_leave_the_cache_off(
    pbx_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One call per command: a cache (and its change feed's thread) would only cost."""
    (pbx_dir / CACHE_FILE).write_text("[sippeers]\nttl = forever\n")
    attached: list[object] = []
    monkeypatch.setattr(RealtimeCache, "attach", lambda self, rt: attached.append(rt))
    code, out, _ = run(pbx_dir, "--json", "load", "sippeers", "name", "alice", capsys=capsys)
    assert code == 0 and json.loads(out)["name"] == "alice"
    assert attached == []
    run(pbx_dir, "cache", "install", capsys=capsys)
    assert len(attached) == 1  # the cache commands read it (families and keys)
