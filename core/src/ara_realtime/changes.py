"""Change feeds: how a storage tells its readers that rows changed (hook ``ara_change_feed``).

Several processes (Asterisk hosts, Python services) often share one database; a cache in one of
them must learn of rows another one changed. A driver whose storage can say so returns a
:class:`ChangeFeed` from ``ara_change_feed``:

* ``kind = "notify"``: the storage pushes a message per committed change (PostgreSQL
  ``LISTEN/NOTIFY`` through triggers, an LDAP persistent search, the in-process ``memory``
  store);
* ``kind = "poll"``: the feed asks the storage a cheap "has anything changed?" question at a
  fixed interval (SQLite's ``PRAGMA data_version``, a change-counter table kept by triggers).

Whatever needs installing in the storage (triggers, a counter table) is installed only by an
explicit :meth:`ChangeFeed.setup` (the ``realtime cache install`` command), never on the side.
A consumer (the realtime cache, :mod:`ara_realtime.cache`) calls :meth:`ChangeFeed.subscribe`
and then, from one thread of its own, :meth:`Subscription.wait` in a loop.

What a feed promises, checked by the conformance suite's ``changes`` area:

* every change committed after :meth:`~ChangeFeed.subscribe` returned, by anyone (this
  process, another process, a client beside the driver), to a covered table is reported by a
  :meth:`~Subscription.wait` call that starts no later than :attr:`Subscription.bound`
  seconds after the commit; reporting more than changed is allowed, less never is;
* a :class:`Change` that names a ``column`` lists, among its ``values``, the old and the new
  value of that column of every row the change touched (NULL as ``""``; ``^XX`` decoded);
* when the feed cannot know what it missed (its connection was lost and made again, a
  message queue overflowed) ``wait`` returns ``None``; when the storage cannot be reached it
  raises :class:`~ara_realtime.errors.BackendError`. It never returns ``[]`` for a period in
  which it could have missed a change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import ClassVar, Literal, NamedTuple

__all__ = ["Change", "ChangeFeed", "ChangeFeedKind", "Subscription"]

#: How a driver's storage reports changes (``Capabilities.change_feed``): not at all, pushed
#: by the storage, or found by polling it.
ChangeFeedKind = Literal["none", "notify", "poll"]


class Change(NamedTuple):
    """Rows of ``table`` changed.

    With ``column`` and ``values``: only rows whose ``column`` held, before or after the
    change, one of ``values`` (the feed lists the old and the new value of every row it
    touched). Without: any row of the table may have changed.
    """

    table: str
    column: str | None = None
    values: frozenset[str] | None = None


class Subscription:
    """Changes to some tables, as they are committed. Made by :meth:`ChangeFeed.subscribe`.

    :meth:`wait` and :meth:`close` are called from one thread, the consumer's.
    """

    #: The tables whose changes this subscription reports (those of the request that the
    #: feed can watch, see :meth:`ChangeFeed.ready`).
    tables: frozenset[str] = frozenset()
    #: The most seconds between a commit and the start of a :meth:`wait` call that returns
    #: it: the poll interval for ``poll`` feeds; for ``notify`` feeds the time a message may
    #: take to arrive once sent (the wait itself returns as soon as one arrives).
    bound: float = 0.0

    def wait(self, timeout: float) -> list[Change] | None:
        """The changes reported since the last call, waiting up to ``timeout`` seconds for one.

        :return: the changes (``[]`` if none came within ``timeout``), or ``None`` when the
            feed lost track and any covered table may have changed.
        :raises BackendError: the storage cannot be reached (the consumer subscribes again).
        """
        raise NotImplementedError

    def close(self) -> None:
        """Stop watching and release what the subscription holds (idempotent)."""


class ChangeFeed:
    """A driver's way of reporting changes for one connection (``ara_change_feed``)."""

    #: ``"notify"`` or ``"poll"``: matches the driver's ``Capabilities.change_feed``.
    kind: ClassVar[ChangeFeedKind] = "notify"

    def setup(self, tables: Mapping[str, str | None]) -> None:
        """Install what watching ``tables`` needs (triggers, a counter table), explicitly.

        ``tables`` maps each table to the column its changes should name (the consumer's key,
        ``None`` for none). Idempotent: a second call replaces what the first installed.
        The default installs nothing (the storage needs nothing).

        :raises QueryError: a table (or the column) does not exist, or the account may not
            install what is needed.
        :raises BackendError: the storage cannot be reached.
        """

    def teardown(self, tables: Collection[str]) -> None:
        """Remove what :meth:`setup` installed for ``tables`` (idempotent)."""

    def ready(self, tables: Collection[str]) -> frozenset[str]:
        """The tables of ``tables`` that can be watched as things stand (set up, existing).

        :raises BackendError: the storage cannot be reached.
        """
        return frozenset(tables)

    def subscribe(self, tables: Mapping[str, str | None], *, interval: float) -> Subscription:
        """Start watching ``tables`` (table -> the column changes should name, or ``None``).

        Every change committed after this returns is reported. ``interval`` is how often a
        ``poll`` feed asks the storage (its :attr:`Subscription.bound`); ``notify`` feeds
        ignore it. Tables that cannot be watched are left out of
        :attr:`Subscription.tables`.

        :raises BackendError: the storage cannot be reached.
        """
        raise NotImplementedError
