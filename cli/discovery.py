"""Finding the Python files to migrate: recursive walk, .gitignore, --exclude."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import pathspec

SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "__pypackages__", "venv", "build", "dist", "buck-out"}


def _spec(lines: Iterable[str]) -> Optional[pathspec.PathSpec]:
    lines = [l for l in lines if l.strip() and not l.lstrip().startswith("#")]
    if not lines:
        return None
    return pathspec.PathSpec.from_lines("gitwildmatch", lines)


def _read_gitignore(directory: Path) -> Optional[pathspec.PathSpec]:
    path = directory / ".gitignore"
    try:
        return _spec(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return None


def _ancestor_gitignores(root: Path) -> List[Tuple[Path, pathspec.PathSpec]]:
    """.gitignore files of the enclosing git work tree, above ``root``."""
    found: List[Tuple[Path, pathspec.PathSpec]] = []
    current = root.parent
    for directory in [current, *current.parents]:
        spec = _read_gitignore(directory)
        if spec:
            found.append((directory, spec))
        if (directory / ".git").exists():
            return found
    return []  # not inside a git work tree: ignore stray .gitignore files above the root


def _ignored(path: Path, is_dir: bool, specs: Sequence[Tuple[Path, pathspec.PathSpec]]) -> bool:
    for base, spec in specs:
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            continue
        if spec.match_file(rel + "/" if is_dir else rel):
            return True
    return False


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").exists() or (directory / "conda-meta").is_dir()


PYTHON_SUFFIXES = (".py", ".pyw", ".pyi")


def path_problem(arg: str) -> Optional[str]:
    """Why a PATH argument cannot be used (a usage error), or None."""
    try:
        st = os.stat(arg)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"symlink loop: {arg}"
        if os.path.islink(arg):
            return f"broken symlink: {arg} -> {os.readlink(arg)}"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return f"permission denied: {arg}"
        return f"path does not exist: {arg}"
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file: {arg}"
    name = os.path.basename(arg)
    if name.endswith(PYTHON_SUFFIXES + (".ipynb",)):
        return None
    if _python_shebang(arg):
        return None
    return f"not a Python file: {arg} (torchupgrade reads *.py, *.pyw and *.pyi files, notebooks (*.ipynb) and scripts with a python #! line)"


def _python_shebang(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            first = fh.readline(256)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def discover(
    paths: Sequence[str],
    exclude: Sequence[str] = (),
    empty: Optional[List[str]] = None,
    rooted: Sequence[Tuple[Path, Sequence[str]]] = (),
    notebooks: bool = True,
) -> Iterator[Path]:
    """Yield the files to process, in a stable order.

    Explicit file arguments are always yielded. Directories are walked for ``*.py`` files,
    skipping hidden folders, virtualenvs, ``__pycache__``/``site-packages``/``node_modules``,
    symlinks, anything matched by ``.gitignore`` files (those in the tree and those of the
    enclosing git work tree), and anything matched by an ``--exclude`` pattern (gitignore syntax,
    relative to the directory given), or by a pattern of ``rooted`` ((base directory, patterns):
    the configuration's, relative to its directory). Notebooks (``*.ipynb``) are found too unless
    ``notebooks`` is false. Directories that hold no file to process are appended to ``empty``."""
    exclude_spec = _spec(exclude)
    rooted_specs = [(Path(os.path.abspath(base)), spec) for base, patterns in rooted for spec in [_spec(patterns)] if spec]
    suffixes = (".py", ".ipynb") if notebooks else (".py",)
    seen = set()
    for arg in paths:
        root = Path(arg)
        if not root.is_dir():
            if rooted_specs and _ignored(Path(os.path.abspath(root)), False, rooted_specs):
                continue
            real = os.path.realpath(root)
            if real not in seen:
                seen.add(real)
                yield root
            continue
        root_abs = root.resolve()
        specs: List[Tuple[Path, pathspec.PathSpec]] = list(_ancestor_gitignores(root_abs))
        if exclude_spec:
            specs.append((root_abs, exclude_spec))
        specs.extend(rooted_specs)
        found = False
        for path in _walk(root, root_abs, specs, seen, suffixes):
            found = True
            yield path
        if not found and empty is not None:
            empty.append(arg)


def _walk(root: Path, root_abs: Path, base_specs, seen, suffixes=(".py",)) -> Iterator[Path]:
    specs_by_dir = {root_abs: list(base_specs)}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        here_abs = root_abs / here.relative_to(root)
        specs = specs_by_dir.pop(here_abs, base_specs)
        local = _read_gitignore(here_abs)
        if local:
            specs = [*specs, (here_abs, local)]
        keep = []
        for d in sorted(dirnames):
            full = here_abs / d
            if d.startswith(".") or d in SKIP_DIRS or os.path.islink(full) or _is_virtualenv(full):
                continue
            if _ignored(full, True, specs):
                continue
            keep.append(d)
            specs_by_dir[full] = specs
        dirnames[:] = keep
        for f in sorted(filenames):
            if not f.endswith(suffixes):
                continue
            full = here_abs / f
            if os.path.islink(full) or _ignored(full, False, specs):
                continue
            real = str(full)
            if real in seen:
                continue
            seen.add(real)
            yield here / f
