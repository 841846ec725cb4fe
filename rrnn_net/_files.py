"""The files rrnn_net writes and reads: atomic outputs, output names, private build folders, ``.npz`` archives.

Every file the package writes goes through :func:`write_atomically`: the
content goes to a temporary file in the target folder, which is then renamed
into place, so an interrupted run leaves the previous file or the new one,
never a truncated one. Python functions (``save_graph``,
``GenerativeRNN.save``, ...) replace an existing file, as Python users expect;
the ``rrnn`` commands first check their outputs with :func:`check_outputs`
(never an input of the same command, an existing file only with ``--force``).

Folders whose contents get executed (C++ standalone projects) are
:func:`private_directory` folders: created with mode 0700, and refused when
another user owns them or could write to them.
"""

from __future__ import annotations

import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

import numpy as np

from .errors import MissingFolderError, OutputConflictError, ParameterError, UnsafeDirectoryError

__all__ = ["check_folder", "check_outputs", "output_file", "private_directory", "read_npz", "user_cache_directory",
           "write_atomically"]

#: What :func:`write_atomically` writes: bytes, text (as UTF-8), or a function writing to a binary file handle.
Content = bytes | str | Callable[[IO[bytes]], object]

# What numpy raises on a file that is not a complete, readable .npz archive.
_NPZ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
#: The first bytes of a zip archive (an .npz, empty ones included) and of an .npy array.
_ZIP_MAGIC, _NPY_MAGIC = b"PK", b"\x93NUMPY"


# ------------------------------------------------------------------ outputs
def write_atomically(path: str | Path, content: Content) -> Path:
    """Write ``content`` to ``path`` through a temporary file in the same folder, renamed into place.

    Parameters
    ----------
    path : str or Path
        The file; an existing one is replaced (by an atomic rename, so
        readers see the old file or the new one, never a part).
    content : bytes, str or callable
        The bytes, the text (written as UTF-8), or a function that writes to
        the binary file handle it is given (``lambda handle: np.savez(handle, ...)``,
        ``lambda handle: figure.savefig(handle, format="png")``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputConflictError
        ``path`` is a folder.
    MissingFolderError
        Its folder does not exist.

    Examples
    --------
    >>> import shutil, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomically(folder / "note.txt", "hello\\n").read_text()
    'hello\\n'
    >>> [file.name for file in folder.iterdir()]  # no temporary file is left behind
    ['note.txt']
    >>> shutil.rmtree(folder)
    """
    path = Path(path)
    if path.is_dir():
        raise OutputConflictError(f"{path} is a folder; name a file to write")
    check_folder(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary, descriptor = _create_temporary(path)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                data(handle)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the file
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _create_temporary(path: Path) -> tuple[Path, int]:
    """A new file beside ``path`` (hidden, random name) and its descriptor, open for writing."""
    # Not tempfile.mkstemp: its files are readable by the owner only, and an output should get the permissions
    # of a plain open (0o666 less the umask). O_EXCL refuses an existing file and a planted symlink.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)  # O_BINARY: Windows only
    while True:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:  # a missing or read-only folder: name the file asked for, not the temporary one
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None


def output_file(path: str | Path, suffix: str, *, what: str) -> Path:
    """The file to write ``what`` to: ``path`` with ``suffix`` added when it has none; another suffix is refused.

    Parameters
    ----------
    path : str or Path
        The name given.
    suffix : str
        The suffix of the format, e.g. ``".npz"`` (compared case-insensitively).
    what : str
        What is written, for the message (``"a GenerativeRNN"``).

    Raises
    ------
    ParameterError
        ``path`` is an existing folder, or has another suffix.
    MissingFolderError
        The folder ``path`` would be written in does not exist.

    Examples
    --------
    >>> str(output_file("result", ".npz", what="a decoding"))
    'result.npz'
    >>> output_file("model.graphml", ".npz", what="a GenerativeRNN")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    rrnn_net.errors.ParameterError: model.graphml: a GenerativeRNN is written as .npz, not .graphml; ...
    """
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{path} is a folder; {what} needs a file name, such as {path / ('name' + suffix)}")
    check_folder(path)
    if not path.suffix:
        return path.with_name(path.name + suffix)
    if path.suffix.lower() != suffix:
        raise ParameterError(f"{path}: {what} is written as {suffix}, not {path.suffix}; name the file …{suffix} "
                             f"(or give no suffix and {suffix} is added)")
    return path


def check_outputs(outputs: Iterable[str | Path], *, inputs: Iterable[str | Path] = (), force: bool = False) -> None:
    """Refuse outputs of a command that would replace one of its inputs, or an existing file unless ``force``.

    The ``rrnn`` commands call this before any work. An output is the same
    file as an input when both paths lead to one file (symbolic and hard
    links included), whatever their spelling.

    Parameters
    ----------
    outputs : iterable of str or Path
        Every file the command will write.
    inputs : iterable of str or Path
        Every file it reads.
    force : bool
        Replace existing outputs (``--force``); inputs are never replaced.

    Raises
    ------
    OutputConflictError
        An output is an input, an existing folder, or (without ``force``) an existing file.
    MissingFolderError
        An output's folder does not exist.
    """
    sources = [Path(source) for source in inputs]
    for output in map(Path, outputs):
        if not output.exists():
            check_folder(output)
            continue
        for source in sources:
            if source.exists() and os.path.samefile(output, source):
                raise OutputConflictError(f"{output} is an input of this command ({source}); it is never "
                                          "overwritten: choose another output name")
        if output.is_dir():
            raise OutputConflictError(f"{output} is a folder; name an output file")
        if not force:
            raise OutputConflictError(f"{output} exists; --force overwrites it")


def check_folder(path: str | Path) -> None:
    """Raise :class:`MissingFolderError` unless the folder that would hold the file ``path`` exists.

    Checked before any work, so that a long run does not end in a file it cannot write.
    """
    folder = Path(path).parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise MissingFolderError(f"{path}: its folder {folder} {what}; nothing was written (create the folder, "
                                 "or choose another path)")


# ------------------------------------------------------------------ private folders
def user_cache_directory() -> Path:
    """rrnn_net's per-user cache folder: ``$XDG_CACHE_HOME/rrnn_net``, else ``~/.cache/rrnn_net``.

    A relative ``$XDG_CACHE_HOME`` is ignored, as the XDG base-directory
    specification asks. Nothing is created here; see :func:`private_directory`.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "rrnn_net"


def private_directory(path: str | Path, *, root: str | Path | None = None) -> Path:
    """``path`` as a folder only the current user can write to; missing folders are created with mode 0700.

    For folders whose contents get executed: a C++ standalone project is
    rebuilt only where its sources changed, so a binary planted in a folder
    another user can write to would run as the current user.

    Parameters
    ----------
    path : str or Path
        The folder.
    root : str or Path, optional
        A folder above ``path`` (a cache root): it and every folder from it
        down to ``path`` are created 0700 where missing and checked. Default:
        ``path`` alone (missing parents are created as ordinary folders).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    UnsafeDirectoryError
        A checked folder belongs to another user or is writable by group or others.
    ParameterError
        A checked path exists and is not a folder.
    """
    path = Path(path)
    if root is None:
        chain = [path]
    else:
        root = Path(root)
        parts = path.relative_to(root).parts
        chain = [root, *(root.joinpath(*parts[:depth]) for depth in range(1, len(parts) + 1))]
    chain[0].parent.mkdir(parents=True, exist_ok=True)
    for folder in chain:
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass  # made before (by this user or not): checked below
        _check_private(folder)
    return path


def _check_private(folder: Path) -> None:
    """Raise unless ``folder`` is a folder of the current user that group and others cannot write to."""
    info = os.stat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise ParameterError(f"{folder} exists and is not a folder")
    if not hasattr(os, "getuid"):
        return  # Windows: no POSIX owner or mode bits; access is the ACLs of the user's own profile folders
    if info.st_uid != os.getuid():
        raise UnsafeDirectoryError(
            f"{folder} belongs to another user (uid {info.st_uid}; you are uid {os.getuid()}): a binary planted "
            "there would run as you. Remove the folder (or have its owner remove it), or choose another build_dir")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeDirectoryError(
            f"{folder} is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o}): a binary planted "
            f"there would run as you. Run `chmod go-w {folder}`, or choose another build_dir")


# ------------------------------------------------------------------ reading
def read_npz(path: str | Path, what: str) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive at ``path``, read without pickle.

    Parameters
    ----------
    path : str or Path
        The archive; a name without suffix that does not exist is read as
        ``NAME.npz``, the file ``save(NAME)`` wrote.
    what : str
        What it should hold, for the message (``"GenerativeRNN"``).

    Raises
    ------
    ParameterError
        "PATH is not a saved WHAT: reason" for a missing or unreadable file,
        a file of another format (never read as a pickle), a truncated or
        corrupt archive, or a single ``.npy`` array.
    """
    path = Path(path)
    if not path.suffix and not path.exists():  # the name save() was given, which wrote NAME.npz
        path = path.with_name(f"{path.name}.npz")
    try:
        with open(path, "rb") as handle:
            start = handle.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise ParameterError(f"{path} is not a saved {what}: {exc}") from None
    if not start.startswith((_ZIP_MAGIC, _NPY_MAGIC)):
        # numpy would take it for a pickle and suggest allow_pickle=True: advice never to give for a stray file.
        raise ParameterError(f"{path} is not a saved {what}: it is not an .npz archive (a graph, a text file or "
                             "another format?)")
    try:
        # mmap: a large .npy given by mistake is refused without being read (ignored for .npz archives).
        archive = np.load(path, mmap_mode="r", allow_pickle=False)
    except _NPZ_ERRORS as exc:
        raise ParameterError(f"{path} is not a saved {what}: {exc}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ParameterError(f"{path} is not a saved {what}: it holds one array (.npy), not an .npz archive")
    try:
        with archive:
            return {name: archive[name] for name in archive.files}
    except _NPZ_ERRORS as exc:
        raise ParameterError(f"{path} is not a saved {what}: {exc}") from None
