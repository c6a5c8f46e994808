"""Every corpus file round-trips file -> static table -> file on sqlite3, PostgreSQL, MariaDB
and LDAP: loading the rows gives what Asterisk reads from the file, and the text written back
from them parses to an equal Config (templates included).

The 112 files go in as one import (one all-or-nothing batch per driver)."""

from __future__ import annotations

from pathlib import Path

from ara_realtime import Config
from ara_realtime.migrate.static import ImportPlan, export_text, import_plan, run_import, visible

from .conftest import DB, Backend

CORPUS_DIRS = ("asterisk-conf-samples", "asterisk-basic-pbx")
EXPECTED_FILES = 112


def test_every_corpus_file_round_trips(backend: Backend, asterisk_corpus: Path) -> None:
    rt = backend.realtime(f"global => DRIVER,{DB},ast_config\n")
    backend.create(rt, ["global"])
    sources = sorted(p for d in CORPUS_DIRS for p in (asterisk_corpus / d).iterdir())
    assert len(sources) == EXPECTED_FILES
    plans = [import_plan(rt, p) for p in sources]
    batch = ImportPlan([f for plan in plans for f in plan.files])
    assert [f.name for f in batch.files] == [p.name for p in sources]
    written: list[int] = []
    run_import(rt, batch, progress=written.append)
    assert sum(written) == batch.row_count
    for source in sources:
        expected = Config.from_file(source)
        assert visible(rt.load_config(source.name)) == visible(expected), source.name
        text, restored = export_text(rt, source.name)
        assert restored.skipped == 0
        assert Config.from_string(text, filename=source.name) == expected, source.name
