"""What editors leave beside the files they edit (swap, lock, backup files), which a build never reads."""

from __future__ import annotations

from pathlib import Path


def ignored_name(name: str) -> bool:
    """Return True for a file an editor leaves beside the entries it edits, which is not content."""
    # Hidden files (vim's .x.yml.swp, Emacs's lock .#x.yml), backups (x.yml~) and Emacs's auto-save
    # files (#x.yml#, there from the first unsaved change until the save), as Hugo and Jekyll skip them.
    return name.startswith((".", "#")) or name.endswith("~")


def ignored_below(path: Path, folder: Path) -> bool:
    """Return True for a file under `folder` that an editor left there, or in a hidden folder there."""
    return any(map(ignored_name, path.relative_to(folder).parts))
