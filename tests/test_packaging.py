"""The wheel ships the template: build it, install it into a fresh virtualenv, generate, upgrade.

The repository's working tree is snapshotted into a throwaway repository (one commit, tagged
with the generator's version) so the wheel is built exactly as a release would be. The fresh
virtualenv gets only the wheel; its dependencies come from this environment's site-packages
through a .pth line (no network, no index), and it never sees the editable checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

from helpers.repos import REPO_ROOT, commit_all, git, init_repo, write_tree

from generator import __version__

BUNDLE_IN_WHEEL = "generator/_template/template.bundle"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the test with its output if it fails."""
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def snapshot_working_tree(dest: Path) -> Path:
    """A new repository holding the working tree as one commit, tagged v<version>.

    A fresh repository, not a clone, so the test also works where the checkout is shallow.
    """
    init_repo(dest)
    listed = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    commit_all(dest, "Snapshot of the working tree", tag=f"v{__version__}")
    return dest


def build_wheel(source: Path, out: Path) -> Path:
    """`pip wheel` the source tree, the way a user or CI builds it."""
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source)
    (wheel,) = out.glob("chatgpt_plugin_generator-*.whl")
    return wheel


def make_venv(path: Path) -> Path:
    """A fresh virtualenv that borrows dependencies (not the generator) from this one."""
    run(sys.executable, "-m", "venv", "--without-pip", path)
    (site_packages,) = path.glob("lib/python*/site-packages")
    shared = sysconfig.get_paths()["purelib"]
    (site_packages / "shared-dependencies.pth").write_text(shared + "\n", encoding="utf-8")
    return path


def install(venv: Path, wheel: Path) -> None:
    """Install (or replace) the generator from ``wheel`` in ``venv``."""
    run(
        sys.executable, "-m", "pip", "--python", venv / "bin/python", "install", "--quiet",
        "--no-deps", "--no-index", "--force-reinstall", wheel,
    )  # fmt: skip


def test_wheel_generates_projects_that_plain_copier_update_upgrades(
    tmp_path: Path, git_home: Path
) -> None:
    source = snapshot_working_tree(tmp_path / "source")
    wheel = build_wheel(source, tmp_path / "dist-1")
    with zipfile.ZipFile(wheel) as archive:
        assert BUNDLE_IN_WHEEL in archive.namelist()
    venv = make_venv(tmp_path / "venv")
    install(venv, wheel)
    python, plugin = venv / "bin/python", venv / "bin/plugin"
    imported = run(python, "-c", "import generator; print(generator.__file__)", cwd=tmp_path).stdout
    assert imported.startswith(str(venv)), "the fresh venv must use the wheel, not the checkout"

    project = tmp_path / "pack-test"
    run(plugin, "new", project, "--defaults", "--name", "Pack Test", "--auth", "none")
    answers = (project / ".copier-answers.yml").read_text()
    assert "_src_path: ~/.local/share/chatgpt-plugin-generator/template.bundle" in answers
    assert f"_commit: v{__version__}" in answers
    assert str(tmp_path) not in answers, "a machine path leaked into the answers file"
    assert git(project, "status", "--porcelain") == "", "plugin new must commit the project"

    # The next release: a template change, a version bump, a tag, a new wheel installed over it.
    write_tree(source, {"template/UPGRADE_PROBE.md": "Arrived with the next release.\n"})
    next_version = f"{__version__}.1"
    init_py = source / "generator/__init__.py"
    init_py.write_text(
        init_py.read_text().replace(f'"{__version__}"', f'"{next_version}"'), encoding="utf-8"
    )
    commit_all(source, "Next release", tag=f"v{next_version}")
    install(venv, build_wheel(source, tmp_path / "dist-2"))
    # the version spelled as everywhere: the package's, and the template's as _commit records it
    assert run(plugin, "--version").stdout == f"plugin {next_version} (template v{next_version})\n"
    # Any `plugin` run merges the new wheel's bundle into the per-user store; a preview is one.
    preview = run(plugin, "update", project, "--pretend").stdout
    assert "UPGRADE_PROBE.md" in preview

    run(python, "-m", "copier", "update", "--defaults", "--conflict", "inline", cwd=project)

    assert (project / "UPGRADE_PROBE.md").read_text() == "Arrived with the next release.\n"
    assert f"_commit: v{next_version}" in (project / ".copier-answers.yml").read_text()


def test_sdist_carries_the_bundle_so_a_wheel_built_from_it_does_too(
    tmp_path: Path, git_home: Path
) -> None:
    source = snapshot_working_tree(tmp_path / "source")
    run(sys.executable, "-m", "build", "--sdist", "--outdir", tmp_path / "sdist", source)
    (sdist,) = (tmp_path / "sdist").glob("chatgpt_plugin_generator-*.tar.gz")

    wheel = build_wheel(sdist, tmp_path / "dist")

    with tarfile.open(sdist) as archive:
        in_sdist = [name for name in archive.getnames() if name.endswith(BUNDLE_IN_WHEEL)]
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read(BUNDLE_IN_WHEEL)
    assert len(in_sdist) == 1
    assert shipped.startswith(b"# v2 git bundle")
    bundle = tmp_path / "template.bundle"
    bundle.write_bytes(shipped)
    heads = git(tmp_path, "bundle", "list-heads", str(bundle))
    assert f"refs/tags/v{__version__}" in heads
    assert git(source, "rev-parse", "HEAD").strip() + " HEAD" in heads


def test_editable_install_ships_no_bundle() -> None:
    import generator

    assert not (Path(generator.__file__).parent / BUNDLE_IN_WHEEL.split("/", 1)[1]).exists()
