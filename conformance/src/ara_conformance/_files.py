"""A ready target for drivers that keep their data in files: a directory per role."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ._target import ROLES, Session, Target, TargetError

__all__ = ["DirectoryTarget"]


class DirectoryTarget(Target):
    """A target for a driver whose storage is files: each role's database is a directory.

    Subclass it and say, in :meth:`role_settings`, how a directory becomes the driver's
    settings (``{"directory": str(path)}``, ``{"dbfile": str(path / "x.db")}``). Each role
    (``main``, ``primary``, ``secondary``) gets its own directory under ``workdir``, created on
    first use; without a ``workdir`` the target makes a temporary one, which :meth:`close`
    removes. Settings given to the target win for the ``main`` role.

    The outage is real: the role's directory is renamed away and every connection of the
    session is closed, so the driver must reopen storage that is not there (as after losing a
    disk); then the directory is renamed back. A role whose settings point somewhere the target
    did not create is never moved (:class:`TargetError`).
    """

    outage_kind = "real (the database directory is renamed away and restored)"

    def __init__(
        self,
        driver: str,
        workdir: Path | None = None,
        *,
        database: str = "ara_conformance",
        settings: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(driver, database=database, settings=settings, **options)
        self._ara_own = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix=f"ara-{driver}-")) if workdir is None else Path(workdir)
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        for key, value in self.role_settings(self.directory("main")).items():
            self.settings.setdefault(key, value)

    def role_settings(self, directory: Path) -> dict[str, str]:
        """The driver's settings that put a database in ``directory`` (override this)."""
        raise NotImplementedError(
            f"{type(self).__name__} must say how a directory becomes {self.driver!r} settings"
        )

    def directory(self, role: str) -> Path:
        """The directory of ``role`` (created if missing)."""
        path = self.workdir / role
        path.mkdir(exist_ok=True)
        return path

    def database_settings(self, role: str) -> tuple[str, dict[str, str]]:
        if role == "main":
            return self.database, dict(self.settings)
        settings = {**self.settings, **self.role_settings(self.directory(role))}
        return f"{self.database}_{role}", settings

    def settings_of(self, database: str) -> dict[str, str]:
        """The settings of the role whose database is named ``database`` (for the back door)."""
        for role in ROLES:
            name, settings = self.database_settings(role)
            if name == database:
                return settings
        raise KeyError(database)

    def owns(self, role: str) -> bool:
        """True if ``role``'s database is in the directory this target made for it."""
        settings = self.database_settings(role)[1]
        own = self.role_settings(self.directory(role))
        return all(settings.get(key) == value for key, value in own.items())

    @contextlib.contextmanager
    def outage(self, session: Session, role: str) -> Iterator[None]:
        if not self.owns(role):
            raise TargetError(
                f"the {role!r} database is not in a directory this target created; "
                "it will not move it"
            )
        where = self.directory(role)
        away = where.with_name(where.name + ".down")
        where.rename(away)
        session.drop_connections()
        try:
            yield
        finally:
            away.rename(where)

    def close(self) -> None:
        if self._ara_own:
            shutil.rmtree(self.workdir, ignore_errors=True)
