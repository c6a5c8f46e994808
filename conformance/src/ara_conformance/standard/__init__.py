"""The standard tests, one module per capability area (``values.py``, ``like.py``, ...).

Import them from :mod:`ara_conformance.suite`, which gathers the area classes into
``ConformanceTests`` and defines the ``Test*`` classes that ``--pyargs ara_conformance.suite``
collects. The modules here define no ``Test*`` class, so nothing in this package is collected
on its own, whatever a project's ``python_files`` and ``python_classes`` patterns are.
"""
