"""Downloads end to end against a local HTTP server: mirrors first, every file verified, nothing refused kept.

The server on 127.0.0.1 serves the project's real MNIST files (``../shared/data`` beside the clone,
``/work/shared/data`` here) with the layout of a data folder, so the whole path runs as a learner's
would: a clean cache, ``LATTICE_LAB_DATA`` unset, ``LATTICE_LAB_MIRROR`` pointing at the server.
The official sources are replaced by a port that refuses connections: nothing here needs the network.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import pytest

from lattice_lab import checkpoints, data, train
from lattice_lab.data import download
from lattice_lab.validation import InvalidParameterError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "MNIST" / "raw").is_dir(),
                                  reason=f"the real MNIST files are not beside the clone ({SHARED} is absent)")
MNIST_FILES = [file.name for file in download.REMOTES["mnist"].files]


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()


@contextlib.contextmanager
def serve(folder: Path):
    """An HTTP server on 127.0.0.1 serving ``folder``; yields (base URL, list of requested paths)."""
    requests: list[str] = []
    handler = functools.partial(type("Handler", (_Handler,), {"requests": requests}), directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def _refusing_url() -> str:
    """A URL on 127.0.0.1 whose port nobody listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def offline_official_sources(monkeypatch):
    """The official sources of every dataset become a port that refuses: the tests never reach the network."""
    for name, remote in download.REMOTES.items():
        monkeypatch.setitem(download.REMOTES, name, dataclasses.replace(remote, official=(_refusing_url(),)))


def _mirror_copy(tmp_path: Path, flip: str | None = None) -> Path:
    """A mirror folder: links to the real MNIST files, with one byte of ``flip`` changed in a copy."""
    raw = tmp_path / "mirror" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        if name == flip:
            content = bytearray((SHARED / "MNIST" / "raw" / name).read_bytes())
            content[len(content) // 2] ^= 0x01
            (raw / name).write_bytes(bytes(content))
        else:
            (raw / name).symlink_to(SHARED / "MNIST" / "raw" / name)
    return tmp_path / "mirror"


def _cache_raw(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "data" / "MNIST" / "raw"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@needs_shared
def test_mnist_from_a_local_mirror_is_verified_parsed_and_gives_the_shipped_lstm_its_card_accuracy(
        tmp_path, monkeypatch):
    with serve(SHARED) as (url, requests):
        monkeypatch.setenv("LATTICE_LAB_MIRROR", url)
        test = data.load("mnist", "test")  # download=True by default; LATTICE_LAB_DATA is unset
        assert sorted(requests) == sorted(f"/MNIST/raw/{name}" for name in MNIST_FILES)
        for name in MNIST_FILES:  # byte-identical to the official files
            assert _sha256(_cache_raw(tmp_path) / name) == _sha256(SHARED / "MNIST" / "raw" / name)
        assert sorted(p.name for p in _cache_raw(tmp_path).iterdir()) == sorted(MNIST_FILES)  # no temporary file
        assert data.fetch("mnist") == _cache_raw(tmp_path) and len(requests) == 4  # valid: nothing downloaded again
    model, card = checkpoints.load("mnist-lstm")
    assert (len(test), test.source) == (card["n_test"], str(_cache_raw(tmp_path) / "t10k-images-idx3-ubyte.gz"))
    assert train.evaluate(model, test, device="cpu")["accuracy"] == card["test_accuracy"]


@needs_shared
def test_a_flipped_byte_on_the_mirror_is_refused_naming_the_file_and_the_mirror_and_nothing_is_cached(
        tmp_path, monkeypatch):
    mirror = _mirror_copy(tmp_path, flip="train-images-idx3-ubyte.gz")
    with serve(mirror) as (url, requests):
        monkeypatch.setenv("LATTICE_LAB_MIRROR", url)
        with pytest.raises(FileNotFoundError, match="downloading them failed") as info:
            data.load("mnist", "test")
    error = info.value.__cause__
    assert isinstance(error, data.DownloadError)
    assert f"the mirror {url} sent train-images-idx3-ubyte.gz" in str(error) and "refused: its sha256 is" in str(error)
    assert download.REMOTES["mnist"].files[0].sha256 in str(error)
    assert requests == ["/MNIST/raw/train-images-idx3-ubyte.gz"]  # refused at the first file: nothing more fetched
    assert list(_cache_raw(tmp_path).iterdir()) == []  # the refused download left nothing, not even a temporary file


@needs_shared
def test_a_refused_file_is_taken_from_the_next_source_and_verified_files_stay(tmp_path):
    bad = _mirror_copy(tmp_path / "bad", flip="t10k-labels-idx1-ubyte.gz")
    with serve(bad) as (bad_url, bad_requests), serve(SHARED) as (good_url, good_requests):
        assert data.fetch("mnist", mirrors=f"{bad_url}, {good_url}") == _cache_raw(tmp_path)
    assert bad_requests == [f"/MNIST/raw/{name}" for name in MNIST_FILES]
    assert good_requests == ["/MNIST/raw/t10k-labels-idx1-ubyte.gz"]
    for name in MNIST_FILES:
        assert _sha256(_cache_raw(tmp_path) / name) == _sha256(SHARED / "MNIST" / "raw" / name)


@needs_shared
def test_a_truncated_gz_in_the_cache_is_fetched_again_or_named_when_downloads_are_off(tmp_path, monkeypatch):
    with serve(SHARED) as (url, requests):
        monkeypatch.setenv("LATTICE_LAB_MIRROR", url)
        data.fetch("mnist")
        labels = _cache_raw(tmp_path) / "t10k-labels-idx1-ubyte.gz"
        labels.write_bytes(labels.read_bytes()[:1000])
        with pytest.raises(data.DamagedFileError, match="t10k-labels-idx1-ubyte.gz cannot be read: it is truncated "
                                                        "or damaged .*download=True") as info:
            data.load("mnist", "test", download=False)
        assert info.value.path == labels
        again = data.load("mnist", "test", subset=10)
        assert requests[-1] == "/MNIST/raw/t10k-labels-idx1-ubyte.gz" and len(requests) == 5
    assert _sha256(labels) == _sha256(SHARED / "MNIST" / "raw" / labels.name) and len(again) == 10


def test_a_bit_flipped_gz_in_a_users_folder_is_named_and_never_touched(tmp_path):
    from data_files import write_idx_dataset

    root = tmp_path / "mine"
    write_idx_dataset(root, "MNIST", {"test": 50})
    images = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    content = bytearray(images.read_bytes())
    content[len(content) // 2] ^= 0x10
    images.write_bytes(bytes(content))
    with pytest.raises(data.DamagedFileError, match="t10k-images-idx3-ubyte.gz cannot be read.*Replace it with a "
                                                    "good copy .the official file has 1648877 bytes") as info:
        data.load("mnist", "test", root=root, download=True)
    assert info.value.path == images and images.read_bytes() == bytes(content)


def test_a_file_url_folder_is_a_mirror_too(tmp_path, monkeypatch):
    from data_files import write_cifar_tar

    write_cifar_tar(tmp_path / "course", {})
    archive = tmp_path / "course" / "cifar-10-python.tar.gz"
    remote = download.REMOTES["cifar10"]
    small = download.RemoteFile(remote.files[0].name, archive.stat().st_size, _sha256(archive))
    monkeypatch.setitem(download.REMOTES, "cifar10", dataclasses.replace(remote, files=(small,)))
    assert data.fetch("cifar10", mirrors=[(tmp_path / "course").as_uri()]) == tmp_path / "cache" / "data"
    assert (tmp_path / "cache" / "data" / "cifar-10-python.tar.gz").read_bytes() == archive.read_bytes()


@pytest.mark.parametrize("mirrors, message", [
    ("ftp://example.org/data", "The 'mirrors' parameter of fetch must be URLs starting with http://, https:// or "
                               "file://. Got 'ftp://example.org/data' instead."),
    (42, "The 'mirrors' parameter of fetch must be a comma-separated string of URLs, a list of URL strings, or "
         "None. Got 42 instead."),
])
def test_fetch_refuses_a_mirror_that_is_no_url(mirrors, message):
    with pytest.raises(InvalidParameterError) as info:
        data.fetch("mnist", mirrors=mirrors)
    assert str(info.value) == message


def test_without_any_source_the_error_lists_what_each_source_did(tmp_path):
    with pytest.raises(data.DownloadError) as info:
        data.fetch("fashion-mnist", mirrors=[_refusing_url()])
    text = str(info.value)
    assert text.startswith("could not download train-images-idx3-ubyte.gz of fashion-mnist: the mirror http://127.0.0.1")
    assert "; the official source http://127.0.0.1" in text and text.endswith("Nothing was kept in the cache.")
    assert not any((tmp_path / "cache" / "data" / "FashionMNIST" / "raw").iterdir())


@needs_shared
def test_the_checksums_are_those_of_the_shared_sources_table():
    """REMOTES holds, for every MNIST and Fashion-MNIST file, the size and sha256 that SOURCES.md lists."""
    table = (SHARED / "SOURCES.md").read_text()
    for name, folder in (("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")):
        section = table.split(f"`{folder}/raw/`")[1]
        for file in download.REMOTES[name].files:
            assert f"| {file.name} | {file.size} | " in section and f" | {file.sha256} | " in section
            assert file.sha256 == _sha256(SHARED / folder / "raw" / file.name)
