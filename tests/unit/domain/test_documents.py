"""Proof-of-appointment documents without I/O (domain/documents.py): content types, the client's
AES-256-CBC/PKCS#7 encryption, the wrapped keys at rest, signed upload URLs, and ``verify``'s
checks in their order."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from sp_services.domain.documents import (
    BLOCK,
    MAX_CONTENT_LENGTH,
    MIME,
    REFERENCE_DAYS,
    UPLOAD_URL_SECONDS,
    ContentType,
    Declared,
    DecryptionFailed,
    DocumentKey,
    Rejection,
    decrypt,
    encrypt,
    encrypted_length,
    signature_valid,
    upload_content_types,
    upload_signature,
    verify,
)

SANDBOX = (Path(__file__).resolve().parents[3] / "spec" / "sandbox-cases.md").read_text()
KEY = DocumentKey(bytes(range(32)), bytes(range(100, 116)))
OTHER_KEY = DocumentKey(bytes(range(1, 33)), bytes(range(100, 116)))
SECRET = b"server secret"
PDF = b"%PDF-1.7\n" + b"proof of appointment " * 40 + b"\n%%EOF\n"

keys = st.builds(DocumentKey, st.binary(min_size=32, max_size=32), st.binary(min_size=16, max_size=16))
secrets_ = st.binary(min_size=1, max_size=64)
destination_ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40)
expiries = st.integers(min_value=0, max_value=2**40)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md5(data: bytes) -> str:
    return b64(hashlib.md5(data).digest())


def sha256(data: bytes) -> str:
    return b64(hashlib.sha256(data).digest())


def aes_cbc(data: bytes, key: DocumentKey) -> bytes:
    """AES-256-CBC without padding: ``data`` must be whole blocks."""
    encryptor = Cipher(algorithms.AES(key.key), modes.CBC(key.iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def pkcs7(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


# ---- content types ------------------------------------------------------------------------------


def test_content_types_and_limits() -> None:
    assert [t.value for t in ContentType] == ["TIFF", "JPG", "PNG", "JPEG", "GIF", "PDF"]
    assert MIME == {
        ContentType.TIFF: "image/tiff",
        ContentType.JPG: "image/jpeg",
        ContentType.PNG: "image/png",
        ContentType.JPEG: "image/jpeg",
        ContentType.GIF: "image/gif",
        ContentType.PDF: "application/pdf",
    }
    assert (MAX_CONTENT_LENGTH, UPLOAD_URL_SECONDS, REFERENCE_DAYS, BLOCK) == (5_242_880, 300, 30, 16)


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        (ContentType.TIFF, {"image/tiff", "tiff"}),
        (ContentType.JPG, {"image/jpeg", "jpg", "image/jpg"}),
        (ContentType.PNG, {"image/png", "png"}),
        (ContentType.JPEG, {"image/jpeg", "jpeg", "image/jpg"}),
        (ContentType.GIF, {"image/gif", "gif"}),
        (ContentType.PDF, {"application/pdf", "pdf"}),
    ],
)
def test_upload_content_types(content_type: ContentType, accepted: set[str]) -> None:
    """The MIME type handed out, the enum name as Amazon's sample sends it, and image/jpg for JPEGs."""
    assert upload_content_types(content_type) == frozenset(accepted)


# ---- encryption ---------------------------------------------------------------------------------


def test_encrypt_is_aes_256_cbc_nist_vector() -> None:
    """NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt); a whole block gains a block of PKCS#7 padding."""
    key = DocumentKey(
        bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"),
        bytes.fromhex("000102030405060708090a0b0c0d0e0f"),
    )
    plaintext = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
    ciphertext = encrypt(plaintext, key)
    assert ciphertext[:32].hex() == "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
    assert len(ciphertext) == 48
    assert decrypt(ciphertext, key) == plaintext


@given(plaintext=st.binary(max_size=300), key=keys)
def test_encrypt_pads_with_pkcs7_and_decrypt_inverts_it(plaintext: bytes, key: DocumentKey) -> None:
    ciphertext = encrypt(plaintext, key)
    assert ciphertext == aes_cbc(pkcs7(plaintext), key)
    assert len(ciphertext) == encrypted_length(len(plaintext))
    assert decrypt(ciphertext, key) == plaintext


@pytest.mark.parametrize(
    ("length", "encrypted"),
    [(0, 16), (1, 16), (15, 16), (16, 32), (17, 32), (100, 112), (MAX_CONTENT_LENGTH, MAX_CONTENT_LENGTH + 16)],
)
def test_encrypted_length(length: int, encrypted: int) -> None:
    """Always at least one byte of padding: a whole number of blocks gains a whole block."""
    assert encrypted_length(length) == encrypted


@pytest.mark.parametrize("ciphertext", [b"", b"\x00" * 15, b"\x00" * 17, encrypt(PDF, KEY)[:-1]])
def test_decrypt_refuses_what_is_not_whole_blocks(ciphertext: bytes) -> None:
    with pytest.raises(DecryptionFailed) as raised:
        decrypt(ciphertext, KEY)
    assert str(raised.value) == "ciphertext is not whole blocks"


@pytest.mark.parametrize(
    "padded",
    [b"A" * 15 + b"\x00", b"A" * 15 + b"\x11", b"A" * 14 + b"\x01\x02", b"A" * 16 + b"A" * 13 + b"\x03\x03\x04"],
    ids=["zero", "longer-than-a-block", "inconsistent", "inconsistent-second-block"],
)
def test_decrypt_refuses_bad_padding(padded: bytes) -> None:
    with pytest.raises(DecryptionFailed) as raised:
        decrypt(aes_cbc(padded, KEY), KEY)
    assert str(raised.value) == "bad padding"


# ---- keys at rest -------------------------------------------------------------------------------


def test_a_new_key_is_fresh_random_aes_256_with_a_16_byte_iv() -> None:
    first, second = DocumentKey.new(), DocumentKey.new()
    assert (len(first.key), len(first.iv)) == (32, 16)
    assert first.key != second.key and first.iv != second.iv


@given(key=keys, secret=secrets_)
def test_wrap_unwrap_round_trip(key: DocumentKey, secret: bytes) -> None:
    wrapped = key.wrap(secret)
    assert len(wrapped) == 12 + 48 + 16  # nonce, key and IV, GCM tag
    assert key.key not in wrapped and key.iv not in wrapped
    assert DocumentKey.unwrap(wrapped, secret) == key


def test_each_wrap_uses_a_fresh_nonce() -> None:
    assert KEY.wrap(SECRET) != KEY.wrap(SECRET)


@given(key=keys, secret=secrets_, other=secrets_)
def test_another_secret_cannot_unwrap(key: DocumentKey, secret: bytes, other: bytes) -> None:
    if other == secret:
        return
    with pytest.raises(InvalidTag):
        DocumentKey.unwrap(key.wrap(secret), other)


@given(key=keys, position=st.integers(min_value=0, max_value=75), flip=st.integers(min_value=1, max_value=255))
def test_a_tampered_wrapped_key_is_refused(key: DocumentKey, position: int, flip: int) -> None:
    wrapped = bytearray(key.wrap(SECRET))
    wrapped[position] ^= flip
    with pytest.raises(InvalidTag):
        DocumentKey.unwrap(bytes(wrapped), SECRET)


# ---- signed upload URLs -------------------------------------------------------------------------


@given(secret=secrets_, destination_id=destination_ids, expires=expiries)
def test_a_signature_is_hex_hmac_sha256_and_valid_for_its_url(secret: bytes, destination_id: str, expires: int) -> None:
    signature = upload_signature(secret, destination_id, expires)
    assert len(signature) == 64 and set(signature) <= set("0123456789abcdef")
    assert upload_signature(secret, destination_id, expires) == signature
    assert signature_valid(secret, destination_id, expires, signature)


@given(
    secret=secrets_,
    destination_id=destination_ids,
    expires=expiries,
    change=st.sampled_from(["secret", "destination", "expires"]),
    data=st.data(),
)
def test_a_signature_is_valid_for_nothing_else(
    secret: bytes, destination_id: str, expires: int, change: str, data: st.DataObject
) -> None:
    signature = upload_signature(secret, destination_id, expires)
    if change == "secret":
        secret = data.draw(secrets_.filter(lambda s: s != secret))
    elif change == "destination":
        destination_id = data.draw(destination_ids.filter(lambda d: d != destination_id))
    else:
        expires = data.draw(expiries.filter(lambda e: e != expires))
    assert not signature_valid(secret, destination_id, expires, signature)


@given(position=st.integers(min_value=0, max_value=63), digit=st.sampled_from("0123456789abcdef"))
def test_a_tampered_signature_is_invalid(position: int, digit: str) -> None:
    signature = upload_signature(SECRET, "dest-1", 1_900_000_000)
    tampered = signature[:position] + digit + signature[position + 1 :]
    assert signature_valid(SECRET, "dest-1", 1_900_000_000, tampered) == (tampered == signature)


@pytest.mark.parametrize("signature", ["", "0" * 64, "sig", "A" * 64])
def test_an_arbitrary_signature_is_invalid(signature: str) -> None:
    assert not signature_valid(SECRET, "dest-1", 1_900_000_000, signature)


def test_the_signature_covers_where_the_id_ends_and_the_expiry_begins() -> None:
    assert upload_signature(SECRET, "dest-1", 23) != upload_signature(SECRET, "dest-12", 3)


# ---- verification -------------------------------------------------------------------------------

MAGIC = {
    ContentType.TIFF: [b"II*\x00", b"MM\x00*"],
    ContentType.JPG: [b"\xff\xd8\xff"],
    ContentType.PNG: [b"\x89PNG\r\n\x1a\n"],
    ContentType.JPEG: [b"\xff\xd8\xff"],
    ContentType.GIF: [b"GIF87a", b"GIF89a"],
    ContentType.PDF: [b"%PDF-"],
}


def declared(plaintext: bytes, content_type: ContentType = ContentType.PDF, *, with_md5: bool = True) -> Declared:
    return Declared(content_type, len(plaintext), md5(plaintext) if with_md5 else None)


def test_rejection_texts_are_the_sandboxs() -> None:
    prefix = "Failed to process proof of appointment input. Reason: "
    for rejection in Rejection:
        assert rejection.value.startswith(prefix)
        # The MD5 check is ours: the sandbox has no text for it.
        assert (rejection.value in SANDBOX) == (rejection is not Rejection.MD5), rejection.name


@pytest.mark.parametrize("sha", [None, "cipher", "plain"])
def test_a_good_upload_passes_with_its_plaintext(sha: str | None) -> None:
    ciphertext = encrypt(PDF, KEY)
    digest = {None: None, "cipher": sha256(ciphertext), "plain": sha256(PDF)}[sha]
    assert verify(ciphertext, KEY, declared(PDF), digest) == (PDF, None)
    assert verify(ciphertext, KEY, declared(PDF, with_md5=False), digest, scanner=lambda *_: True) == (PDF, None)


@pytest.mark.parametrize(
    ("content_type", "magic"),
    [pytest.param(t, m, id=f"{t.value}-{i}") for t, magics in MAGIC.items() for i, m in enumerate(magics)],
)
def test_each_content_type_by_its_magic_bytes(content_type: ContentType, magic: bytes) -> None:
    plaintext = magic + b"\x00" * 40
    assert verify(encrypt(plaintext, KEY), KEY, declared(plaintext, content_type), None) == (plaintext, None)
    others = {m for t, ms in MAGIC.items() if MAGIC[t] != MAGIC[content_type] for m in ms}
    for other in others:
        wrong = other + b"\x00" * 40
        assert verify(encrypt(wrong, KEY), KEY, declared(wrong, content_type), None) == (
            wrong,
            Rejection.CONTENT_TYPE,
        )


def test_the_scanner_sees_the_plaintext_and_its_declared_type() -> None:
    seen: list[tuple[bytes, ContentType]] = []

    def scanner(content: bytes, content_type: ContentType) -> bool:
        seen.append((content, content_type))
        return False

    assert verify(encrypt(PDF, KEY), KEY, declared(PDF), None, scanner=scanner) == (PDF, Rejection.MALWARE)
    assert seen == [(PDF, ContentType.PDF)]


def test_each_rejection_in_the_documented_order() -> None:
    """uploaded → length readable → decrypts → length as declared → MD5 → magic bytes → SHA-256 →
    scanner: each request below fails its rule and every later one, and gets only its own."""
    good = encrypt(PDF, KEY)
    png = b"\x89PNG\r\n\x1a\n" + PDF[8:]
    cases: list[tuple[bytes | None, DocumentKey, Declared, str | None, tuple[bytes, Rejection]]] = [
        (None, KEY, Declared(ContentType.PNG, 1, "x" * 24), "x", (b"", Rejection.NOT_UPLOADED)),
        (b"", KEY, declared(PDF), "x", (b"", Rejection.NO_LENGTH)),
        (good[:-3], KEY, declared(PDF), "x", (b"", Rejection.NO_LENGTH)),
        (aes_cbc(b"\x00" * 32, KEY), KEY, declared(PDF), "x", (b"", Rejection.DECRYPT)),
        (good, OTHER_KEY, declared(PDF), "x", (b"", Rejection.DECRYPT)),
        (good, KEY, Declared(ContentType.PNG, len(PDF) + 1, "x" * 24), "x", (PDF, Rejection.LENGTH)),
        (good, KEY, Declared(ContentType.PNG, len(PDF), md5(png)), "x", (PDF, Rejection.MD5)),
        (good, KEY, Declared(ContentType.PNG, len(PDF), md5(PDF)), "x", (PDF, Rejection.CONTENT_TYPE)),
        (good, KEY, declared(PDF), sha256(b"other"), (PDF, Rejection.SHA256)),
        (good, KEY, declared(PDF), sha256(PDF), (PDF, Rejection.MALWARE)),
    ]
    for ciphertext, key, declaration, digest, expected in cases:
        assert verify(ciphertext, key, declaration, digest, scanner=refuse) == expected, expected[1].name


def refuse(content: bytes, content_type: ContentType) -> bool:
    return False
