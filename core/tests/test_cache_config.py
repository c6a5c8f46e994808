"""``realtime_cache.conf``: policies per family, limits, errors naming file and line; the cache
switched on by ``Realtime.from_config_dir`` and re-read by ``reload``; counters in files."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest

from ara_realtime import ConfigError, Realtime
from ara_realtime.cache import (
    CACHE_FILE,
    CacheLimits,
    CachePolicy,
    RealtimeCache,
    cache_of,
    read_cache_config,
    read_stats_dir,
)

SAMPLE = """\
[general]
max_entries = 5000
max_memory = 16M
poll_interval = 0.5
ttl = 60                 ; the families' defaults
negative_ttl = 5

[sippeers]
ttl = 120                ; chan_sip: rtautoclear = 120
stale_if_error = 600

[iaxpeers]
ttl = forever            ; chan_iax2: rtcachefriends without rtautoclear
key = none
coherence = ttl

[voicemail]
enabled = no
"""


def test_the_sample_file(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    path.write_text(SAMPLE)
    config = read_cache_config(path)
    assert config.source == str(path)
    assert config.limits == CacheLimits(max_entries=5000, max_memory=16 * 2**20, poll_interval=0.5)
    assert config.families == {
        "sippeers": CachePolicy(ttl=120, negative_ttl=5, stale_if_error=600),
        "iaxpeers": CachePolicy(ttl=math.inf, negative_ttl=5, key=None, coherence="ttl"),
    }
    assert config.families["iaxpeers"].to_dict()["ttl"] == "forever"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[general]\nmax_entries = lots\n", 2, "max_entries: expected a whole number"),
        ("[general]\nmax_memory = 1T\n", 2, "expected a size in bytes"),
        ("[general]\nrtcachefriends = yes\n", 2, "unknown setting 'rtcachefriends'"),
        ("[sippeers]\nttl = soon\n", 2, "ttl: expected seconds or forever"),
        ("[sippeers]\nttl = 0\n", 2, "ttl must be > 0"),
        ("[sippeers]\nttl = 5\nnegative_ttl = -1\n", 3, "negative_ttl must be >= 0"),
        ("[sippeers]\ncoherence = maybe\n", 2, "coherence must be one of auto, feed, ttl"),
        ("[sippeers]\nkey = na me\n", 2, "invalid column name"),
        ("[sippeers]\nmax_entries = 5\n", 2, "cache-wide ones go in [general]"),
        ("[sippeers]\nenabled = perhaps\n", 2, "expected yes or no"),
        ("[sippeers]\n[SIPPEERS]\n", 2, "a second section for this family"),
        ("[general]\npoll_interval = forever\n", 2, "expected seconds"),
    ],
)
def test_mistakes_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / CACHE_FILE
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_cache_config(path)
    assert info.value.file is not None and info.value.file.endswith(CACHE_FILE)
    assert info.value.line == line
    assert message in str(info.value)


@pytest.fixture
def config_dir(pbx_dir: Path) -> Path:
    return pbx_dir


def test_from_config_dir_switches_the_cache_on(config_dir: Path) -> None:
    rt = Realtime.from_config_dir(config_dir)
    assert cache_of(rt) is None  # no realtime_cache.conf: no cache
    rt.close()
    (config_dir / CACHE_FILE).write_text("[sippeers]\nttl = 30\ncoherence = ttl\n")
    rt = Realtime.from_config_dir(config_dir)
    cache = cache_of(rt)
    assert cache is not None and set(cache.policies) == {"sippeers"}
    row = rt.load("sippeers", name="alice")
    assert row is not None and rt.load("sippeers", name="alice") == row
    assert cache.stats().family("sippeers").hits == 1
    rt.close()
    plain = Realtime.from_config_dir(config_dir, cache=False)
    assert cache_of(plain) is None
    plain.close()


def test_reload_reads_the_file_again(config_dir: Path) -> None:
    path = config_dir / CACHE_FILE
    path.write_text("[sippeers]\ncoherence = ttl\n")
    rt = Realtime.from_config_dir(config_dir)
    cache = cache_of(rt)
    assert cache is not None
    rt.load("sippeers", name="alice")
    path.write_text("[sippeers]\nttl = 5\ncoherence = ttl\n[sipregs]\n")
    rt.reload()
    assert cache_of(rt) is cache
    assert cache.policies["sippeers"].ttl == 5 and "sipregs" in cache.policies
    assert cache.stats().entries == 0
    path.write_text("[sippeers]\nttl = never ever\n")
    with pytest.raises(ConfigError, match="ttl"):
        rt.reload()
    assert cache.policies["sippeers"].ttl == 5  # a bad file changes nothing
    path.unlink()
    rt.reload()
    assert cache.policies == {}
    rt.load("sippeers", name="alice")
    assert cache.stats().entries == 0
    rt.close()


def test_a_file_made_later_switches_the_cache_on_at_reload(config_dir: Path) -> None:
    rt = Realtime.from_config_dir(config_dir)
    (config_dir / CACHE_FILE).write_text("[sippeers]\ncoherence = ttl\n")
    rt.reload()
    cache = cache_of(rt)
    assert cache is not None and "sippeers" in cache.policies
    rt.close()


def test_counters_are_written_for_the_cli(config_dir: Path, tmp_path: Path) -> None:
    stats_dir = tmp_path / "stats"
    cache = RealtimeCache(
        {"sippeers": CachePolicy(coherence="ttl")},
        CacheLimits(stats_dir=stats_dir, stats_interval=0.05),
    )
    rt = Realtime.from_config_dir(config_dir, cache=False)
    cache.attach(rt)
    rt.load("sippeers", name="alice")
    rt.load("sippeers", name="alice")
    cache.publish()
    found, gone = read_stats_dir(stats_dir)
    assert gone == []
    (stats,) = found
    assert stats.pid == os.getpid() and stats.source is not None
    assert stats.family("sippeers").hits == 1 and stats.family("sippeers").misses == 1
    (stats_dir / "99999999-dead.json").write_text('{"pid": 99999999}')
    found, gone = read_stats_dir(stats_dir)
    assert len(found) == 1 and [p.name for p in gone] == ["99999999-dead.json"]
    rt.close()
    cache.close()
    assert [p.name for p in stats_dir.glob("*.json")] == ["99999999-dead.json"]


def test_realtime_close_removes_the_counters_file(config_dir: Path, tmp_path: Path) -> None:
    """Closing the last connection a cache serves stops its thread and removes its file;
    using the Realtime again brings both back (the counters were kept)."""
    (config_dir / "realtime_cache.conf").write_text(
        f"[general]\nstats_dir = {tmp_path / 'stats'}\nstats_interval = 0.05\n"
        "[sippeers]\ncoherence = ttl\n"
    )
    rt = Realtime.from_config_dir(config_dir)
    cache = cache_of(rt)
    assert cache is not None
    rt.load("sippeers", name="alice")

    def files() -> list[Path]:
        return list((tmp_path / "stats").glob("*.json"))

    deadline = time.monotonic() + 10
    while not files():
        assert time.monotonic() < deadline, "the counters were never written"
        time.sleep(0.01)
    rt.close()
    assert files() == []
    time.sleep(0.2)  # several stats_interval: no thread writes it again
    assert files() == [] and cache._maintenance is None
    rt.load("sippeers", name="alice")  # served again
    deadline = time.monotonic() + 10
    while not files():
        assert time.monotonic() < deadline, "the counters were not written again"
        time.sleep(0.01)
    (found,), _ = read_stats_dir(tmp_path / "stats")
    assert found.family("sippeers").misses == 2
    rt.close()
    assert files() == []
