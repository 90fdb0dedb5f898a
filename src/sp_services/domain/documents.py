"""Proof-of-appointment documents (docs/design.md §5): content rules, the client-side encryption
contract, signed upload URLs, and the checks a stored upload must pass before it becomes a POA.

Pure: no I/O and no clock. The crypto is the real thing (``cryptography``): AES-256-CBC with
PKCS#7 padding for documents, as clients encrypt them; AES-GCM to keep each destination's key
encrypted at rest under the server secret; HMAC-SHA256 to sign upload URLs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAX_CONTENT_LENGTH = 5_242_880
UPLOAD_URL_SECONDS = 300  # a destination's URL is valid 5 minutes
REFERENCE_DAYS = 30  # an upload can be attached to an appointment for 30 days, then it is purged
BLOCK = 16


class ContentType(StrEnum):
    TIFF = "TIFF"
    JPG = "JPG"
    PNG = "PNG"
    JPEG = "JPEG"
    GIF = "GIF"
    PDF = "PDF"


MIME: dict[ContentType, str] = {
    ContentType.TIFF: "image/tiff",
    ContentType.JPG: "image/jpeg",
    ContentType.PNG: "image/png",
    ContentType.JPEG: "image/jpeg",
    ContentType.GIF: "image/gif",
    ContentType.PDF: "application/pdf",
}

_MAGIC: dict[ContentType, tuple[bytes, ...]] = {
    ContentType.TIFF: (b"II*\x00", b"MM\x00*"),
    ContentType.JPG: (b"\xff\xd8\xff",),
    ContentType.PNG: (b"\x89PNG\r\n\x1a\n",),
    ContentType.JPEG: (b"\xff\xd8\xff",),
    ContentType.GIF: (b"GIF87a", b"GIF89a"),
    ContentType.PDF: (b"%PDF-",),
}


def upload_content_types(content_type: ContentType) -> frozenset[str]:
    """Content-Type values an upload may carry: the MIME type we hand out in ``headers``, plus what
    clients following Amazon's sample send (the enum name, and ``image/jpg`` for JPG)."""
    extra = {"image/jpg"} if content_type in (ContentType.JPG, ContentType.JPEG) else set()
    return frozenset({MIME[content_type], content_type.value.lower(), *extra})


def encrypted_length(content_length: int) -> int:
    """Size of the AES-CBC/PKCS#7 ciphertext of ``content_length`` bytes (always a whole extra block
    when the length is a multiple of 16)."""
    return (content_length // BLOCK + 1) * BLOCK


# ---- keys and signatures -----------------------------------------------------------------------


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sp-services " + purpose).derive(secret)


@dataclass(frozen=True)
class DocumentKey:
    """The AES-256 key and CBC IV a client encrypts one document with."""

    key: bytes
    iv: bytes

    @classmethod
    def new(cls) -> DocumentKey:
        return cls(os.urandom(32), os.urandom(16))

    def wrap(self, secret: bytes) -> bytes:
        """Key and IV encrypted under the server secret (what is stored)."""
        nonce = os.urandom(12)
        return nonce + AESGCM(_derive(secret, b"document keys")).encrypt(nonce, self.key + self.iv, b"document-key")

    @classmethod
    def unwrap(cls, wrapped: bytes, secret: bytes) -> DocumentKey:
        plain = AESGCM(_derive(secret, b"document keys")).decrypt(wrapped[:12], wrapped[12:], b"document-key")
        return cls(plain[:32], plain[32:])


def upload_signature(secret: bytes, destination_id: str, expires: int) -> str:
    """HMAC over the destination and the URL's expiry (epoch seconds), hex."""
    message = f"{destination_id}\n{expires}".encode()
    return hmac.new(_derive(secret, b"upload urls"), message, hashlib.sha256).hexdigest()


def signature_valid(secret: bytes, destination_id: str, expires: int, signature: str) -> bool:
    return hmac.compare_digest(upload_signature(secret, destination_id, expires), signature)


def encrypt(plaintext: bytes, key: DocumentKey) -> bytes:
    """What a client does before uploading (also used by tests and the demo)."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key.key), modes.CBC(key.iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


class DecryptionFailed(Exception):
    """The bytes are not a CBC/PKCS#7 ciphertext under this key."""


def decrypt(ciphertext: bytes, key: DocumentKey) -> bytes:
    if not ciphertext or len(ciphertext) % BLOCK:
        raise DecryptionFailed("ciphertext is not whole blocks")
    decryptor = Cipher(algorithms.AES(key.key), modes.CBC(key.iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise DecryptionFailed("bad padding") from exc


# ---- verification ------------------------------------------------------------------------------

_PREFIX = "Failed to process proof of appointment input. Reason: "


class Rejection(StrEnum):
    """Why a referenced document is refused, with the sandbox's text."""

    UNKNOWN = _PREFIX + "Input document id does not exist. Please check the input"
    INVALID = _PREFIX + "Input document parameters are invalid. Please check the input."
    CONTENT_TYPE = _PREFIX + "Document failed to meet content type restrictions. Please review document uploaded"
    NO_LENGTH = _PREFIX + "Failed to retrieve document content length. Please review document uploaded"
    LENGTH = _PREFIX + "Document failed to meet content length restrictions. Please review document uploaded"
    NOT_UPLOADED = _PREFIX + "Document encrypted not found or exist. Please review document uploaded"
    DECRYPT = _PREFIX + "Document failed to decrypt or decipher. Please review the uploaded document"
    SHA256 = (
        _PREFIX + "Document failed to meet sanity check. Could not get a Sha256 Message Digest instance. "
        "Please review document uploaded"
    )
    MD5 = _PREFIX + "Document failed to meet sanity check. Content MD5 does not match. Please review document uploaded"
    MALWARE = _PREFIX + "Document failed to meet malware check. Please review document uploaded"


# A content scanner looks at the decrypted bytes and says whether they are safe (True) or not.
Scanner = Callable[[bytes, ContentType], bool]


@dataclass(frozen=True)
class Declared:
    """What createServiceDocumentUploadDestination was told about the document."""

    content_type: ContentType
    content_length: int
    content_md5: str | None


def _b64_digest(data: bytes, algorithm: str) -> str:
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def verify(
    ciphertext: bytes | None,
    key: DocumentKey,
    declared: Declared,
    content_sha256: str | None,
    *,
    scanner: Scanner | None = None,
) -> tuple[bytes, Rejection | None]:
    """Check an upload against what was declared; returns the plaintext and the first failure.

    Order: uploaded → length readable → decrypts → length as declared → MD5 (if declared) →
    magic bytes → SHA-256 (of the encrypted stream, as Amazon's sample computes it, or of the
    plaintext) → scanner.
    """
    if ciphertext is None:
        return b"", Rejection.NOT_UPLOADED
    if not ciphertext or len(ciphertext) % BLOCK:
        return b"", Rejection.NO_LENGTH
    try:
        plaintext = decrypt(ciphertext, key)
    except DecryptionFailed:
        return b"", Rejection.DECRYPT
    if len(plaintext) != declared.content_length:
        return plaintext, Rejection.LENGTH
    if declared.content_md5 is not None and _b64_digest(plaintext, "md5") != declared.content_md5:
        return plaintext, Rejection.MD5
    if not plaintext.startswith(_MAGIC[declared.content_type]):
        return plaintext, Rejection.CONTENT_TYPE
    if content_sha256 is not None and content_sha256 not in (
        _b64_digest(ciphertext, "sha256"),
        _b64_digest(plaintext, "sha256"),
    ):
        return plaintext, Rejection.SHA256
    if scanner is not None and not scanner(plaintext, declared.content_type):
        return plaintext, Rejection.MALWARE
    return plaintext, None
