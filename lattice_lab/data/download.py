"""Downloads you can trust: every fetched file is checked against its known checksum before it is used.

:func:`fetch` downloads a dataset's files into :func:`~lattice_lab.data.folders.download_root`
(``<cache>/data``), in the same layout as a ``LATTICE_LAB_DATA`` folder (``MNIST/raw/<file>.gz``,
``FashionMNIST/raw/...``, ``cifar-10-python.tar.gz``), and does nothing for a file that is already
there with the right size and sha256. :func:`lattice_lab.data.load` calls it when files are
missing and ``download=True``; ``lattice-lab fetch mnist fashion-mnist`` is it on the command line.

Sources, in order: the mirrors (the ``mirrors`` argument, else ``$LATTICE_LAB_MIRROR``, a
comma-separated list of URLs), then the official sources of :data:`REMOTES`. A mirror has the
layout of a data folder, so a course can serve its own copy (``URL/MNIST/raw/<file>.gz``) from
any web server, or from a folder with a ``file://`` URL. Each file is streamed into a temporary
file beside its destination while its size and sha256 are computed; a file whose size or sha256
is not the one recorded in :data:`REMOTES` (those of ``SOURCES.md``: the official files) is
refused, with a message naming the file and the source, and the next source is tried. Nothing
half-written or refused stays in the cache (:func:`lattice_lab.atomic.atomic_write` removes the
temporary file). When every source fails, :class:`DownloadError` says what each one did.

Why not torchvision's downloader, which the package used before: it knows only the official
URLs, writes into the destination file itself (an interrupted download leaves a partial file
there), and checks an md5 only afterwards. urllib streams, verifies and renames in one place, and
keeps torchvision out of the data path. Speech Commands (a 2.3 GB archive, which torchaudio
downloads and extracts, without a checksum) still goes through torchaudio, from its official
source only: :func:`fetch` hands it to :func:`lattice_lab.data.speech.download`.

Must not import anything from the package (except atomic, progress, settings, validation and data).

Examples
--------
>>> REMOTES["mnist"].folder, [file.name for file in REMOTES["mnist"].files][:2]
('MNIST/raw', ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'])
>>> mirror_urls("http://a.example/data/, file:///srv/course")
['http://a.example/data/', 'file:///srv/course']
>>> source_url("http://a.example/data", REMOTES["mnist"], REMOTES["mnist"].files[3], mirror=True)
'http://a.example/data/MNIST/raw/t10k-labels-idx1-ubyte.gz'
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lattice_lab.atomic import atomic_write
from lattice_lab.progress import quiet
from lattice_lab.validation import check_bool, check_choice, fail

from . import folders

__all__ = ["FETCHABLE", "MIRROR_ENV", "REMOTES", "DownloadError", "Remote", "RemoteFile", "download_torchvision",
           "fetch", "file_sha256", "is_valid", "mirror_urls", "source_url"]

MIRROR_ENV = "LATTICE_LAB_MIRROR"
TIMEOUT = 60  # seconds without an answer before a source counts as failed
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file: its name, its size in bytes and its sha256 (hex)."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Remote:
    """A dataset's downloadable files: the folder they live in under a data root, and the official sources.

    ``official`` are base URLs that hold the files directly (``<base><file name>``); a mirror
    holds them under ``folder`` (``<mirror>/<folder>/<file name>``).
    """

    folder: str
    files: tuple[RemoteFile, ...]
    official: tuple[str, ...]


REMOTES: dict[str, Remote] = {  # sizes and sha256 of the official files (SOURCES.md of the project's data)
    "mnist": Remote("MNIST/raw", (
        RemoteFile("train-images-idx3-ubyte.gz", 9912422,
                   "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        RemoteFile("train-labels-idx1-ubyte.gz", 28881,
                   "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        RemoteFile("t10k-images-idx3-ubyte.gz", 1648877,
                   "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        RemoteFile("t10k-labels-idx1-ubyte.gz", 4542,
                   "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ), ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")),
    "fashion-mnist": Remote("FashionMNIST/raw", (
        RemoteFile("train-images-idx3-ubyte.gz", 26421880,
                   "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        RemoteFile("train-labels-idx1-ubyte.gz", 29515,
                   "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        RemoteFile("t10k-images-idx3-ubyte.gz", 4422102,
                   "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        RemoteFile("t10k-labels-idx1-ubyte.gz", 5148,
                   "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    ), ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)),
    "cifar10": Remote("", (
        RemoteFile("cifar-10-python.tar.gz", 170498071,
                   "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    ), ("https://www.cs.toronto.edu/~kriz/",)),
}
FETCHABLE: tuple[str, ...] = (*REMOTES, "speech-commands")
"""What :func:`fetch` can download: the datasets of :data:`REMOTES`, and Speech Commands (through torchaudio)."""


class DownloadError(OSError):
    """No source gave a file with the right checksum; the message says what each source did."""


def mirror_urls(value: str | list[str] | tuple[str, ...] | None = None) -> list[str]:
    """The mirror URLs: ``value`` (a comma-separated string or a list), else ``$LATTICE_LAB_MIRROR``.

    Each must be an ``http://``, ``https://`` or ``file://`` URL.

    >>> mirror_urls([]), mirror_urls("https://example.org/data")
    ([], ['https://example.org/data'])
    """
    if value is None:
        value = os.environ.get(MIRROR_ENV, "")
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        fail("mirrors", "fetch", "a comma-separated string of URLs, a list of URL strings, or None", value)
    urls = [item.strip() for item in items if item.strip()]
    for url in urls:
        if not url.startswith(("http://", "https://", "file://")):
            fail("mirrors", "fetch", "URLs starting with http://, https:// or file://", url)
    return urls


def source_url(base: str, remote: Remote, file: RemoteFile, *, mirror: bool) -> str:
    """Where ``file`` is at ``base``: under the data-folder layout on a mirror, directly at an official source."""
    if not mirror:
        return base + file.name
    return "/".join(part for part in (base.rstrip("/"), remote.folder, file.name) if part)


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_valid(path: Path, file: RemoteFile) -> bool:
    """Whether ``path`` is ``file``: there, of its size and its sha256."""
    return path.is_file() and path.stat().st_size == file.size and file_sha256(path) == file.sha256


class _Refused(Exception):
    """A source answered, but not with the file (wrong size or checksum)."""


def _download(url: str, target: Path, file: RemoteFile, show: bool) -> None:
    """Stream ``url`` into ``target`` (atomically) if it is ``file``; raise _Refused or OSError otherwise."""
    from tqdm.auto import tqdm

    def write(handle) -> None:
        digest, size = hashlib.sha256(), 0
        request = urllib.request.Request(url, headers={"User-Agent": "lattice_lab"})
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response, \
                tqdm(total=file.size, unit="B", unit_scale=True, desc=file.name, leave=False,
                     disable=not show) as bar:
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > file.size:
                    raise _Refused(f"it is larger than the {file.size} bytes of the official file")
                digest.update(chunk)
                handle.write(chunk)
                bar.update(len(chunk))
        if size != file.size:
            raise _Refused(f"it has {size} bytes, the official file {file.size}")
        if digest.hexdigest() != file.sha256:
            raise _Refused(f"its sha256 is {digest.hexdigest()}, the official file's {file.sha256}")

    atomic_write(target, write)


def _fetch_file(name: str, remote: Remote, file: RemoteFile, target: Path, mirror_urls: list[str],
                show: bool) -> None:
    """Put ``file`` at ``target`` from the first source that gives it with the right checksum."""
    sources = [(url, True) for url in mirror_urls] + [(url, False) for url in remote.official]
    failures = []
    for base, is_mirror in sources:
        url = source_url(base, remote, file, mirror=is_mirror)
        where = f"the mirror {base}" if is_mirror else f"the official source {base}"
        try:
            _download(url, target, file, show)
            return
        except _Refused as refused:
            failures.append(f"{where} sent {file.name} ({url}), refused: {refused}")
        except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts, a malformed URL
            failures.append(f"{where} failed for {file.name} ({url}): {error}")
    raise DownloadError(f"could not download {file.name} of {name}: " + "; ".join(failures)
                        + ". Nothing was kept in the cache.")


def fetch(name: str, *, mirrors: str | list[str] | None = None, progress: bool | None = None) -> Path:
    """Download the files of dataset ``name`` into the cache, each verified; returns the folder that holds them.

    Parameters
    ----------
    name : one of :data:`FETCHABLE` (``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``,
        ``"speech-commands"``).
    mirrors : URLs tried before the official sources, as a list or a comma-separated string;
        None: ``$LATTICE_LAB_MIRROR``; ``[]``: none. A mirror has the layout of a data folder.
    progress : show download progress bars (None: unless ``LATTICE_LAB_QUIET=1`` or under pytest).

    Returns
    -------
    Path
        The folder of the files in :func:`~lattice_lab.data.folders.download_root`
        (``<cache>/data/MNIST/raw`` for MNIST, ``<cache>/data`` for CIFAR-10's archive).

    A file already there with the right size and sha256 is kept as it is (so a second call
    downloads nothing); one that is there but damaged is downloaded again. Raises
    :class:`DownloadError` (an OSError) when no source gives a file with the right checksum; the
    files already verified stay.

    Examples
    --------
    >>> fetch("digits")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'name' parameter of fetch must be one of 'mnist', \
'fashion-mnist', 'cifar10', 'speech-commands'. Got 'digits' instead.
    """
    check_choice(name, "name", "fetch", FETCHABLE)
    urls = mirror_urls(mirrors)
    show = not quiet() if progress is None else check_bool(progress, "progress", "fetch")
    if name not in REMOTES:
        from .speech import download as download_speech

        download_speech()
        return folders.download_root()
    remote = REMOTES[name]
    folder = folders.download_root() / remote.folder
    folder.mkdir(parents=True, exist_ok=True)
    for file in remote.files:
        target = folder / file.name
        if is_valid(target, file):
            continue
        target.unlink(missing_ok=True)  # damaged or foreign: never used
        _fetch_file(name, remote, file, target, urls, show)
    return folder


def download_torchvision(cls_name: str) -> None:
    """The old name of :func:`fetch` by torchvision class name ("MNIST", "FashionMNIST", "CIFAR10").

    Downloads into :func:`~lattice_lab.data.folders.download_root`, in torchvision's folder layout,
    verified; kept so that code calling it keeps working.
    """
    names = {"MNIST": "mnist", "FashionMNIST": "fashion-mnist", "CIFAR10": "cifar10"}
    if cls_name not in names:
        raise ValueError(f"cls_name must be one of {sorted(names)}, got {cls_name!r}")
    fetch(names[cls_name])
