"""Asterisk's ``.conf`` format: :class:`Config` (parse with ``from_file``/``from_string``,
write with ``to_text``), :class:`Category` and :class:`Variable`."""

from __future__ import annotations

from ara_realtime.conf.model import Category, Config, Variable

__all__ = ["Category", "Config", "Variable"]
