"""The blob store: the same behaviour from the local directory and from S3 (a real moto server)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sp_services.blobs import BlobStore, LocalBlobStore, S3BlobStore, blob_store
from sp_services.settings import Settings

REGION = "us-east-1"
DUMMY = "testing"  # moto takes any credentials
BACKENDS = ["local", "s3", "s3-prefixed"]
BAD_KEYS = [
    "",
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "./a",
    "/etc/passwd",
    "a//b",
    "a/",
    "a\\b",
    "..\\x",
    "a\x00b",
    "a b",
    "caf\u00e9",
    "a" * 256,
    "a/" * 600 + "a",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(proc: subprocess.Popen[bytes], url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means it is serving
        except OSError:
            time.sleep(0.05)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 API: moto's server in a subprocess on a free port, one per xdist worker."""
    log = tmp_path_factory.mktemp("moto") / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for _ in range(3):  # the free port may be taken between probing and binding
        port = _free_port()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        url = f"http://127.0.0.1:{port}"
        if _answers(proc, url, timeout=60):
            break
        _stop(proc)
    else:
        pytest.fail(f"moto server did not start:\n{log.read_text()}")
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def s3_admin(moto_url: str) -> Iterator[Any]:
    client = boto3.session.Session().client(
        "s3", endpoint_url=moto_url, region_name=REGION, aws_access_key_id=DUMMY, aws_secret_access_key=DUMMY
    )
    yield client
    client.close()


@pytest.fixture
def bucket(s3_admin: Any) -> str:
    name = f"blobs-{uuid.uuid4().hex}"
    s3_admin.create_bucket(Bucket=name)
    return name


def _s3_store(moto_url: str, bucket: str, prefix: str = "") -> S3BlobStore:
    return S3BlobStore(
        bucket,
        prefix,
        endpoint_url=moto_url,
        region=REGION,
        access_key_id=DUMMY,
        secret_access_key=DUMMY,
    )


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    # Looked up here so that local-only runs never start the moto server.
    s3 = _s3_store(
        request.getfixturevalue("moto_url"),
        request.getfixturevalue("bucket"),
        "tenant/docs" if request.param == "s3-prefixed" else "",
    )
    yield s3
    s3.close()


# --- behaviour shared by every backend -------------------------------------------------------------


def test_store_satisfies_the_protocol(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7 proof", b"", bytes(range(256)) * 4, os.urandom(5 * 1024 * 1024)],
    ids=["small", "empty", "all-bytes", "5MB"],
)
def test_put_get_roundtrip(store: BlobStore, data: bytes) -> None:
    store.put("proofs/appt-1/doc.pdf", data)
    assert store.get("proofs/appt-1/doc.pdf") == data
    assert list(store.keys()) == ["proofs/appt-1/doc.pdf"]


def test_put_overwrites(store: BlobStore) -> None:
    store.put("doc", b"first version, longer than the second")
    store.put("doc", b"second")
    assert store.get("doc") == b"second"
    assert list(store.keys()) == ["doc"]


def test_get_absent_is_none(store: BlobStore) -> None:
    assert store.get("never/stored") is None
    store.put("never/other", b"x")
    assert store.get("never/stored") is None
    assert store.get("never") is None


def test_delete_is_idempotent(store: BlobStore) -> None:
    store.delete("absent")
    store.delete("absent/nested/key")
    store.put("a/b/c", b"data")
    store.put("a/b/d", b"keep")
    store.delete("a/b/c")
    assert store.get("a/b/c") is None
    store.delete("a/b/c")
    assert store.get("a/b/d") == b"keep"
    assert list(store.keys()) == ["a/b/d"]


def test_keys_under_prefix(store: BlobStore) -> None:
    stored = [
        "proofs/A1/one.pdf",
        "proofs/A1/two.jpg",
        "proofs/A1/scans/page-1.png",
        "proofs/A10/x",
        "proofs/A2/y",
        "proofs-old/z",
        "other/deep/ly/nested/key_1.bin",
        "top",
    ]
    for i, key in enumerate(stored):
        store.put(key, str(i).encode())

    assert sorted(store.keys()) == sorted(stored)
    assert sorted(store.keys("")) == sorted(stored)
    assert sorted(store.keys("proofs/")) == sorted(k for k in stored if k.startswith("proofs/"))
    assert sorted(store.keys("proofs/A1/")) == ["proofs/A1/one.pdf", "proofs/A1/scans/page-1.png", "proofs/A1/two.jpg"]
    # A plain string prefix, not a directory: A1 also matches A10, "proofs" matches "proofs-old".
    assert sorted(store.keys("proofs/A1")) == sorted(k for k in stored if k.startswith("proofs/A1"))
    assert sorted(store.keys("proofs")) == sorted(k for k in stored if k.startswith("proofs"))
    assert sorted(store.keys("proofs/A1/o")) == ["proofs/A1/one.pdf"]
    assert list(store.keys("proofs/A1/one.pdf")) == ["proofs/A1/one.pdf"]
    assert list(store.keys("top")) == ["top"]
    assert list(store.keys("nothing/")) == []
    assert list(store.keys("proofs/A3")) == []
    assert list(store.keys("../")) == []


def test_keys_with_slashes_roundtrip(store: BlobStore) -> None:
    key = "a/b/c/d/e/f/g/h.i-j_k.pdf"
    store.put(key, b"deep")
    assert store.get(key) == b"deep"
    assert list(store.keys("a/b/c/")) == [key]
    assert store.get("a/b/c") is None


def test_purge_while_iterating(store: BlobStore) -> None:
    # A retention purge deletes the keys as it lists them.
    for appt in range(5):
        for doc in range(3):
            store.put(f"proofs/appt-{appt}/doc-{doc}", b"x")
    store.put("keep/me", b"y")
    purged = 0
    for key in store.keys("proofs/"):
        store.delete(key)
        purged += 1
    assert purged == 15
    assert list(store.keys()) == ["keep/me"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_rejected_everywhere(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        store.put(key, b"x")
    with pytest.raises(ValueError, match="invalid blob key"):
        store.get(key)
    with pytest.raises(ValueError, match="invalid blob key"):
        store.delete(key)
    assert list(store.keys()) == []


# --- local directory -------------------------------------------------------------------------------


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if not p.is_dir())


def test_local_layout_and_permissions(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    assert list(store.keys()) == []  # the directory need not exist yet
    store.put("proofs/appt-1/doc.pdf", b"pdf")
    path = tmp_path / "blobs" / "proofs" / "appt-1" / "doc.pdf"
    assert path.read_bytes() == b"pdf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _files(tmp_path) == [path]


@pytest.mark.parametrize("key", ["../escape", "/tmp/abs", "a/../../escape", "a\\..\\..\\escape", "a\x00"])
def test_local_traversal_rejected_and_nothing_written(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "root" / "blobs")
    with pytest.raises(ValueError):
        store.put(key, b"x")
    assert _files(tmp_path) == []


def test_local_keys_never_walk_outside_root(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_bytes(b"s")
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("inside", b"i")
    assert list(store.keys("../")) == []
    assert list(store.keys("../outside/")) == []
    assert list(store.keys("/")) == []
    assert list(store.keys()) == ["inside"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_local_failed_put_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put("proofs/old", b"old")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(f"sp_services.blobs.os.{failing}", boom)
    with pytest.raises(OSError, match="disk on fire"):
        store.put("proofs/new", b"new" * 100_000)
    with pytest.raises(OSError, match="disk on fire"):
        store.put("proofs/old", b"replacement")
    monkeypatch.undo()

    assert store.get("proofs/new") is None
    assert store.get("proofs/old") == b"old"
    assert sorted(store.keys()) == ["proofs/old"]
    assert _files(tmp_path) == [tmp_path / "blobs" / "proofs" / "old"]  # no temp litter


def test_local_temp_files_are_not_keys(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    (tmp_path / "proofs").mkdir()
    (tmp_path / "proofs" / ".blob-abc123~tmp").write_bytes(b"half")
    (tmp_path / "proofs" / "not a key").write_bytes(b"?")
    store.put("proofs/real", b"r")
    assert list(store.keys()) == ["proofs/real"]


def test_local_readers_never_see_a_partial_write(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    size = 256 * 1024
    versions = [bytes([v]) * size for v in range(4)]
    store.put("doc", versions[0])
    stop = threading.Event()
    seen: list[bytes] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            store.put("doc", versions[i % len(versions)])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            data = store.get("doc")
            assert data in versions, "a reader saw a partial or mixed write"
            seen.append(data[:1])
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 10


def test_local_delete_removes_emptied_directories(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    store.put("proofs/appt-1/scans/a", b"a")
    store.put("proofs/appt-2/b", b"b")
    store.delete("proofs/appt-1/scans/a")
    assert not (root / "proofs" / "appt-1").exists()
    assert (root / "proofs" / "appt-2" / "b").exists()
    store.delete("proofs/appt-2/b")
    assert root.is_dir()
    assert list(root.iterdir()) == []
    store.put("proofs/appt-1/again", b"c")  # and directories come back as needed
    assert store.get("proofs/appt-1/again") == b"c"


def test_local_key_cannot_also_be_a_directory(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("a", b"file")
    with pytest.raises(ValueError, match="lies under another stored key"):
        store.put("a/b", b"nested")
    store.put("c/d", b"nested")
    with pytest.raises(ValueError, match="is a directory of other keys"):
        store.put("c", b"file")
    assert store.get("a/b") is None
    assert store.get("c") is None
    store.delete("a/b")
    store.delete("c")
    assert sorted(store.keys()) == ["a", "c/d"]
    assert sorted(p.name for p in _files(tmp_path)) == ["a", "d"]


# --- S3 --------------------------------------------------------------------------------------------


def test_s3_prefixes_share_a_bucket(moto_url: str, bucket: str, s3_admin: Any) -> None:
    whole = _s3_store(moto_url, bucket)
    one = _s3_store(moto_url, bucket, "tenants/one")
    two = _s3_store(moto_url, bucket, "/tenants/two/")
    try:
        assert one.prefix == "tenants/one/"
        assert two.prefix == "tenants/two/"
        one.put("doc", b"1")
        two.put("doc", b"2")
        assert one.get("doc") == b"1"
        assert two.get("doc") == b"2"
        assert list(one.keys()) == ["doc"]
        assert sorted(whole.keys()) == ["tenants/one/doc", "tenants/two/doc"]
        assert s3_admin.get_object(Bucket=bucket, Key="tenants/one/doc")["Body"].read() == b"1"
        one.delete("doc")
        assert list(whole.keys()) == ["tenants/two/doc"]
    finally:
        for s in (whole, one, two):
            s.close()


def test_s3_lists_page_after_page(moto_url: str, bucket: str) -> None:
    store = _s3_store(moto_url, bucket, "many")
    store.page_size = 4  # S3 answers at most 1000 keys a request; more than that takes several
    try:
        keys = [f"k/{i:02d}" for i in range(13)]
        for key in keys:
            store.put(key, b"")
        assert sorted(store.keys("k/")) == keys
    finally:
        store.close()


def test_s3_missing_bucket_is_an_error_not_absence(moto_url: str) -> None:
    store = _s3_store(moto_url, f"missing-{uuid.uuid4().hex}")
    try:
        with pytest.raises(ClientError) as info:
            store.get("doc")
        assert info.value.response["Error"]["Code"] == "NoSuchBucket"
    finally:
        store.close()


def test_s3_repr_keeps_the_secret(moto_url: str) -> None:
    store = S3BlobStore("b", endpoint_url=moto_url, access_key_id="AKIDEXAMPLE", secret_access_key="sekrit-value")
    try:
        assert "sekrit" not in repr(store)
        assert "sekrit" not in repr(vars(store).keys())
        assert not any(v == "sekrit-value" for v in vars(store).values())
    finally:
        store.close()


def test_s3_rejects_a_bad_prefix() -> None:
    with pytest.raises(ValueError, match="invalid S3 key prefix"):
        S3BlobStore("b", "a/../b")
    with pytest.raises(ValueError, match="bucket name is empty"):
        S3BlobStore("")


# --- choosing a backend from the settings ----------------------------------------------------------


def test_factory_defaults_to_the_data_dir(tmp_path: Path) -> None:
    for url in (None, ""):
        store = blob_store(Settings(data_dir=tmp_path / "data", blob_url=url))
        assert isinstance(store, LocalBlobStore)
        assert store.root == tmp_path / "data" / "blobs"


def test_factory_file_url(tmp_path: Path) -> None:
    store = blob_store(Settings(data_dir=tmp_path, blob_url=f"file://{tmp_path}/elsewhere"))
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "elsewhere"
    store.put("x/y", b"z")
    assert (tmp_path / "elsewhere" / "x" / "y").read_bytes() == b"z"

    spaced = blob_store(Settings(data_dir=tmp_path, blob_url=f"file://localhost{tmp_path}/with%20space"))
    assert isinstance(spaced, LocalBlobStore)
    assert spaced.root == tmp_path / "with space"


def test_factory_s3_url_uses_the_s3_settings(moto_url: str, bucket: str, s3_admin: Any) -> None:
    settings = Settings(
        blob_url=f"s3://{bucket}/sp/proofs",
        s3_endpoint_url=moto_url,
        s3_region="eu-west-1",
        s3_access_key_id=DUMMY,
        s3_secret_access_key=DUMMY,
    )
    store = blob_store(settings)
    assert isinstance(store, S3BlobStore)
    try:
        assert (store.bucket, store.prefix) == (bucket, "sp/proofs/")
        assert store.client.meta.region_name == "eu-west-1"
        assert store.client.meta.endpoint_url == moto_url
        store.put("appt/doc", b"via settings")
        assert s3_admin.get_object(Bucket=bucket, Key="sp/proofs/appt/doc")["Body"].read() == b"via settings"
    finally:
        store.close()


def test_factory_reads_the_environment(monkeypatch: pytest.MonkeyPatch, moto_url: str, bucket: str) -> None:
    monkeypatch.setenv("SP_SERVICES_BLOB_URL", f"s3://{bucket}")
    monkeypatch.setenv("SP_SERVICES_S3_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("SP_SERVICES_S3_REGION", REGION)
    monkeypatch.setenv("SP_SERVICES_S3_ACCESS_KEY_ID", DUMMY)
    monkeypatch.setenv("SP_SERVICES_S3_SECRET_ACCESS_KEY", "env-secret-value")
    settings = Settings()
    assert "env-secret-value" not in repr(settings)
    store = blob_store(settings)
    assert isinstance(store, S3BlobStore)
    try:
        store.put("k", b"v")
        assert store.get("k") == b"v"
        assert list(store.keys()) == ["k"]
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "http://example.com/blobs",
        "blobs",
        "/absolute/but/no/scheme",
        "file://relative/dir",
        "file:relative",
        "s3://",
        "s3:///prefix-but-no-bucket",
        "s3://bucket/prefix?versioning=1",
        "s3://bucket/a/../b",
    ],
)
def test_factory_rejects_other_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match=r"SP_SERVICES_BLOB_URL|invalid S3 key prefix"):
        blob_store(Settings(data_dir=tmp_path, blob_url=url))


def test_factory_does_not_echo_credentials_in_the_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SP_SERVICES_S3_ACCESS_KEY_ID") as info:
        blob_store(Settings(data_dir=tmp_path, blob_url="s3://AKIDEXAMPLE:sekrit-value@bucket/p"))
    assert "sekrit" not in str(info.value)
    assert "AKIDEXAMPLE" not in str(info.value)
