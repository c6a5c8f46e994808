"""mkdocs hooks: the pages generated at build time, never edited by hand.

* ``conformance/matrix.md``: the feature matrix, from the JSON reports the conformance runs
  of the test command wrote (``ARA_CONFORMANCE_REPORT_DIR``, ``.tmp/conformance-reports`` by
  default), with what Asterisk's own drivers do beside ours (``asterisk.toml``);
* ``benchmarks/charts.md`` and its SVG charts: ours vs the raw client library per driver and
  operation, drawn with matplotlib from the results checked in under ``bench/results/``;
* ``fault-matrix.md``: the fault matrix's results (every driver and replicated cluster under
  each kind of fault), from ``docs/fault-matrix.json`` as ``scripts/fault-matrix`` wrote it
  (:func:`ara_testservers.faultpage.render`).

With ``ARA_DOCS_COMPLETE=1`` (scripts/test on a full run) a driver whose distribution is
installed but which has no report fails the build.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from ara_testservers.faultmatrix import read_json
from ara_testservers.faultpage import render as fault_page

sys.path.insert(0, str(Path(__file__).resolve().parent))

import charts
import matrix_page

log = logging.getLogger("mkdocs.hooks.ara")
REPO = Path(__file__).resolve().parents[2]


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    reports = Path(
        os.environ.get("ARA_CONFORMANCE_REPORT_DIR") or REPO / ".tmp/conformance-reports"
    )
    complete = os.environ.get("ARA_DOCS_COMPLETE", "").strip() in {"1", "true", "yes"}
    try:
        page, missing = matrix_page.page(reports)
    except matrix_page.MatrixError as exc:
        raise PluginError(str(exc)) from None
    if missing and complete:
        raise PluginError(
            f"no conformance report for {', '.join(missing)} in {reports}: the test command "
            "must run every installed driver's suite (or build without ARA_DOCS_COMPLETE)"
        )
    for name in missing:
        log.warning("the feature matrix has no report for %s (in %s)", name, reports)
    files.append(File.generated(config, "conformance/matrix.md", content=page))
    text, images = charts.page(REPO / "bench" / "results")
    files.append(File.generated(config, "benchmarks/charts.md", content=text))
    for name, svg in images.items():
        files.append(File.generated(config, f"benchmarks/{name}", content=svg))
    faults = REPO / "docs" / "fault-matrix.json"
    if not faults.is_file():
        raise PluginError(f"{faults} is missing: scripts/fault-matrix writes it")
    files.append(File.generated(config, "fault-matrix.md", content=fault_page(read_json(faults))))
    return files
