"""Repository-wide test plumbing: the Asterisk corpus, kept outside the repository.

The corpus is Asterisk's sample configuration files, unchanged from the public Asterisk source
tree, plus Asterisk's own parse of each of them (see the README, "Running the tests"). It is not
ours to ship, so tests read it in place: ``$ARA_CORPUS``, or ``../shared/corpus`` next to the
clone. A test that needs it asks for the ``asterisk_corpus`` fixture (a test that also wants one
case per parsed file asks for ``asterisk_golden`` too); nothing else reads it.

Where it is absent, those tests are deselected and the run says so once, in its own summary
section, with where it looked and how to get it. A check nobody can run is not passed, so under
``CI=true``, or when ``ARA_CORPUS`` names a directory, an absent corpus fails them instead.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

CORPUS_ENV = "ARA_CORPUS"
REPO = Path(__file__).resolve().parent
_NOT_RUN = pytest.StashKey[list[pytest.Item]]()
_PLACEHOLDER = "<corpus missing>"


def corpus_dir() -> Path:
    """Where the corpus is expected: ``$ARA_CORPUS``, else ``../shared/corpus`` beside the clone."""
    env = os.environ.get(CORPUS_ENV)
    return Path(env) if env else REPO.parent / "shared" / "corpus"


def _required_by() -> str | None:
    """Why an absent corpus fails the run (CI, or a corpus named explicitly), or None."""
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        return "CI=true"
    if os.environ.get(CORPUS_ENV):
        return f"{CORPUS_ENV} is set"
    return None


def _present(corpus: Path) -> bool:
    return (corpus / "asterisk-golden").is_dir()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # One case per file Asterisk parsed. Without the corpus, one placeholder case: it fails in
    # the asterisk_corpus fixture (CI) or is deselected with the others; never an empty list.
    if "asterisk_golden" in metafunc.fixturenames:
        golden = corpus_dir() / "asterisk-golden"
        names = sorted(p.name for p in golden.glob("*.json")) if golden.is_dir() else []
        metafunc.parametrize("asterisk_golden", names or [_PLACEHOLDER])


@pytest.fixture(scope="session")
def asterisk_corpus() -> Path:
    """The corpus directory (``asterisk-conf-samples/``, ``asterisk-golden/``, ...)."""
    corpus = corpus_dir()
    if not _present(corpus):
        pytest.fail(
            f"Asterisk corpus not found (no asterisk-golden/ in {corpus}); with {_required_by()} "
            "it is required. "
            f"Put the corpus at ../shared/corpus next to the clone or set {CORPUS_ENV}; "
            "README.md, 'Running the tests', says what it is.",
            pytrace=False,
        )
    return corpus


@pytest.hookimpl(trylast=True)  # after -k/-m, so only tests that would have run are counted
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _required_by() or _present(corpus_dir()):
        return
    needs = [i for i in items if "asterisk_corpus" in getattr(i, "fixturenames", ())]
    if needs:
        items[:] = [i for i in items if "asterisk_corpus" not in getattr(i, "fixturenames", ())]
        config.hook.pytest_deselected(items=needs)
        config.stash[_NOT_RUN] = needs


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    needs = config.stash.get(_NOT_RUN, [])
    if not needs:
        return
    files = ", ".join(sorted({i.nodeid.split("::")[0] for i in needs}))
    per_file = ", ".join(sorted({i.name.split("[")[0] for i in needs if _PLACEHOLDER in i.name}))
    tests = "1 test" if len(needs) == 1 else f"{len(needs)} tests"
    need = "needs" if len(needs) == 1 else "need"
    text = (
        f"{tests} in {files} {need} the Asterisk corpus, which is not at {corpus_dir()}"
        + (f" (with it, {per_file} runs once per corpus file)" if per_file else "")
        + ". The corpus is Asterisk's sample configuration files (configs/samples/*.conf.sample "
        "and configs/basic-pbx/ from the public Asterisk source tree) plus Asterisk's own parse "
        "of each (asterisk-golden/*.json, from a real Asterisk's GetConfigJSON), against which "
        f"the .conf parser is checked. Put it at ../shared/corpus next to the clone or set "
        f"{CORPUS_ENV}=/path/to/corpus; README.md, 'Running the tests', says more. "
        "With CI=true these tests run, and fail without it."
    )
    terminalreporter.section("not run", sep="=", yellow=True, bold=True)
    for line in textwrap.wrap(text, width=100, break_on_hyphens=False):
        terminalreporter.line(line)
