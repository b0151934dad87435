"""`plugin new` stopped part-way leaves nothing behind: Ctrl-C, a template error, a full disk.

Each test renders a real copy of this repository's template (copier.yml + template/, committed
to a fresh git repository), made slow or broken on purpose, so the interruption is sure to land
while files are being written.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.commands import PLUGIN, default_sigint
from helpers.repos import copy_real_template, write_tree
from typer.testing import CliRunner

from generator.cli import app

# Appended to every template file: 1.5e7 silent loop steps in Jinja's sandbox, a few tenths of a
# second per file, so the whole render takes many seconds whatever order Copier walks files in.
SLOW_SUFFIX = (
    "{% for i in range(150) %}{% for j in range(100000) %}{% if j == -1 %}x{% endif %}"
    "{% endfor %}{% endfor %}"
)


def template_copy(root: Path, extra_files: dict[str, str], slow: bool = False) -> Path:
    """A committed git repository holding the real template plus `extra_files` (under template/).

    With `slow`, every Jinja file renders slowly (its output unchanged).
    """

    def change(repo: Path) -> None:
        if slow:
            for path in (repo / "template").rglob("*.jinja"):
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(SLOW_SUFFIX)
        write_tree(repo / "template", extra_files)

    return copy_real_template(root / "template-repo", edit=change)


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def test_ctrl_c_mid_render_exits_130_and_leaves_nothing(tmp_path: Path, git_home: Path) -> None:
    repo = template_copy(tmp_path / "src", {}, slow=True)
    work = tmp_path / "work"
    work.mkdir()
    process = subprocess.Popen(
        [PLUGIN, "new", "project", "--template", str(repo), "--vcs-ref", "HEAD",
         "--defaults", "--no-git", "--name", "Slow Todo"],
        cwd=work,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )  # fmt: skip

    def files_written() -> list[Path]:
        staging = [p for p in work.iterdir() if p.name.startswith(".project.")]
        return [p for p in staging[0].rglob("*") if p.is_file()] if staging else []

    try:
        # A few files in, with dozens of slow ones still to come: surely mid-render.
        written_before = wait_for(
            lambda: len(files_written()) >= 3 and files_written(),
            timeout=60,
            what="the first rendered files",
        )
        assert process.poll() is None, "rendering finished before it could be interrupted"
        # Ctrl-C on a terminal signals the whole foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert process.returncode == 130, (process.returncode, stdout, stderr)
    assert stderr.strip().splitlines() == ["Interrupted: nothing was written."], stderr
    assert "Traceback" not in stdout + stderr
    assert list(work.iterdir()) == [], f"left behind: {list(work.iterdir())}"
    # The interruption really came mid-render: files had been written, and they are gone.
    assert not any(path.exists() for path in written_before)


def test_template_error_mid_render_reports_one_line_and_leaves_nothing(
    tmp_path: Path, git_home: Path
) -> None:
    repo = template_copy(
        tmp_path / "src", {"zzz_broken.txt.jinja": "{{ no_such_answer.attribute }}\n"}
    )
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [PLUGIN, "new", "project", "--template", str(repo), "--vcs-ref", "HEAD",
         "--defaults", "--no-git", "--name", "Broken Todo"],
        cwd=work,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: The template could not be rendered:"), lines[0]
    assert "no_such_answer" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert list(work.iterdir()) == [], f"left behind: {list(work.iterdir())}"


def _render_until_disk_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Path, list[Path]]:
    """Run `plugin new` in-process; the sixth file Copier writes fails with ENOSPC."""
    from copier._main import Worker

    real_render_file = Worker._render_file
    rendered: list[Path] = []

    def render_until_disk_full(self: Worker, src: Path, dst: Path, *args: Any, **kw: Any) -> None:
        if len(rendered) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        real_render_file(self, src, dst, *args, **kw)
        rendered.append(Path(self.dst_path) / dst)

    monkeypatch.setattr(Worker, "_render_file", render_until_disk_full)
    repo = template_copy(tmp_path / "src", {})
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = CliRunner().invoke(
        app,
        ["new", "project", "--template", str(repo), "--vcs-ref", "HEAD", "--defaults",
         "--no-git", "--quiet", "--name", "Full Disk"],
    )  # fmt: skip
    return result, work, rendered


def test_disk_full_after_some_files_leaves_nothing(
    tmp_path: Path, git_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, work, rendered = _render_until_disk_full(tmp_path, monkeypatch)

    assert len(rendered) == 5, "the error did not come after five written files"
    assert not any(path.exists() for path in rendered)
    assert result.exit_code != 0
    assert list(work.iterdir()) == [], f"left behind: {list(work.iterdir())}"


def test_disk_full_is_reported_in_one_sentence(
    tmp_path: Path, git_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _work, _rendered = _render_until_disk_full(tmp_path, monkeypatch)

    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), (result.stderr, result.exception)
    assert "No space left on device" in lines[0]
