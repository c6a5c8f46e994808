"""Every corpus file parses exactly as the real Asterisk parsed it, and survives a round trip.

The corpus (Asterisk's sample configs and Asterisk's own parse of them) lives outside the
repository; the root conftest.py finds it (``$ARA_CORPUS`` or ``<repo>/../shared/corpus``) and
says in the run's summary when these tests could not run. Under ``CI=true`` a missing corpus
fails them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ara_realtime.conf import Config

EXPECTED_GOLDEN_FILES = 112


def _golden(corpus: Path, name: str) -> dict[str, Any]:
    path = corpus / "asterisk-golden" / name
    assert path.is_file(), f"golden file missing: {path}"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_golden_file_count(asterisk_corpus: Path) -> None:
    golden = asterisk_corpus / "asterisk-golden"
    assert len(list(golden.glob("*.json"))) == EXPECTED_GOLDEN_FILES


def test_corpus_file_matches_asterisk(asterisk_corpus: Path, asterisk_golden: str) -> None:
    golden = _golden(asterisk_corpus, asterisk_golden)
    assert golden["status"] == "ok"
    source = asterisk_corpus / golden["corpus_dir"] / golden["file"]
    assert source.is_file(), f"corpus file missing: {source}"
    expected = golden["categories"]

    cfg = Config.from_file(source)
    assert cfg.to_dict() == expected
    # Templates are hidden from iteration but kept in file order otherwise.
    assert [c.name for c in cfg] == [c["name"] for c in expected if not c["template"]]

    text = cfg.to_text()
    again = Config.from_string(text, filename=f"{golden['file']} (rewritten)")
    assert again == cfg
    assert again.to_dict() == expected
    # Arrows survive too, although equality ignores them.
    flags = [[v.object for v in c.variables] for c in cfg.categories(templates=True)]
    again_flags = [[v.object for v in c.variables] for c in again.categories(templates=True)]
    assert again_flags == flags
    # Writing the re-read config gives the same text: the writer's choices are stable.
    assert again.to_text() == text
