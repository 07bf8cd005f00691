"""The layouts' Jinja templates: how they are compiled, and compiling them ahead, into the cache.

A first build compiles every template (about 0.4 s of processor time for the real site's 19), which
only Jinja and this module need: `compile_ahead` starts it in a process of its own as soon as the
command line is read, while the build's own process is still importing the rest.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

from .ignored import ignored_below
from .parallel import Background

# Jinja is imported where it is used: build.py forks the process that compiles before it is imported
# (72 ms), so that the process imports it on the other core while this one does.

_AHEAD: dict[tuple[Path, Path], Background] = {}


def template_names(templates: Path) -> list[str]:
    """Return the name of every template under `templates` (not what editors leave beside them)."""
    return [
        path.relative_to(templates).as_posix()
        for path in sorted(templates.rglob("*"))
        if path.is_file() and not ignored_below(path, templates)
    ]


def lacking(templates: Path, compiled: Path) -> bool:
    """Return whether the folder of compiled templates lacks some of the templates (a first build's)."""
    try:
        return len(os.listdir(compiled)) < len(template_names(templates))
    except OSError:
        return False


def settings() -> dict:
    """Return the environment's settings that its compiled templates depend on (see render.make_environment)."""
    import jinja2

    return {
        # Templates are read once per environment; a build that sees a changed file makes a new one.
        "auto_reload": False,
        "undefined": jinja2.StrictUndefined,
        "autoescape": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
    }


def compile_templates(templates: Path, compiled: Path, share: int = 0, shares: int = 1) -> None:
    """Compile the templates under `templates` into the bytecode cache `compiled`: all of them, or one
    of `shares` shares of about equal size."""
    import jinja2

    # A plain environment compiles what render's does: only the settings change the code.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)),
        **settings(),
    )
    names = template_names(templates)
    by_size = sorted(names, key=lambda name: (-(templates / name).stat().st_size, name))
    for name in by_size[share::shares]:
        # A template with an error is left to the build that renders with it, which reports it.
        with contextlib.suppress(jinja2.TemplateError):
            env.get_template(name)


def compile_ahead(templates: Path, compiled: Path | None) -> None:
    """Start compiling the templates into `compiled` in a process of its own, if some are lacking there
    and a core is free; the build that follows waits for it (see `compiled_ahead`)."""
    if compiled is not None and (templates, compiled) not in _AHEAD and lacking(templates, compiled):
        started = Background(functools.partial(compile_templates, templates, compiled), apart=True)
        if started.apart:
            _AHEAD[templates, compiled] = started


def compiled_ahead(templates: Path, compiled: Path) -> Background | None:
    """Return the process `compile_ahead` started for these folders (once), or None."""
    return _AHEAD.pop((templates, compiled), None)
