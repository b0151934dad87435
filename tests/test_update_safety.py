"""`plugin update` never loses the owner's work and says what went wrong in one sentence.

On the small template of tests/test_update_support.py, kept in a local git repository.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers.commands import PLUGIN, default_sigint, plugin
from helpers.repos import commit_all, git, write_tree
from helpers.small_template import generate, make_v1, make_v2, owner_edits
from helpers.trees import tree_snapshot


@pytest.fixture
def v1_project(tmp_path: Path, git_home: Path) -> tuple[Path, Path]:
    """An untouched v1 project, and its origin at v1."""
    origin = make_v1(tmp_path / "origin")
    return origin, generate(origin, tmp_path / "project")


def unchanged(project: Path, before: dict[str, str], head: str) -> bool:
    return (
        tree_snapshot(project, skip_lines=()) == before
        and git(project, "rev-parse", "HEAD") == head
        and git(project, "status", "--porcelain") == ""
    )


# -- files the template deletes or renames -----------------------------------------------------


def test_owner_edits_to_a_file_the_template_deletes_are_kept_and_listed(v1_project) -> None:
    origin, project = v1_project
    obsolete = project / "obsolete.txt"
    obsolete.write_text(obsolete.read_text() + "My notes, not the template's.\n")
    commit_all(project, "Owner notes")
    make_v2(origin)  # deletes obsolete.txt

    code, output = plugin("update", str(project), "--defaults")

    assert code == 0, output
    assert "My notes, not the template's." in obsolete.read_text()
    kept = output.split("Kept, though the template no longer has them")[1]
    assert "obsolete.txt" in kept.splitlines()[1]
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()


def test_owner_edits_to_a_file_the_template_renames_are_kept_and_listed(v1_project) -> None:
    origin, project = v1_project
    settings = project / "settings.py"
    settings.write_text(settings.read_text().replace("DEBUG = False", "DEBUG = True"))
    commit_all(project, "Owner turns on debugging")
    git(origin, "mv", "template/settings.py.jinja", "template/config.py.jinja")
    commit_all(origin, "Template v2: settings.py becomes config.py", tag="v2.0.0")

    code, output = plugin("update", str(project), "--defaults")

    assert code == 0, output
    assert "DEBUG = True" in settings.read_text(), "the owner's edit vanished"
    assert "DEBUG = False" in (project / "config.py").read_text()
    assert "settings.py" in output.split("Kept, though the template no longer has them")[1]


def test_an_unedited_file_the_template_deletes_is_deleted(v1_project) -> None:
    origin, project = v1_project
    make_v2(origin)

    code, output = plugin("update", str(project), "--defaults")

    assert code == 0, output
    assert not (project / "obsolete.txt").exists()
    assert "Kept, though" not in output


# -- messages ----------------------------------------------------------------------------------


def test_bad_yaml_in_the_answers_file_is_one_sentence(v1_project) -> None:
    origin, project = v1_project
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text() + "license: [unclosed\n")
    commit_all(project, "Break the answers file")

    code, output = plugin("update", str(project), "--defaults")

    assert code == 2
    assert output.splitlines() == [
        "Error: .copier-answers.yml is not valid YAML (line 6): fix it (git log -p "
        ".copier-answers.yml shows what it held), commit, then run plugin update again."
    ]


@pytest.mark.parametrize("kind", ["checkout", "bundle"])
def test_an_unknown_recorded_commit_is_named_in_the_advice(
    tmp_path: Path, git_home: Path, kind: str
) -> None:
    origin = make_v1(tmp_path / "origin")
    make_v2(origin)
    source = origin
    if kind == "bundle":  # as the wheel ships the template
        source = tmp_path / "template.bundle"
        git(origin, "bundle", "create", "--quiet", str(source), "--all")
    project = generate(source, tmp_path / "project", "--vcs-ref", "v1.0.0")
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("_commit: v1.0.0", "_commit: v0.9.9"))
    commit_all(project, "An answers file from elsewhere")

    code, output = plugin("update", str(project), "--defaults")

    assert code == 2
    (line,) = output.splitlines()
    assert line.startswith(
        "Error: The project's template version v0.9.9 (_commit in .copier-answers.yml) does "
        f"not exist in {source}:"
    ), line
    assert "set _commit to the version the project was made from: one of v1.0.0, v2.0.0" in line
    assert "None" not in line


def test_an_unknown_data_key_exits_2_as_in_plugin_new(v1_project) -> None:
    origin, project = v1_project
    make_v2(origin)
    before = tree_snapshot(project, skip_lines=())

    code, output = plugin("update", str(project), "--data", "licence=MIT")

    assert code == 2, output
    assert output.startswith("Error: --data licence: unknown question 'licence'; the questions ")
    assert "license" in output
    assert tree_snapshot(project, skip_lines=()) == before


def test_malformed_data_is_refused_as_in_plugin_new(v1_project) -> None:
    _, project = v1_project

    code, output = plugin("update", str(project), "--data", "license")

    assert (code, output) == (
        2,
        "Error: --data 'license': write it as KEY=VALUE, e.g. --data name=Todo.\n",
    )


def test_untracked_files_are_named_with_git_stash_u(v1_project) -> None:
    origin, project = v1_project
    make_v2(origin)
    write_tree(project, {"notes.txt": "draft\n", "drafts/idea.md": "idea\n"})

    code, output = plugin("update", str(project), "--defaults")

    assert code == 2
    (line,) = output.splitlines()
    assert "untracked files drafts/idea.md, notes.txt" in line
    assert "git stash -u" in line
    assert not (project / "CONTRIBUTING.md").exists()


def test_committed_example_conflict_markers_do_not_block_an_update(v1_project) -> None:
    origin, project = v1_project
    write_tree(
        project,
        {
            "docs/resolving.md": (
                "A conflict looks like this:\n\n<<<<<<< before updating\nmine\n=======\n"
                "theirs\n>>>>>>> after updating\n"
            )
        },
    )
    commit_all(project, "Document conflicts")
    make_v2(origin)

    code, output = plugin("update", str(project), "--defaults")

    assert code == 0, output
    assert "Conflicts" not in output
    assert (project / "CONTRIBUTING.md").exists()
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()


def test_markers_left_in_a_file_the_update_touches_still_block_it(v1_project) -> None:
    origin, project = v1_project
    readme = project / "README.md"
    readme.write_text(
        readme.read_text() + "<<<<<<< before updating\nx\n=======\ny\n>>>>>>> after updating\n"
    )
    commit_all(project, "Commit an unresolved conflict")
    make_v2(origin)  # changes README.md
    before = tree_snapshot(project, skip_lines=())

    code, output = plugin("update", str(project), "--defaults")

    assert code == 2
    assert "Conflict markers from an earlier update remain in README.md" in output
    assert tree_snapshot(project, skip_lines=()) == before


# -- Ctrl-C ------------------------------------------------------------------------------------


def test_ctrl_c_at_a_prompt_exits_130_with_one_line(v1_project) -> None:
    origin, project = v1_project
    copier_yml = origin / "copier.yml"
    copier_yml.write_text(copier_yml.read_text() + "owner:\n  type: str\n  help: Who owns it\n")
    write_tree(origin, {"template/OWNER.md.jinja": "{{ owner }}\n"})
    commit_all(origin, "Template v2 asks a question", tag="v2.0.0")
    head = git(project, "rev-parse", "HEAD")
    before = tree_snapshot(project, skip_lines=())

    pid, terminal = pty.fork()
    if pid == 0:  # the child: `plugin update` on a terminal
        os.chdir(project)
        os.execv(PLUGIN, [PLUGIN, "update"])
    output = b""
    try:
        deadline = time.monotonic() + 60
        while b"Who owns it" not in output and time.monotonic() < deadline:
            if select.select([terminal], [], [], 0.5)[0]:
                output += os.read(terminal, 65536)
        assert b"Who owns it" in output, output.decode(errors="replace")
        output = b""
        os.write(terminal, b"\x03")  # Ctrl-C as the terminal sends it
        while True:
            if not select.select([terminal], [], [], 30)[0]:
                break
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode(errors="replace"))
    assert os.waitstatus_to_exitcode(status) == 130, text
    lines = [line for line in text.replace("\r", "\n").splitlines() if line.strip()]
    assert lines[-1] == "Interrupted: nothing was written.", text
    assert len(text) < 400, text
    assert "Traceback" not in text and "AnswersMap" not in text
    assert unchanged(project, before, head)


def test_ctrl_c_at_many_moments_leaves_the_project_whole(tmp_path: Path, git_home: Path) -> None:
    """SIGINT at spread-out moments of a real update: unchanged, or completely updated."""
    origin = make_v1(tmp_path / "origin")
    pristine = generate(origin, tmp_path / "pristine")
    owner_edits(pristine)
    make_v2(origin)
    before = tree_snapshot(pristine, skip_lines=())
    head = git(pristine, "rev-parse", "HEAD")

    def fresh_copy(name: str) -> Path:
        copy = tmp_path / name
        subprocess.run(["cp", "-a", str(pristine), str(copy)], check=True)
        return copy

    def start(project: Path, scratch: Path) -> subprocess.Popen[str]:
        scratch.mkdir()
        return subprocess.Popen(
            [PLUGIN, "update", str(project), "--defaults"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TMPDIR": str(scratch)},
            start_new_session=True,
            preexec_fn=default_sigint,
        )

    def under_way(scratch: Path) -> float:
        """The moment the update starts its temporary files: Python has started."""
        deadline = time.monotonic() + 60
        while not any(scratch.iterdir()):
            assert time.monotonic() < deadline, "the update never started"
            time.sleep(0.005)
        return time.monotonic()

    # The complete update, uninterrupted, and how long it takes once under way.
    reference = fresh_copy("reference")
    finished = start(reference, tmp_path / "scratch-reference")
    began = under_way(tmp_path / "scratch-reference")
    finished.communicate(timeout=120)
    duration = time.monotonic() - began
    assert finished.returncode == 1, "the story's README conflict should be reported"
    after = tree_snapshot(reference, skip_lines=())
    assert after != before

    outcomes = []
    points = 10
    for index in range(points):
        project = fresh_copy(f"project-{index}")
        process = start(project, tmp_path / f"scratch-{index}")
        under_way(tmp_path / f"scratch-{index}")
        time.sleep(duration * index / points)
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        state = tree_snapshot(project, skip_lines=())
        if state == before:
            assert git(project, "rev-parse", "HEAD") == head
            assert git(project, "status", "--porcelain") == ""
            outcomes.append("unchanged")
            if stderr.strip():  # (Ctrl-C before the command starts exits 130 silently)
                assert stderr.strip().splitlines()[-1] == "Interrupted: nothing was written.", (
                    stderr
                )
        else:
            assert state == after, f"SIGINT at point {index} left a half-applied update"
            outcomes.append("updated")
            if process.returncode == 130:
                assert "applied completely" in stderr and "nothing was written" not in stderr
        assert "Traceback" not in stdout + stderr
    assert "unchanged" in outcomes, outcomes


def test_ctrl_c_while_the_update_is_applied_finishes_it(
    tmp_path: Path, git_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SIGINT after the first file is written: every file still arrives, exit 130."""
    import generator.update

    origin = make_v1(tmp_path / "origin")
    reference = generate(origin, tmp_path / "reference")
    project = generate(origin, tmp_path / "project")
    make_v2(origin)
    assert plugin("update", str(reference), "--defaults")[0] == 0
    stage = generator.update._stage
    written: list[Path] = []

    def write_then_interrupt(source: Path, target: Path) -> Path:
        staged = stage(source, target)
        written.append(target)
        if len(written) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return staged

    monkeypatch.setattr(generator.update, "_stage", write_then_interrupt)
    code, output = plugin("update", str(project), "--defaults")

    assert len(written) > 1, "the interrupt stopped the writing"
    assert code == 130, output
    assert output.splitlines() == [f"Error: {generator.update.APPLIED}"]
    assert tree_snapshot(project) == tree_snapshot(reference)


def test_a_full_disk_while_applying_leaves_the_project_as_it_was(
    edited_small_project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import generator.update

    _, project = edited_small_project
    before = tree_snapshot(project, skip_lines=())
    head = git(project, "rev-parse", "HEAD")
    stage = generator.update._stage
    staged: list[Path] = []

    def stage_until_full(source: Path, target: Path) -> Path:
        if len(staged) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        staged.append(stage(source, target))
        return staged[-1]

    monkeypatch.setattr(generator.update, "_stage", stage_until_full)
    code, output = plugin("update", str(project), "--defaults")

    assert len(staged) == 2, "the disk filled up before two files were copied"
    assert code == 1
    (line,) = output.splitlines()
    assert line.startswith("Error: The update could not be written: No space left on device")
    assert line.endswith("; nothing was written.")
    assert unchanged(project, before, head)
