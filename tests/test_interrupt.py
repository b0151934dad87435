"""`plugin new` stopped part-way leaves nothing behind: Ctrl-C, a template error, a full disk.

Each test renders a real copy of this repository's template (copier.yml + template/, committed
to a fresh git repository) with one extra file that makes rendering slow or makes it fail, so
the interruption is sure to land while files are being written.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from generator.cli import app

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN = str(Path(sys.executable).parent / "plugin")
# About 3e8 loop steps in Jinja's sandbox: tens of seconds, far longer than the test waits.
SLOW_TEMPLATE = (
    "{% for i in range(3000) %}{% for j in range(100000) %}{% if j == -1 %}x{% endif %}"
    "{% endfor %}{% endfor %}done\n"
)
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Template Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


def template_copy(root: Path, extra_files: dict[str, str]) -> Path:
    """A committed git repository holding the real template plus `extra_files` (under template/)."""
    repo = root / "template-repo"
    repo.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "copier.yml", repo / "copier.yml")
    shutil.copytree(REPO_ROOT / "template", repo / "template")
    for relative, text in extra_files.items():
        (repo / "template" / relative).write_text(text, encoding="utf-8")
    env = {**os.environ, **GIT_IDENTITY}
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "template"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _restore_default_sigint() -> None:
    # A test runner may ignore SIGINT; a real terminal's child gets the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_mid_render_exits_130_and_leaves_nothing(tmp_path: Path) -> None:
    repo = template_copy(tmp_path / "src", {"zzz_slow.txt.jinja": SLOW_TEMPLATE})
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
        preexec_fn=_restore_default_sigint,
    )  # fmt: skip
    try:
        staging = wait_for(
            lambda: [p for p in work.iterdir() if p.name.startswith(".project.")],
            timeout=60,
            what="the temporary render directory",
        )[0]
        # Let Copier write what comes before the slow file, while the process is surely busy.
        time.sleep(1.0)
        assert process.poll() is None, "rendering finished before it could be interrupted"
        written_before = [p for p in staging.rglob("*") if p.is_file()]
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
    # The interruption really came mid-render: files had been written and are gone now.
    assert written_before, "no file was written before Ctrl-C: the test interrupted too early"


def test_template_error_mid_render_reports_one_line_and_leaves_nothing(tmp_path: Path) -> None:
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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, work, rendered = _render_until_disk_full(tmp_path, monkeypatch)

    assert len(rendered) == 5, "the error did not come after five written files"
    assert not any(path.exists() for path in rendered)
    assert result.exit_code != 0
    assert list(work.iterdir()) == [], f"left behind: {list(work.iterdir())}"


def test_disk_full_is_reported_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _work, _rendered = _render_until_disk_full(tmp_path, monkeypatch)

    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), (result.stderr, result.exception)
    assert "No space left on device" in lines[0]
