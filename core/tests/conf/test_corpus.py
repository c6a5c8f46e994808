"""Every corpus file parses exactly as the real Asterisk parsed it, and survives a round trip.

The corpus lives outside the repository (``<repo>/../shared/corpus``, or ``$ARA_SHARED_DIR/corpus``)
and is read at run time; a missing corpus fails these tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ara_realtime.conf import Config

EXPECTED_GOLDEN_FILES = 112


def _shared_dir() -> Path:
    env = os.environ.get("ARA_SHARED_DIR")
    if env:
        return Path(env)
    repo_root = Path(__file__).resolve().parents[3]
    return repo_root.parent / "shared"


CORPUS = _shared_dir() / "corpus"
GOLDEN = CORPUS / "asterisk-golden"
# A missing corpus gives one parameter that fails, never an empty (skipped) parametrisation.
GOLDEN_NAMES = (
    sorted(p.name for p in GOLDEN.glob("*.json")) if GOLDEN.is_dir() else ["<corpus missing>"]
)


def _golden(name: str) -> dict[str, Any]:
    path = GOLDEN / name
    assert path.is_file(), f"golden file missing: {path} (is the shared corpus at {CORPUS}?)"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_golden_file_count() -> None:
    assert GOLDEN.is_dir(), f"corpus not found at {GOLDEN}; set ARA_SHARED_DIR"
    assert len(list(GOLDEN.glob("*.json"))) == EXPECTED_GOLDEN_FILES


@pytest.mark.parametrize("golden_name", GOLDEN_NAMES)
def test_corpus_file_matches_asterisk(golden_name: str) -> None:
    golden = _golden(golden_name)
    assert golden["status"] == "ok"
    source = CORPUS / golden["corpus_dir"] / golden["file"]
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
