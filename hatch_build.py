"""Build hook: ship the template's git history inside the wheel as a git bundle.

Copier records `_src_path` and `_commit` only when it renders from git, and `copier update` needs
both. A wheel has no git repository, so the hook bundles this repository's history (HEAD and every
tag) into ``generator/_template/template.bundle``; `generator.template_source` renders from it.
The sdist carries the same bundle, so a wheel built from the sdist ships it too.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLE_IN_PACKAGE = "generator/_template/template.bundle"


class TemplateBundleHook(BuildHookInterface):
    """Adds the template bundle to wheels and sdists (editable installs use the checkout)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Create the bundle from the checkout, or reuse the one an sdist carries."""
        if self.target_name == "wheel" and version == "editable":
            return
        root = Path(self.root)
        if not (root / ".git").exists():
            if (root / BUNDLE_IN_PACKAGE).is_file():
                return  # an unpacked sdist: the package directory already holds the bundle
            raise RuntimeError(
                "Cannot ship the template: build from a git checkout of chatgpt-plugin-generator "
                "or from its sdist."
            )
        if _git(root, "rev-parse", "--is-shallow-repository") == "true":
            raise RuntimeError(
                "Cannot ship the template from a shallow clone: run `git fetch --unshallow --tags` "
                "first, because generated projects need the template's full history to update."
            )
        if _git(root, "status", "--porcelain", "--", "copier.yml", "template"):
            self.app.display_warning(
                "copier.yml or template/ has uncommitted changes; the wheel ships the template "
                "as committed at HEAD."
            )
        self._workdir = tempfile.mkdtemp(prefix="template-bundle-")
        bundle = Path(self._workdir) / "template.bundle"
        _git(root, "bundle", "create", "--quiet", str(bundle), "HEAD", "--tags")
        build_data["force_include"][str(bundle)] = BUNDLE_IN_PACKAGE

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the temporary bundle once the archive holds it."""
        workdir = getattr(self, "_workdir", None)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"git {args[0]} failed while building the template bundle: {result.stderr.strip()}"
        )
    return result.stdout.strip()
