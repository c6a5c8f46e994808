"""Moving a static Asterisk installation to realtime storage.

* :mod:`.static` (``realtime config import/export``): ``.conf`` files into the
  static-configuration table, laid out by :mod:`.layout`, and back to text;
* :mod:`.objects` (``realtime import/export``): peers, endpoints, mailboxes and queues from
  ``sip.conf``, ``iax.conf``, ``pjsip.conf``, ``voicemail.conf`` and ``queues.conf`` into
  their families' rows, and back;
* :mod:`.stored`: how Asterisk reads back what an import stores (``;`` split, the ``^XX``
  codec), so that no value reaches it other than the file says.

Everything goes through the public :class:`~ara_realtime.Realtime` API, so it works with
every driver; writes are all or nothing (each module says how).
"""

from __future__ import annotations
