from __future__ import annotations

# The conformance suite is a pytest plugin that is never loaded on its own: opt in here.
pytest_plugins = ["ara_conformance"]
