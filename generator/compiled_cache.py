"""A per-user cache of the Python code Jinja compiles from a template, kept between runs.

Compiling is most of what rendering a project costs: every template file and every expression
of copier.yml is parsed and turned into Python code, the same code on every `plugin new` of the
same template. `CompiledCache.install(env)` makes a Jinja environment look each source up here
before compiling it, and `save()` writes what was compiled for the next run.

What the code depends on is all in the key, so a stale entry is never read:

- the file is chosen by a fingerprint of the Jinja and Python versions and of every setting of
  the environment that changes the code Jinja generates (delimiters, whitespace options,
  extensions, filters and tests, autoescape, finalize, sandboxing);
- inside it, each entry is keyed by a hash of the template's name and source text. The file
  name is not part of the key (a template cloned to a new temporary directory on every run
  would never hit); it is written into the code objects on the way out, for tracebacks.

The file lives in the user's cache directory (`cache_dir()`). It holds code that is executed,
so it is read only when it and its directory belong to this user and nobody else may write
them, as for `~/.ssh`. Any problem reading or writing it (a corrupt or foreign file, a
read-only home, a full disk) costs only the time saved: Jinja then compiles as it always does.
`PLUGIN_NO_CACHE=1` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import stat
import sys
import tempfile
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import CodeType
from typing import Any

#: Entries kept per file (about 3 KB each); the least recently used go first. One project
#: variant uses about 160.
MAX_ENTRIES = 2000
#: Format of the cache file; bump it when what is stored changes.
FORMAT = 1


def cache_dir() -> Path:
    """Where compiled code is kept: $XDG_CACHE_HOME (or ~/.cache)/chatgpt-plugin-generator/jinja."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(os.path.expanduser(cache_home)) / "chatgpt-plugin-generator" / "jinja"


def enabled() -> bool:
    """False when PLUGIN_NO_CACHE asks for no cache."""
    return os.environ.get("PLUGIN_NO_CACHE", "").strip().lower() in ("", "0", "false", "no")


class CompiledCache:
    """The compiled code of one Jinja environment's sources, loaded from and saved to disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stored: dict[str, CodeType] = _read(path)
        self._used: dict[str, CodeType] = {}
        self._new = False

    @classmethod
    def install(cls, env: Any) -> CompiledCache | None:
        """Make `env` compile through a cache of its own fingerprint; None when disabled."""
        if not enabled():
            return None
        cache = cls(cache_dir() / f"{fingerprint(env)}.marshal")
        compile_source = env.compile

        def compile(  # noqa: A001 - stands in for Environment.compile
            source: Any,
            name: str | None = None,
            filename: str | None = None,
            raw: bool = False,
            defer_init: bool = False,
        ) -> Any:
            if raw or defer_init or not isinstance(source, str):
                return compile_source(source, name, filename, raw, defer_init)
            key = _key(name, source)
            code = cache.lookup(key)
            if code is None:
                code = compile_source(source, name, filename)
                cache.remember(key, code)
            return _with_filename(code, filename or "<template>")

        env.compile = compile
        return cache

    def lookup(self, key: str) -> CodeType | None:
        """The code stored for `key`, remembered as used by this run."""
        code = self._used.get(key) or self._stored.get(key)
        if code is not None:
            self._used[key] = code
        return code

    def remember(self, key: str, code: CodeType) -> None:
        """Keep code this run compiled, to be written by `save`."""
        self._used[key] = code
        self._new = True

    def save(self) -> None:
        """Write the file if this run compiled anything new; never fails."""
        if not self._new:
            return
        kept = {k: v for k, v in self._stored.items() if k not in self._used}
        kept.update(self._used)  # the entries this run used are the most recent
        entries = dict(list(kept.items())[-MAX_ENTRIES:])
        with contextlib.suppress(OSError, ValueError):
            _write(self.path, entries)
        self._new = False


def fingerprint(env: Any) -> str:
    """A hash of everything besides a source that decides the code Jinja compiles from it."""
    import jinja2

    def named(value: Any) -> str:
        if value is None or isinstance(value, bool | str | int):
            return repr(value)
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value))}"

    parts = [
        f"format={FORMAT}",
        f"jinja2={jinja2.__version__}",
        f"python={sys.implementation.cache_tag}:{MAGIC_NUMBER.hex()}",
        f"environment={named(type(env))}",
        f"code_generator={named(env.code_generator_class)}",
        *(
            f"{option}={getattr(env, option)!r}"
            for option in (
                "block_start_string",
                "block_end_string",
                "variable_start_string",
                "variable_end_string",
                "comment_start_string",
                "comment_end_string",
                "line_statement_prefix",
                "line_comment_prefix",
                "trim_blocks",
                "lstrip_blocks",
                "newline_sequence",
                "keep_trailing_newline",
                "optimized",
                "is_async",
            )
        ),
        f"autoescape={named(env.autoescape)}",
        f"finalize={named(env.finalize)}",
        "extensions=" + ",".join(sorted(named(type(ext)) for ext in env.extensions.values())),
        "filters=" + ",".join(sorted(env.filters)),
        "tests=" + ",".join(sorted(env.tests)),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _key(name: str | None, source: str) -> str:
    return hashlib.sha256(f"{name!r}\0{source}".encode()).hexdigest()


def _with_filename(code: CodeType, filename: str) -> CodeType:
    """`code` and the code nested in it, as if compiled from `filename`."""
    if code.co_filename == filename:
        return code
    consts = tuple(
        _with_filename(const, filename) if isinstance(const, CodeType) else const
        for const in code.co_consts
    )
    return code.replace(co_filename=filename, co_consts=consts)


def _private(path: Path) -> bool:
    """True when `path` belongs to this user and nobody else may write it."""
    info = path.lstat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not stat.S_ISLNK(info.st_mode)


def _read(path: Path) -> dict[str, CodeType]:
    """The entries of a cache file; empty when it is missing, foreign or unreadable."""
    try:
        if not (_private(path.parent) and _private(path)):
            return {}
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, CodeType)}


def _write(path: Path, entries: dict[str, CodeType]) -> None:
    """Replace the cache file in one step, so a reader never sees half of one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _private(path.parent):
        return
    handle, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            marshal.dump(entries, out)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
