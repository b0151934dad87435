"""Loads support.py (the tests' fixtures and helpers) into each pytest process that runs tests.

With pytest-xdist (`make test` runs `pytest -n auto`), the process that hands the tests to the
workers runs none itself. Importing support.py there, and with it the whole application, would
only delay the start of every worker by seconds, so it is left out of that one process.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register support.py as a plugin, except in pytest-xdist's controlling process."""
    distributing = bool(getattr(config.option, "numprocesses", None))
    distributing = distributing and config.getoption("dist", "no") != "no"
    is_worker = hasattr(config, "workerinput")
    if distributing and not is_worker and not config.option.collectonly:
        return
    config.pluginmanager.import_plugin("support")
