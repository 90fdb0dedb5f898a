"""Documents: createServiceDocumentUploadDestination, and the upload endpoint its URLs point at.

The upload endpoint stands in for Amazon's S3 bucket: a signed ``PUT`` of the encrypted bytes,
answered the way S3 answers presigned uploads (an ETag on success, an XML ``<Error>`` otherwise).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request, Response

from sp_services.api import wire
from sp_services.api.context import AppContext, authorize, context
from sp_services.api.errors import status_of
from sp_services.api.params import json_body
from sp_services.domain import documents as docs
from sp_services.domain.errors import ErrorItem, InvalidInput, UploadRefused, unprocessable
from sp_services.services import documents as service

router = APIRouter(prefix="/service/v1", tags=["service"])
uploads = APIRouter(tags=["uploads"])


def _declared(body: Any) -> docs.Declared:
    """The body rules of ServiceUploadDocument, worded as the sandbox words them."""
    data = body if isinstance(body, dict) else {}
    content_type, length, md5 = data.get("contentType"), data.get("contentLength"), data.get("contentMD5")
    bad = []
    if content_type is None:
        bad.append("contentType")
    if isinstance(length, float) and length.is_integer():
        length = int(length)
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= docs.MAX_CONTENT_LENGTH:
        bad.append("contentLength")
    if md5 is not None and (
        not isinstance(md5, str)
        or len(md5) != 24
        or not md5.endswith("==")
        or not all(c.isalnum() or c in "+/" for c in md5[:22])
    ):
        bad.append("contentMD5")
    if bad:
        raise InvalidInput(ErrorItem("InvalidInput", f"Missing or invalid request parameters: [{', '.join(bad)}].", ""))
    if content_type not in docs.ContentType.__members__.values():
        allowed = ", ".join(f"'{t.value}'" for t in docs.ContentType)
        raise unprocessable(f"contentType parameter is invalid. Use one of [{allowed}]")
    assert isinstance(length, int) and isinstance(content_type, str)
    return docs.Declared(docs.ContentType(content_type), length, md5)


@router.post("/documents", operation_id="createServiceDocumentUploadDestination")
async def create_upload_destination(request: Request) -> dict[str, Any]:
    principal, ctx = await authorize(request, "createServiceDocumentUploadDestination")
    declared = _declared(await json_body(request))
    destination = await ctx.run(
        lambda s, now: service.create_destination(
            s,
            seller_id=principal.seller_id,
            declared=declared,
            now=now,
            document_store=ctx.document_store,
            public_url=ctx.settings.public_url,
        )
    )
    return {"payload": wire.upload_destination(destination)}


def _s3_error(request: Request, refused: UploadRefused) -> Response:
    """S3's answer to a refused presigned upload: an XML ``<Error>`` with the status of its kind."""
    request_id = getattr(request.state, "request_id", "")
    item = refused.items[0]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{item.code}</Code><Message>{escape(item.message)}</Message>"
        f"<RequestId>{request_id}</RequestId></Error>"
    )
    return Response(body, status_code=status_of(refused), media_type="application/xml")


@uploads.put("/uploads/{destination_id}", include_in_schema=False)
async def upload(request: Request, destination_id: str, ctx: AppContext = Depends(context)) -> Response:
    """Receive one encrypted document. The URL is checked before a byte of the body is read, and
    the body is read with a hard cap, so a refused upload stores nothing and costs little."""
    try:
        service.check_upload_url(
            destination_id,
            request.query_params.get("expires"),
            request.query_params.get("signature"),
            now=ctx.now(),
            secret=ctx.document_store.secret,
        )
        limit = docs.encrypted_length(docs.MAX_CONTENT_LENGTH)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise UploadRefused.too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise UploadRefused.too_large()
            chunks.append(chunk)
        body = b"".join(chunks)
        etag = await ctx.run(
            lambda s, now: service.receive_upload(
                s,
                destination_id=destination_id,
                content_type=request.headers.get("content-type"),
                body=body,
                now=now,
                document_store=ctx.document_store,
            )
        )
    except UploadRefused as refused:
        return _s3_error(request, refused)
    return Response(status_code=200, headers={"ETag": etag})
