"""File trees compared whole: what a render wrote, and what a failed one must not leave."""

from __future__ import annotations

from pathlib import Path


def tree_snapshot(root: Path, skip_lines: tuple[str, ...] = ()) -> dict[str, str | bytes]:
    """Every file outside .git: text minus the lines starting with `skip_lines`, or bytes."""
    snapshot: dict[str, str | bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == ".git" or not path.is_file():
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            snapshot[relative.as_posix()] = data
            continue
        kept = [line for line in text.splitlines() if not line.startswith(skip_lines)]
        snapshot[relative.as_posix()] = "\n".join(kept)
    return snapshot


def leftovers(parent: Path) -> list[str]:
    """Names in `parent` that a failed render must not leave behind (staging directories)."""
    return sorted(p.name for p in parent.iterdir() if p.name.endswith(".plugin-new"))
