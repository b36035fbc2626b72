"""Where files are looked for, the offline error, and verified downloads (fake network)."""

import hashlib
import io
import os
import urllib.error
from dataclasses import replace

import numpy as np
import pytest

from deeplasso.data import (
    ChecksumError,
    DataNotFoundError,
    cache_dir,
    download_file,
    load,
    locate,
    search_roots,
    sources,
)
from deeplasso.data.fakes import make_tar, write_fake_cifar_bin, write_fake_idx
from deeplasso.data.sources import RemoteFile


class FakeNet:
    """Replacement for urlopen: serves bytes by URL, records calls, fails otherwise."""

    def __init__(self, files=None):
        self.files = dict(files or {})
        self.calls = []

    def __call__(self, req, timeout=None):
        url = getattr(req, "full_url", req)
        self.calls.append(url)
        if url not in self.files:
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution (fake offline)")
        data = self.files[url]
        resp = io.BytesIO(data)
        resp.headers = {"Content-Length": str(len(data))}
        return resp


@pytest.fixture
def net(tmp_path, monkeypatch):
    monkeypatch.delenv(sources.ENV_DATA, raising=False)
    monkeypatch.delenv(sources.ENV_OFFLINE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    fm = sources.SOURCES["fashion-mnist"]
    monkeypatch.setitem(sources.SOURCES, "fashion-mnist", replace(fm, system_roots=((tmp_path / "usr-share-datasets", "Debian package dataset-fashion-mnist"),)))
    fake = FakeNet()
    monkeypatch.setattr(sources, "urlopen", fake)
    return fake


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "deeplasso"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "deeplasso"


def test_lookup_order_data_dir_then_env_then_cache(tmp_path, monkeypatch, net):
    a = write_fake_idx(tmp_path / "arg" / "mnist", seed=1)
    b = write_fake_idx(tmp_path / "env" / "mnist", seed=2)
    c = write_fake_idx(tmp_path / "xdg" / "deeplasso" / "mnist", seed=3)
    monkeypatch.setenv("DEEPLASSO_DATA", str(tmp_path / "env"))
    ds = load("mnist", data_dir=tmp_path / "arg")
    assert ds.source == str(tmp_path / "arg" / "mnist")
    np.testing.assert_array_equal(ds.x_train, a.x_train)
    ds = load("mnist")
    assert ds.source == str(tmp_path / "env" / "mnist")
    np.testing.assert_array_equal(ds.x_train, b.x_train)
    monkeypatch.delenv("DEEPLASSO_DATA")
    ds = load("mnist")
    assert ds.source == str(tmp_path / "xdg" / "deeplasso" / "mnist")
    np.testing.assert_array_equal(ds.x_train, c.x_train)
    # a data_dir without the files falls through to the next places
    assert load("mnist", data_dir=tmp_path / "empty").source == ds.source
    assert net.calls == []
    loc = locate("mnist", data_dir=tmp_path / "arg")
    assert loc.kind == "idx" and loc.origin == "data_dir argument"


def test_env_var_may_list_several_folders(tmp_path, monkeypatch, net):
    write_fake_idx(tmp_path / "second" / "mnist", seed=5)
    monkeypatch.setenv("DEEPLASSO_DATA", os.pathsep.join([str(tmp_path / "first"), str(tmp_path / "second")]))
    roots = search_roots("mnist")
    assert [r[0] for r in roots[:2]] == [tmp_path / "first", tmp_path / "second"]
    assert roots[0][1] == "$DEEPLASSO_DATA" and roots[2][1] == "cache"
    assert load("mnist").source == str(tmp_path / "second" / "mnist")


def test_fashion_debian_folder_is_searched_last(tmp_path, monkeypatch, net):
    deb = write_fake_idx(tmp_path / "usr-share-datasets" / "fashion-mnist", seed=7)
    ds = load("fashion-mnist")
    assert ds.source == str(tmp_path / "usr-share-datasets" / "fashion-mnist")
    np.testing.assert_array_equal(ds.y_train, deb.y_train)
    write_fake_idx(tmp_path / "xdg" / "deeplasso" / "fashion-mnist", seed=8)
    assert load("fashion-mnist").source == str(tmp_path / "xdg" / "deeplasso" / "fashion-mnist")
    assert search_roots("fashion-mnist")[-1][1] == "Debian package dataset-fashion-mnist"
    assert "Debian" not in search_roots("mnist")[-1][1]


def test_torchvision_layout_and_dotted_names(tmp_path, net):
    d = tmp_path / "MNIST" / "raw"
    write_fake_idx(d, compress=False)
    os.replace(d / "train-images-idx3-ubyte", d / "train-images.idx3-ubyte")
    assert load("mnist", data_dir=tmp_path).source == str(d)


def test_missing_files_offline_error_message(tmp_path, net):
    partial = tmp_path / "data" / "mnist"
    write_fake_idx(partial)
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError) as e:
        load("mnist", data_dir=tmp_path / "data", progress=False)
    msg = str(e.value)
    assert isinstance(e.value, FileNotFoundError)
    assert "MNIST files not found" in msg
    assert f"{partial} (data_dir argument): missing t10k-labels-idx1-ubyte[.gz]" in msg
    assert f"{tmp_path / 'xdg' / 'deeplasso' / 'mnist'} (cache): no such folder" in msg
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in msg
    assert "DEEPLASSO_DATA" in msg and "failed" in msg and "Temporary failure" in msg
    assert len(net.calls) >= 2  # every mirror of the first file was tried
    assert not list((tmp_path / "xdg").rglob("*.gz")) and not list((tmp_path / "xdg").rglob("*.part"))
    assert partial in e.value.searched


def test_missing_fashion_mentions_apt_and_all_places(tmp_path, net, monkeypatch):
    monkeypatch.setenv("DEEPLASSO_DATA", str(tmp_path / "envdir"))
    with pytest.raises(DataNotFoundError) as e:
        load("fashion-mnist", data_dir=tmp_path / "argdir", download=False)
    msg = str(e.value)
    assert "apt-get install -y dataset-fashion-mnist" in msg
    for place in ("argdir", "envdir", "xdg", "usr-share-datasets"):
        assert place in msg
    assert "(data_dir argument)" in msg and "($DEEPLASSO_DATA)" in msg and "(Debian package" in msg
    assert "not attempted (download=False)" in msg
    assert "raw.githubusercontent.com/zalandoresearch" in msg
    assert net.calls == []


def test_missing_cifar_message_and_offline_env(tmp_path, net, monkeypatch):
    monkeypatch.setenv("DEEPLASSO_OFFLINE", "1")
    with pytest.raises(DataNotFoundError) as e:
        load("cifar10", data_dir=tmp_path)
    msg = str(e.value)
    assert "cifar-10-batches-bin" in msg and "cifar-10-python.tar.gz" in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in msg
    assert "DEEPLASSO_OFFLINE is set" in msg
    assert net.calls == []


def test_data_dir_pointing_at_the_data_set_folder_gets_a_hint(tmp_path, net):
    write_fake_idx(tmp_path / "mnist")
    with pytest.raises(DataNotFoundError, match="must be the folder ABOVE it") as e:
        load("mnist", data_dir=tmp_path / "mnist", download=False)
    assert f"data_dir={tmp_path}" in str(e.value)


def test_unknown_name():
    with pytest.raises(ValueError, match="known: mnist, fashion-mnist, cifar10, digits"):
        load("imagenet")


# --------------------------------------------------------------------------- downloads
def _digests(data):
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def test_download_file_url(tmp_path):
    src = tmp_path / "src.bin"
    data = os.urandom(3000)
    src.write_bytes(data)
    md5, sha = _digests(data)
    dest = download_file(src.as_uri(), tmp_path / "out" / "f.bin", md5=md5, sha256=sha, size=3000, progress=False)
    assert dest.read_bytes() == data
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.bin"]


@pytest.mark.parametrize("bad", ["md5", "sha256", "size"])
def test_download_checksum_mismatch_leaves_nothing(tmp_path, bad):
    src = tmp_path / "src.bin"
    src.write_bytes(b"not the official file")
    md5, sha = _digests(src.read_bytes())
    kw = {"md5": md5, "sha256": sha, "size": src.stat().st_size}
    kw[bad] = "0" * 32 if bad == "md5" else ("0" * 64 if bad == "sha256" else 5)
    out = tmp_path / "out"
    with pytest.raises(ChecksumError) as e:
        download_file(src.as_uri(), out / "f.bin", progress=False, **kw)
    assert str(out / "f.bin") in str(e.value) and src.as_uri() in str(e.value)
    assert {"md5": "MD5", "sha256": "SHA-256", "size": "size"}[bad] in str(e.value)
    assert list(out.iterdir()) == []


def test_download_interrupted_leaves_nothing(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        headers = {}

        def read(self, n=-1):
            if self.tell() > 0:
                raise ConnectionResetError("connection reset by fake peer")
            return super().read(10)

    monkeypatch.setattr(sources, "urlopen", lambda req, timeout=None: Broken(b"x" * 100))
    with pytest.raises(ConnectionResetError):
        download_file("http://example.invalid/f", tmp_path / "o" / "f", progress=False)
    assert list((tmp_path / "o").iterdir()) == []


def _serve_idx(tmp_path, net, monkeypatch, name="mnist", corrupt=False):
    """Fake the official mirrors of an IDX data set with fake files."""
    raw = write_fake_idx(tmp_path / "served", n_train=30, n_test=10)
    remote = []
    for rf in sources.SOURCES[name].remote:
        data = (tmp_path / "served" / rf.filename).read_bytes()
        md5, sha = _digests(data)
        urls = (f"http://mirror-down.invalid/{rf.filename}", f"http://mirror.invalid/{rf.filename}")
        net.files[urls[1]] = data + (b"!" if corrupt else b"")
        remote.append(RemoteFile(rf.filename, urls, md5, sha, len(data)))
    monkeypatch.setitem(sources.SOURCES, name, replace(sources.SOURCES[name], remote=tuple(remote)))
    return raw


def test_load_downloads_into_cache_when_missing(tmp_path, net, monkeypatch):
    raw = _serve_idx(tmp_path, net, monkeypatch)
    ds = load("mnist", data_dir=tmp_path / "nothing", progress=False)
    cached = tmp_path / "xdg" / "deeplasso" / "mnist"
    assert ds.source == str(cached)
    np.testing.assert_array_equal(ds.x_train, raw.x_train)
    assert sorted(p.name for p in cached.iterdir()) == sorted(rf.filename for rf in sources.SOURCES["mnist"].remote)
    assert any("mirror-down" in c for c in net.calls)  # first mirror failed, second used
    n = len(net.calls)
    load("mnist", progress=False)
    assert len(net.calls) == n  # second time from the cache


def test_load_download_checksum_mismatch(tmp_path, net, monkeypatch):
    _serve_idx(tmp_path, net, monkeypatch, corrupt=True)
    with pytest.raises(ChecksumError, match="no mirror delivered the official file"):
        load("mnist", progress=False)
    cached = tmp_path / "xdg" / "deeplasso" / "mnist"
    assert not cached.exists() or list(cached.iterdir()) == []


def test_cifar_download_is_verified_and_extracted(tmp_path, net, monkeypatch):
    raw = write_fake_cifar_bin(tmp_path / "served" / "cifar-10-batches-bin", n_per_batch=4)
    tar = make_tar(tmp_path / "served" / "cifar-10-batches-bin", tmp_path / "served" / "cifar-10-binary.tar.gz")
    data = tar.read_bytes()
    md5, sha = _digests(data)
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    net.files[url] = data
    rf = RemoteFile("cifar-10-binary.tar.gz", (url,), md5, sha, len(data))
    monkeypatch.setitem(sources.SOURCES, "cifar10", replace(sources.SOURCES["cifar10"], remote=(rf,)))
    ds = load("cifar10", progress=False)
    cache = tmp_path / "xdg" / "deeplasso"
    assert ds.source == str(cache / "cifar-10-batches-bin")
    assert (cache / "cifar-10-binary.tar.gz").read_bytes() == data
    np.testing.assert_array_equal(ds.x_test, raw.x_test)


def test_official_checksum_table():
    """The published checksums of the official archives are in the code."""
    md5 = {rf.filename: rf.md5 for src in sources.SOURCES.values() for rf in src.remote}
    assert md5["cifar-10-binary.tar.gz"] == "c32a1d4ab5d03f1284b67883e8d87530"
    assert sources.CIFAR10_PYTHON_REMOTE.md5 == "c58f30108f718f92721af3b95e74349a"
    mn = {rf.filename: rf.md5 for rf in sources.MNIST_REMOTE}
    assert mn["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert mn["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    fm = {rf.filename: rf.md5 for rf in sources.FASHION_REMOTE}
    assert fm["train-images-idx3-ubyte.gz"] == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert fm["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    for src in sources.SOURCES.values():
        for rf in src.remote:
            assert len(rf.md5) == 32 and len(rf.sha256) == 64 and rf.size > 0
            assert all(u.startswith(("http://", "https://")) and u.endswith(rf.filename) for u in rf.urls)
