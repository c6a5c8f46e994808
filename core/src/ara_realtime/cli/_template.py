"""``realtime new-driver NAME``: a ready driver package from the templates in ``template/``.

The package holds the entry points, a typed ``Connection`` implementing the contract over a
``Storage`` class (the one part left to fill in), a conformance target with a back door and a
real outage, the suite's tests, a CI workflow and a README.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from ..errors import ConfigError

__all__ = ["FILES", "create"]

#: template file -> where it goes in the package (``__MODULE__`` replaced)
FILES: dict[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "workflow.yml.tmpl": ".github/workflows/conformance.yml",
    "init.py.tmpl": "src/__MODULE__/__init__.py",
    "connection.py.tmpl": "src/__MODULE__/connection.py",
    "storage.py.tmpl": "src/__MODULE__/storage.py",
    "conformance.py.tmpl": "src/__MODULE__/conformance.py",
    "conftest.py.tmpl": "tests/conftest.py",
    "test_conformance.py.tmpl": "tests/test_conformance.py",
}
_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")


def create(name: str, directory: Path | None = None) -> tuple[Path, list[Path]]:
    """Write the package of driver ``name`` into ``directory`` (default ``./ara-NAME``).

    ``ConfigError`` for a name that cannot be an entry-point and module name, or a directory
    that exists and is not empty (nothing is overwritten).
    """
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"driver name {name!r}: use lower-case letters, digits and _, starting with a "
            "letter (it is the name extconfig.conf uses, and part of the module name)"
        )
    words = {
        "__MODULE__": f"ara_{name}",
        "__DIST__": f"ara-{name.replace('_', '-')}",
        "__CLASS__": "".join(part.capitalize() for part in name.split("_")),
        "__NAME__": name,
    }
    where = Path(directory) if directory is not None else Path(f"ara-{words['__NAME__']}")
    if where.exists() and (not where.is_dir() or any(where.iterdir())):
        raise ConfigError(f"{where} exists and is not an empty directory: nothing was written")
    templates = resources.files(__package__ or "ara_realtime.cli") / "template"
    written = []
    for source, target in FILES.items():
        text = (templates / source).read_text(encoding="utf-8")
        for word, value in words.items():  # __MODULE__ before __NAME__: it contains no other
            text = text.replace(word, value)
            target = target.replace(word, value)
        path = where / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    typed = where / "src" / words["__MODULE__"] / "py.typed"
    typed.write_text("", encoding="utf-8")
    written.append(typed)
    return where, written
