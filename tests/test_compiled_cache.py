"""The per-user cache of compiled Jinja code: hits, misses, and files it must not trust."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import jinja2
import pytest
from helpers.commands import PLUGIN, run
from helpers.trees import tree_snapshot
from jinja2.sandbox import SandboxedEnvironment

from generator.compiled_cache import CompiledCache, cache_dir, fingerprint


class CountingEnvironment(SandboxedEnvironment):
    """A sandboxed environment that counts the sources it really parses."""

    parsed = 0

    def _parse(self, source, name, filename):  # type: ignore[no-untyped-def]
        CountingEnvironment.parsed += 1
        return super()._parse(source, name, filename)


def environment(folder: Path, **options: object) -> CountingEnvironment:
    return CountingEnvironment(loader=jinja2.FileSystemLoader(folder), **options)


def render_with_cache(folder: Path, **options: object) -> tuple[str, str, int]:
    """Render page.txt and one expression through a fresh environment and its cache."""
    CountingEnvironment.parsed = 0
    env = environment(folder, **options)
    cache = CompiledCache.install(env)
    assert cache is not None
    page = env.get_template("page.txt").render(who="world")
    expression = env.from_string("{{ who | upper }}!").render(who="you")
    cache.save()
    return page, expression, CountingEnvironment.parsed


@pytest.fixture
def templates(tmp_path: Path, git_home: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.txt").write_text("Hello {{ who }}.", encoding="utf-8")
    return folder


def cache_files() -> list[Path]:
    return sorted(cache_dir().glob("*.marshal")) if cache_dir().is_dir() else []


def test_a_second_run_compiles_nothing_and_renders_the_same(templates: Path) -> None:
    assert render_with_cache(templates) == ("Hello world.", "YOU!", 2)
    assert render_with_cache(templates) == ("Hello world.", "YOU!", 0)
    [stored] = cache_files()
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700


def test_an_edited_template_is_compiled_again(templates: Path) -> None:
    render_with_cache(templates)
    (templates / "page.txt").write_text("Goodbye {{ who }}.", encoding="utf-8")
    assert render_with_cache(templates) == ("Goodbye world.", "YOU!", 1)


def test_other_delimiters_never_read_code_compiled_for_the_defaults(templates: Path) -> None:
    render_with_cache(templates)
    page, expression, parsed = render_with_cache(templates, variable_start_string="[[")
    assert (page, parsed) == ("Hello {{ who }}.", 2)  # `{{` is plain text with these delimiters
    assert expression == "{{ who | upper }}!"
    assert fingerprint(environment(templates)) != fingerprint(
        environment(templates, variable_start_string="[[")
    )
    assert len(cache_files()) == 2


def test_the_same_template_in_another_folder_hits_and_names_its_own_file(
    templates: Path, tmp_path: Path
) -> None:
    render_with_cache(templates)
    moved = tmp_path / "elsewhere"
    templates.rename(moved)
    CountingEnvironment.parsed = 0
    env = environment(moved)
    CompiledCache.install(env)
    template = env.get_template("page.txt")
    assert (template.render(who="x"), CountingEnvironment.parsed) == ("Hello x.", 0)
    assert template.root_render_func.__code__.co_filename == str(moved / "page.txt")


def test_a_corrupt_cache_file_is_ignored_and_replaced(templates: Path) -> None:
    render_with_cache(templates)
    [stored] = cache_files()
    stored.write_bytes(b"\x00not marshal data")
    assert render_with_cache(templates) == ("Hello world.", "YOU!", 2)
    assert render_with_cache(templates)[2] == 0  # the rewritten file is read again


@pytest.mark.parametrize("target", ["file", "folder"])
def test_a_cache_others_may_write_is_never_read(templates: Path, target: str) -> None:
    render_with_cache(templates)
    [stored] = cache_files()
    victim = stored if target == "file" else stored.parent
    victim.chmod(stat.S_IMODE(victim.stat().st_mode) | stat.S_IWOTH)
    assert render_with_cache(templates)[2] == 2


def test_plugin_no_cache_turns_it_off(templates: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGIN_NO_CACHE", "1")
    assert CompiledCache.install(environment(templates)) is None
    assert cache_files() == []


def test_plugin_new_renders_the_same_project_from_a_warm_cache(
    tmp_path: Path, git_home: Path, template_snapshot: Path
) -> None:
    def new(run_name: str, **env: str) -> dict[str, str | bytes]:
        dest = tmp_path / run_name / "todo"  # the same folder name: Copier renders it
        argv = [PLUGIN, "new", str(dest), "--defaults", "--quiet", "--no-git", "--name", "Todo"]
        result = run(
            *argv, "--template", str(template_snapshot), cwd=tmp_path, env={**os.environ, **env}
        )
        assert (result.returncode, result.stderr) == (0, "")
        return tree_snapshot(dest)

    cold = new("cold")
    [stored] = cache_files()
    written = stored.stat().st_mtime_ns
    warm = new("warm")
    uncached = new("uncached", PLUGIN_NO_CACHE="1")
    assert cold == warm == uncached
    assert len(cold) > 20
    assert stored.stat().st_mtime_ns == written  # nothing new to write on a warm run
