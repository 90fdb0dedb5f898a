"""Blob store for proof-of-appointment documents: a local directory or S3-compatible object storage.

Both backends take the same keys: segments of letters, digits, ``.``, ``-`` and ``_`` joined by ``/``
(no empty, ``.`` or ``..`` segment, at most 255 characters a segment and 1024 in all). Anything else is
a ``ValueError`` on either backend, so a key that works on one works on the other.

Chosen by ``SP_SERVICES_BLOB_URL`` (see :func:`blob_store`):

* unset: files under ``<data_dir>/blobs``;
* ``file:///absolute/dir``: files under that directory;
* ``s3://bucket/optional/prefix``: objects in that bucket, reached with ``SP_SERVICES_S3_ENDPOINT_URL``,
  ``SP_SERVICES_S3_REGION``, ``SP_SERVICES_S3_ACCESS_KEY_ID`` and ``SP_SERVICES_S3_SECRET_ACCESS_KEY``;
  any of them unset falls back to boto3's own defaults (environment, shared config, instance role).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from sp_services.settings import Settings

if TYPE_CHECKING:
    import boto3.session
    from types_boto3_s3.client import S3Client

__all__ = ["BlobStore", "LocalBlobStore", "S3BlobStore", "blob_store", "validate_key"]

_SEGMENT = re.compile(r"[A-Za-z0-9._-]{1,255}")
_MAX_KEY_LENGTH = 1024
# Temporary files carry a character no key may contain, so they never collide with a key or get listed.
_TMP_PREFIX = ".blob-"
_TMP_SUFFIX = "~tmp"
# S3 error codes that mean "no such object" (GetObject answers NoSuchKey; some servers say 404 / NotFound).
_ABSENT_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


@runtime_checkable
class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there. Readers see all of it or nothing."""
        ...

    def get(self, key: str) -> bytes | None:
        """The bytes stored under ``key``, or None when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is absent."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key that starts with ``prefix`` (a plain string prefix), in no promised order.

        Deleting keys while iterating (a retention purge) is fine on both backends.
        """
        ...


def _key_error(key: str) -> str | None:
    if not key:
        return "is empty"
    if len(key) > _MAX_KEY_LENGTH:
        return f"is longer than {_MAX_KEY_LENGTH} characters"
    for segment in key.split("/"):
        if segment in (".", ".."):
            return "has a '.' or '..' segment"
        if not _SEGMENT.fullmatch(segment):
            if not segment:
                return "has an empty segment (leading, trailing or doubled '/')"
            if len(segment) > 255:
                return "has a segment longer than 255 characters"
            return "may only contain letters, digits, '.', '-', '_' and '/'"
    return None


def validate_key(key: str) -> str:
    """Return ``key`` when every backend can store it; raise ``ValueError`` otherwise."""
    problem = _key_error(key)
    if problem is not None:
        raise ValueError(f"invalid blob key {key!r}: it {problem}")
    return key


class LocalBlobStore:
    """Blobs as files under ``root``: the key ``a/b.pdf`` is the file ``root/a/b.pdf``.

    Writes go to a temporary file in the target's directory, are fsynced, then ``os.replace``d into
    place, so a reader sees the old bytes or the new ones, never part of a write. Files are created
    0600 and directories as needed; directories left empty by a delete are removed.

    Unlike S3, a key cannot also be a directory of other keys here: with ``a`` stored, ``a/b`` cannot
    be (and the other way round); such a put raises ``ValueError``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalBlobStore(root={str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        fd, tmp = self._temp_file(key, path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            _unlink_quietly(tmp)
            if isinstance(exc, IsADirectoryError):
                raise ValueError(f"blob key {key!r} is a directory of other keys in {self.root}") from exc
            raise
        _fsync_directory(path.parent)

    def _temp_file(self, key: str, directory: Path) -> tuple[int, str]:
        for attempt in range(5):
            try:
                directory.mkdir(parents=True, exist_ok=True)
                return tempfile.mkstemp(dir=directory, prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX)
            except (FileExistsError, NotADirectoryError) as exc:
                raise ValueError(f"blob key {key!r} lies under another stored key in {self.root}") from exc
            except FileNotFoundError:
                # A concurrent delete removed the (then empty) directory between mkdir and mkstemp.
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():
            return
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        directory = path.parent
        while directory != self.root:
            try:
                directory.rmdir()
            except OSError:  # not empty (or already gone): stop pruning
                return
            directory = directory.parent

    def keys(self, prefix: str = "") -> Iterator[str]:
        # Start at the deepest directory the prefix names in full; descend only where keys can match it.
        base, _, _ = prefix.rpartition("/")
        if base and _key_error(base) is not None:
            return
        start = self._path(base) if base else self.root
        for dirpath, dirnames, filenames in os.walk(start):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            here = "" if rel == "." else rel + "/"
            dirnames[:] = sorted(
                d for d in dirnames if (here + d + "/").startswith(prefix) or prefix.startswith(here + d + "/")
            )
            for name in sorted(filenames):
                key = here + name
                if key.startswith(prefix) and _key_error(key) is None:
                    yield key


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems cannot fsync a directory, which is fine.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class S3BlobStore:
    """Blobs as objects in an S3 bucket (AWS or any S3-compatible server), under an optional key prefix.

    ``prefix`` is a folder-like prefix: ``"docs"`` and ``"docs/"`` both store ``a/b`` as ``docs/a/b``;
    :meth:`keys` lists keys without it. Settings left None fall back to boto3's defaults. With an
    ``endpoint_url`` (MinIO, Ceph, Garage, ...) path-style addressing is used, and checksums are only
    sent where S3 requires them, which S3-compatible servers accept more widely. A single PUT replaces
    an object atomically. Credentials go to the client only; they are neither kept on the store nor
    shown by its ``repr``.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        from botocore.config import Config

        if not bucket:
            raise ValueError("S3 bucket name is empty")
        stripped = prefix.strip("/")
        if stripped:
            problem = _key_error(stripped)
            if problem is not None:
                raise ValueError(f"invalid S3 key prefix {prefix!r}: it {problem}")
        self.bucket = bucket
        self.prefix = stripped + "/" if stripped else ""
        self.endpoint_url = endpoint_url
        self.page_size = 1000  # keys listed per request; S3's own maximum
        config = Config(
            s3={"addressing_style": "path"} if endpoint_url else {},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=10,
            read_timeout=60,
        )
        with _SESSION_LOCK:  # creating clients from one session is not thread-safe
            self.client: S3Client = _session().client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
            )

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r}, endpoint_url={self.endpoint_url!r})"

    def close(self) -> None:
        """Close the client's connection pool."""
        self.client.close()

    def _object_key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._object_key(key), Body=data)

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _ABSENT_CODES:
                return None
            raise
        body = response["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def delete(self, key: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:  # S3 itself answers 204 for an absent key; some servers do not
            if exc.response.get("Error", {}).get("Code") not in _ABSENT_CODES:
                raise

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix, PaginationConfig={"PageSize": self.page_size}
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]


_SESSION_LOCK = threading.Lock()
_SESSION: boto3.session.Session | None = None


def _session() -> boto3.session.Session:
    # One boto3 session for every store: a new one would load the S3 service model again (~0.1 s).
    # Imported here so that deployments on the local store never pay for loading boto3.
    global _SESSION
    if _SESSION is None:
        import boto3.session

        _SESSION = boto3.session.Session()
    return _SESSION


def _redacted(url: str) -> str:
    # For error messages: never echo credentials someone put in the URL.
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()
    return url


def blob_store(settings: Settings) -> BlobStore:
    """The store ``settings.blob_url`` names; see the module docstring for the forms it takes."""
    url = settings.blob_url
    if not url:
        return LocalBlobStore(settings.data_dir / "blobs")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    shown = _redacted(url)
    expected = "expected file:///absolute/dir or s3://bucket[/prefix]"
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"SP_SERVICES_BLOB_URL {shown!r} names a host; {expected} (three slashes)")
        path = unquote(parts.path)
        if not path.startswith("/") or parts.query or parts.fragment:
            raise ValueError(f"SP_SERVICES_BLOB_URL {shown!r} is not an absolute directory; {expected}")
        return LocalBlobStore(Path(path))
    if scheme == "s3":
        if "@" in parts.netloc:
            raise ValueError(
                f"SP_SERVICES_BLOB_URL {shown!r} carries credentials; set SP_SERVICES_S3_ACCESS_KEY_ID and "
                "SP_SERVICES_S3_SECRET_ACCESS_KEY instead"
            )
        if not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"SP_SERVICES_BLOB_URL {shown!r} has no bucket or has extra parts; {expected}")
        return S3BlobStore(
            parts.netloc,
            unquote(parts.path),
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    raise ValueError(f"SP_SERVICES_BLOB_URL {shown!r} has an unsupported scheme; {expected}")
