"""The `--data KEY=VALUE` option, shared by `plugin new` and `plugin update`."""

from __future__ import annotations

from collections.abc import Iterable

from generator.errors import UsageError


def parse_data(items: Iterable[str]) -> dict[str, str]:
    """`--data` items as {key: value}, in order (a later key wins); one sentence for a bad one."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--data {item!r}: write it as KEY=VALUE, e.g. --data name=Todo.")
        pairs[key.strip()] = value
    return pairs
