"""Hostile input (issue #6): fuzzed bodies, query strings and paths for every operation, oversized and
malformed bodies, slow and vanishing clients, garbage uploads, bounded memory.

Whatever arrives, the server answers below 500, with the SP-API error body (or the model's success
shape), without a stack trace in the response, and keeps serving.

A few inputs still crash the server; each has a strict xfail test below (``test_known_*``), and the
fuzzers tolerate a 500 only for a request of exactly that kind (``KNOWN_CRASHES``), so that every other
input keeps being checked. When a bug is fixed its xfail test passes and fails the suite: delete the
xfail mark and the matching ``KNOWN_CRASHES`` entry together.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes, unquote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sp_services.domain.enums import JobStatus
from tests.conformance.test_isolation import Scene, build_scene
from tests.operations import BY_ID, MP, OPERATIONS, Call, Operation, each
from tests.support import Server, World, make_world, start_process_server

# Text a Python crash leaves behind; checked only when the request itself did not carry it.
TRACE_MARKERS = re.compile(
    r'Traceback|File "|\.py"|(?i:sqlalchemy)|psycopg|\b[A-Z][A-Za-z]*(?:Error|Exception): |line \d+, in '
)
FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


# ---- the request and the checks on its answer ---------------------------------------------------


@dataclass
class Raw:
    """A request as bytes on the wire: an already percent-encoded path and query, and a raw body."""

    method: str
    path: str
    query: str = ""
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def send(self, client: httpx.Client) -> httpx.Response:
        headers = dict(self.headers)
        if self.body is not None:
            headers.setdefault("content-type", "application/json")
        # As bytes, so that header values need not be ASCII.
        encoded = [(k.encode(), v.encode()) for k, v in headers.items()]
        return client.request(self.method, self.target, content=self.body, headers=encoded)

    def text(self) -> str:
        """What the request carried, decoded, for telling an echo of the input from a leak."""
        return unquote(self.target) + (self.body or b"").decode("utf-8", "replace")


def encode_query(pairs: list[tuple[str, str | bytes]]) -> str:
    """``k=v&...`` percent-encoded byte for byte (bytes values may be any bytes, UTF-8 or not)."""

    def enc(v: str | bytes) -> str:
        return quote_from_bytes(v, safe="") if isinstance(v, bytes) else quote(v, safe="", errors="surrogatepass")

    return "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)


def raw_of(call: Call, token: str) -> Raw:
    body = None if call.body is None else json.dumps(call.body).encode()
    return Raw(
        call.method,
        quote(call.path, safe="/"),
        encode_query(list(call.params.items())),
        body,
        {"x-amz-access-token": token},
    )


# Inputs that crash the server, tolerated by the fuzzers while a fix is pending: (name, matches(operation,
# raw)). Empty: the crashes these tests found (non-finite slotDuration, lone surrogates, an empty list
# for a string parameter, odd upload query strings, the token cache outliving a token) are fixed, and
# their tests (test_known_*) now assert the server's proper answers.
KNOWN_CRASHES: list[tuple[str, Callable[[str, Raw], bool]]] = []


def check(operation: str, raw: Raw, response: httpx.Response) -> None:
    """Below 500, the model's error (or success) shape, a request id, and no trace of a crash."""
    if response.status_code >= 500 and any(matches(operation, raw) for _, matches in KNOWN_CRASHES):
        return
    assert response.status_code < 500, (raw, response.text)
    assert response.headers.get("x-amzn-requestid"), raw
    leaked = {m.group(0) for m in TRACE_MARKERS.finditer(response.text)}
    sent = raw.text()
    assert not {m for m in leaked if m.lower() not in sent.lower()}, (raw, response.text)
    if response.status_code == 204:
        assert response.content == b""
        return
    if response.status_code in (307, 308):  # the router's trailing-slash redirect ("/x/%2F" is "/x//")
        assert response.headers["location"].startswith("http"), response.headers
        return
    assert response.headers["content-type"].startswith("application/json"), (raw, response.headers)
    body = response.json()
    if response.status_code >= 400:
        items = body if isinstance(body, list) else body.get("errors") if isinstance(body, dict) else None
        if isinstance(body, dict):
            assert set(body) == {"errors"}, body
        assert isinstance(items, list) and items, body
        for item in items:
            assert isinstance(item, dict) and isinstance(item.get("code"), str) and isinstance(item.get("message"), str)
            assert set(item) <= {"code", "message", "details"}, item
    else:
        assert isinstance(body, dict), body


# ---- strategies ---------------------------------------------------------------------------------

# Number tokens JSON allows (or Python's parser accepts) that no Python value round-trips to.
RAW_NUMBERS = ["1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1" * 5000, "1e-400", "-0", "0.1e1", "1E400"]
ODD_TEXT = [
    "",
    " ",
    "null",
    "true",
    "NaN",
    "-1",
    "0",
    "9" * 400,
    "2030-02-30T10:00:00Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2030-03-04T10:00:00.999999999999Z",
    "\x00",
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "😀" * 50,
    "²",
    "١٢٣",
    "\uff21\uff22\uff23",  # fullwidth ABC
    "'; DROP TABLE jobs;--",
    "<Error>&amp;</Error>",
    "%ff%fe",
    "../../etc/passwd",
    "PENDING_SCHEDULE ",
    "pending_schedule",
    "NOT_A_STATUS",
    "VACATION",
    "TRAINING,BREAK",
    "AVAILABLE_CAPACITY",
    "ATVPDKIKX0DER,A1F83G8C2ARO7P",
    "{{7*7}}",
    "${jndi:ldap://x}",
]
KEYS = [
    "appointmentTime",
    "startTime",
    "endTime",
    "durationInMinutes",
    "rescheduleReasonCode",
    "resources",
    "resourceId",
    "fulfillmentTime",
    "estimatedArrivalTime",
    "appointmentResources",
    "fulfillmentDocuments",
    "uploadDestinationId",
    "contentSha256",
    "schedules",
    "capacity",
    "recurrence",
    "daysOfWeek",
    "daysOfMonth",
    "reservation",
    "type",
    "availability",
    "capacityTypes",
    "startDateTime",
    "endDateTime",
    "slotDuration",
    "contentType",
    "contentLength",
    "contentMD5",
    "marketplaceIds",
    "nextPageToken",
    "pageToken",
    "cancellationReasonCode",
    "__proto__",
    "constructor",
]


# A value of every JSON type, for putting the wrong type in each field.
WRONG_TYPES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**63,
    -(2**64),
    1e308,
    "@@RAW:1e309@@",
    "@@RAW:-1e309@@",
    "@@RAW:NaN@@",
    "@@RAW:Infinity@@",
    "@@RAW:" + "9" * 5000 + "@@",
    "",
    "x",
    "\ud800",
    "2030-03-04T10:00:00Z",
    [],
    [None],
    [[]],
    {},
    {"": None},
]


text_values = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=8).map(lambda s: s * 5000),
    st.characters(categories=["Cs"]),  # a lone surrogate, as a JSON \\u escape
)
leaf_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(RAW_NUMBERS).map(lambda t: f"@@RAW:{t}@@"),
    text_values,
)
json_values = st.recursive(
    leaf_values,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def dumps(value: Any) -> bytes:
    """JSON with NaN/Infinity, \\u escapes for lone surrogates, and raw number tokens spliced in."""
    text = json.dumps(value, allow_nan=True)
    return re.sub(r'"@@RAW:([^@]*)@@"', lambda m: m.group(1), text).encode()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated_bodies(draw: st.DrawFn, valid: Any) -> bytes:
    """The operation's valid body with one to three fields replaced, removed, added or multiplied."""
    if draw(st.integers(0, 9)) == 0:  # now and then, a body that is something else altogether
        return dumps(copy.deepcopy(draw(json_values | st.sampled_from(WRONG_TYPES))))
    body = copy.deepcopy(valid) if valid is not None else {}
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(body))[1:]
        action = draw(st.sampled_from(["retype", "retype", "replace", "replace", "delete", "add", "repeat"]))
        if not paths or not isinstance(body, dict | list):
            body = {draw(st.sampled_from(KEYS)): copy.deepcopy(draw(json_values))}
            continue
        path = draw(st.sampled_from(paths))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if action == "replace":
            parent[last] = draw(json_values)
        elif action == "retype":
            parent[last] = copy.deepcopy(draw(st.sampled_from(WRONG_TYPES)))
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS) | st.text(max_size=10))] = draw(json_values)
        elif action == "repeat":
            # Many copies of one value, kept to a few MB on the wire (over the 1 MiB limit is fine: 413).
            # The copies are one shared object, so this is the last mutation: changing a part of it
            # afterwards would change every copy and multiply the body's size.
            times = draw(st.sampled_from([2, 1000, 20_000]))
            parent[last] = [parent[last]] * max(1, min(times, 3_000_000 // (len(dumps(parent[last])) + 1)))
            break
    return dumps(body)


query_values: st.SearchStrategy[str | bytes] = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
    st.binary(min_size=1, max_size=12),  # percent-encoded, mostly not UTF-8
    st.sampled_from(["a" * 5000, ",".join(["ATVPDKIKX0DER"] * 500), ",,,,", "%", "%zz"]),
)
QUERY_KEYS = [
    "marketplaceIds",
    "createdAfter",
    "createdBefore",
    "lastUpdatedAfter",
    "lastUpdatedBefore",
    "scheduleStartDate",
    "scheduleEndDate",
    "serviceJobStatus",
    "serviceOrderIds",
    "productOrderIds",
    "trackingIds",
    "asins",
    "requiredSkills",
    "storeIds",
    "pageToken",
    "pageSize",
    "sortField",
    "sortOrder",
    "cancellationReasonCode",
    "asin",
    "storeId",
    "startTime",
    "endTime",
    "nextPageToken",
]


@st.composite
def mutated_queries(draw: st.DrawFn, valid: dict[str, str]) -> str:
    """The valid query with values replaced, dropped, repeated, and unknown or odd parameters added."""
    pairs: list[tuple[str, str | bytes]] = list(valid.items())
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["replace", "drop", "repeat", "add", "add"]))
        if action in ("replace", "drop", "repeat") and pairs:
            i = draw(st.integers(0, len(pairs) - 1))
            if action == "replace":
                pairs[i] = (pairs[i][0], draw(query_values))
            elif action == "drop":
                del pairs[i]
            else:
                pairs += [(pairs[i][0], draw(query_values))] * draw(st.sampled_from([1, 2, 200]))
        else:
            key = draw(st.sampled_from(QUERY_KEYS) | st.text(st.characters(codec="utf-8"), max_size=8))
            pairs.append((key, draw(query_values)))
    # Keep within the client's own URL limit (64 KiB): the HTTP layer's limits have their own test.
    kept, size = [], 0
    for pair in pairs:
        size += len(encode_query([pair])) + 1
        if size > 60_000:
            break
        kept.append(pair)
    return encode_query(kept)


path_values = st.one_of(
    st.sampled_from(["a" * 101, "a" * 5000, "null", "..", "%2e%2e", "x y", "%00", "%ff%fe", "😀", "%2F", "-", "_"]),
    st.binary(min_size=1, max_size=12).map(lambda b: quote_from_bytes(b, safe="")),
    st.text(max_size=20).map(lambda s: quote(s, safe="", errors="surrogatepass")),
)


# ---- fixtures -----------------------------------------------------------------------------------


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class _PrintableRecords(logging.Filter):
    """The server's log of a crash may quote a lone surrogate from a hostile request; pytest-xdist
    cannot ship such text from a worker to the controller (INTERNALERROR), so escape it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = _printable(record.getMessage()), None
        if record.exc_text:
            record.exc_text = _printable(record.exc_text)
        return True


@pytest.fixture(autouse=True)
def _printable_server_log() -> Iterator[None]:
    logger = logging.getLogger("sp_services.api")
    printable = _PrintableRecords()
    logger.addFilter(printable)
    yield
    logger.removeFilter(printable)


@pytest.fixture(scope="module")
def target(server: Server) -> Scene:
    """Seller A with one object of every kind; the fuzzers aim the operations' valid requests at it."""
    return build_scene(make_world(server))


@pytest.fixture(scope="module")
def client(target: Scene) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=target.server.url, timeout=60) as c:
        yield c


# ---- fuzzing every operation --------------------------------------------------------------------


@pytest.mark.parametrize("operation", each())
def test_fuzzed_bodies(target: Scene, client: httpx.Client, operation: Operation) -> None:
    call = operation.call(target.ids)
    valid = raw_of(call, target.world.token)

    @FUZZ
    @given(body=mutated_bodies(call.body))
    def fuzz(body: bytes) -> None:
        raw = Raw(valid.method, valid.path, valid.query, body, valid.headers)
        check(operation.operation_id, raw, raw.send(client))

    fuzz()


@pytest.mark.parametrize("operation", each())
def test_fuzzed_query_strings_and_paths(target: Scene, client: httpx.Client, operation: Operation) -> None:
    call = operation.call(target.ids)
    valid = raw_of(call, target.world.token)
    segments = valid.path.split("/")
    # The path parameters: the template's {…} segments.
    variable = [i for i, segment in enumerate(operation.path.split("/")) if segment.startswith("{")]

    @FUZZ
    @given(query=mutated_queries(call.params), data=st.data())
    def fuzz(query: str, data: st.DataObject) -> None:
        path = list(segments)
        mangle: bool = data.draw(st.booleans())
        if variable and mangle:
            path[data.draw(st.sampled_from(variable))] = data.draw(path_values)
        raw = Raw(valid.method, "/".join(path), query, valid.body, valid.headers)
        check(operation.operation_id, raw, raw.send(client))

    fuzz()


# Parameters the server also reads from the JSON body (api/params.py), swept even when the valid body lacks them.
# String parameters that may also come from the JSON body (api/params.py body_fallbacks).
STRING_FALLBACKS = ("nextPageToken", "pageToken", "cancellationReasonCode")
FALLBACKS = ("marketplaceIds", *STRING_FALLBACKS)
SWEEP_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    2**63,
    "@@RAW:1e309@@",
    "@@RAW:NaN@@",
    "",
    "x" * 3000,
    "\ud800",
    [],
    [None],
    {},
]


@pytest.mark.parametrize("operation", each())
def test_a_wrong_type_in_every_field(server: Server, target: Scene, client: httpx.Client, operation: Operation) -> None:
    """Deterministic: each field of the valid body (and each body-fallback parameter) in turn gets a
    value of every JSON type, and the whole body is replaced by each of them too."""
    # An operation that changes state gets its own fresh objects, so that an early request that
    # happens to succeed does not leave the rest stopping at a state check.
    scene = build_scene(make_world(server)) if operation.mutates else target
    call = operation.call(scene.ids)
    valid = raw_of(call, scene.world.token)
    base = call.body if isinstance(call.body, dict) else {}
    requests = [(valid.query, dumps(v)) for v in SWEEP_VALUES]
    paths = list(_paths(base))[1:] + [(k,) for k in FALLBACKS if k not in base]
    for path in paths:
        # A parameter the query carries is read from the body only when the query lacks it.
        query = encode_query([(k, v) for k, v in call.params.items() if k != path[0]])
        for value in SWEEP_VALUES:
            body = copy.deepcopy(base)
            parent = body
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = copy.deepcopy(value)
            requests.append((query, dumps(body)))
    for query, body_bytes in requests:
        raw = Raw(valid.method, valid.path, query, body_bytes, valid.headers)
        check(operation.operation_id, raw, raw.send(client))


RAW_BODIES = [
    b"\xff\xfe\xfd",
    b'{"a": "\xc3\x28"}',
    b"\xef\xbb\xbf{}",
    b"{",
    b'{"a":1,}',
    b"[1, 2",
    b'"' + b"a" * 100_000,
    b"NaN",
    b"1" * 5000,
    b"{" * 5000,
    b"\x00" * 100,
    b'{"a":1}{"b":2}',
    b"\xfe\xff\x00{\x00}",
]


@pytest.mark.parametrize("operation", each())
def test_malformed_bodies(target: Scene, client: httpx.Client, operation: Operation) -> None:
    valid = raw_of(operation.call(target.ids), target.world.token)

    @FUZZ
    @given(body=st.sampled_from(RAW_BODIES) | st.binary(min_size=1, max_size=200))
    def fuzz(body: bytes) -> None:
        raw = Raw(valid.method, valid.path, valid.query, body, valid.headers)
        check(operation.operation_id, raw, raw.send(client))

    fuzz()


# ---- explicit hostile requests ------------------------------------------------------------------


@pytest.mark.parametrize("operation", each())
def test_ten_megabytes_are_refused_quickly(target: Scene, client: httpx.Client, operation: Operation) -> None:
    valid = raw_of(operation.call(target.ids), target.world.token)
    payload = b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    for body in (payload, iter([payload[i : i + 65536] for i in range(0, len(payload), 65536)])):  # declared, chunked
        started = time.monotonic()
        headers = {**valid.headers, "content-type": "application/json"}
        r = client.request(valid.method, valid.target, content=body, headers=headers)
        assert time.monotonic() - started < 5
        assert r.status_code == 413, r.text
        assert operation.errors(r) == [
            {
                "code": "RequestEntityTooLarge",
                "message": "The request size exceeded the maximum accepted size.",
                "details": "",
            }
        ]
        assert r.headers["x-amzn-requestid"]


UNREADABLE = {
    "code": "InvalidInput",
    "message": "Missing or invalid request parameters: [body]",
    "details": "The request body is not valid JSON.",
}


@pytest.mark.parametrize("operation", each([o for o in OPERATIONS if o.reads_body]))
@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00garbage",
        b'{"appointmentTime": "\xc3\x28"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ],
    ids=["invalid-utf8", "invalid-utf8-in-string", "nested-lists-100000", "nested-objects-100000"],
)
def test_unreadable_bodies_are_400(target: Scene, client: httpx.Client, operation: Operation, body: bytes) -> None:
    """Every operation that reads a JSON body (the reads too: clients put marketplaceIds there)."""
    valid = raw_of(operation.call(target.ids), target.world.token)
    r = Raw(valid.method, valid.path, valid.query, body, valid.headers).send(client)
    assert r.status_code == 400, r.text
    assert operation.errors(r) == [UNREADABLE]


@pytest.mark.parametrize("operation", each([o for o in OPERATIONS if not o.reads_body]))
def test_operations_without_a_body_ignore_an_unreadable_one(
    target: Scene, client: httpx.Client, operation: Operation
) -> None:
    valid = raw_of(operation.call(target.ids), target.world.token)
    for body in (b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000):
        raw = Raw(valid.method, valid.path, valid.query, body, valid.headers)
        check(operation.operation_id, raw, raw.send(client))


# ---- clients that misbehave on the socket -------------------------------------------------------


def _connect(server: Server) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    return sock


def _head(server: Server, method: str, target: str, token: str, length: int) -> bytes:
    host = urlsplit(server.url).netloc
    return (
        f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nx-amz-access-token: {token}\r\n"
        f"content-type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def _status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_slow_clients_do_not_hold_up_others(target: Scene, client: httpx.Client) -> None:
    """Ten clients dribble their bodies a few bytes every 0.2 s; everyone else is served meanwhile."""
    (job_id,) = target.world.job()
    body = json.dumps({"marketplaceIds": [MP["marketplaceIds"]]}).encode().ljust(40)
    statuses: list[int] = []

    def dribble() -> None:
        with _connect(target.server) as sock:
            sock.sendall(
                _head(
                    target.server,
                    "GET",
                    f"/service/v1/serviceJobs/{job_id}/appointmentSlots",
                    target.world.token,
                    len(body),
                )
            )
            for i in range(0, len(body), 4):
                time.sleep(0.2)
                sock.sendall(body[i : i + 4])
            statuses.append(_status(sock))

    threads = [threading.Thread(target=dribble) for _ in range(10)]
    for th in threads:
        th.start()
    time.sleep(0.3)
    try:
        for _ in range(10):
            started = time.monotonic()
            r = client.get(f"/service/v1/serviceJobs/{job_id}", headers={"x-amz-access-token": target.world.token})
            assert r.status_code == 200, r.text
            assert time.monotonic() - started < 2.0  # generous: the machine may be busy
            time.sleep(0.05)
        assert all(th.is_alive() for th in threads)  # they were still dribbling all along
    finally:
        for th in threads:
            th.join(timeout=30)
    assert statuses == [200] * 10


def test_slowloris_headers_do_not_hold_up_others(target: Scene, client: httpx.Client) -> None:
    socks = []
    try:
        for _ in range(30):
            sock = _connect(target.server)
            sock.sendall(b"GET /service/v1/serviceJobs HTTP/1.1\r\nHost: x\r\nx-amz-")
            socks.append(sock)
        started = time.monotonic()
        r = client.get(f"/service/v1/serviceJobs/{target.pending}", headers={"x-amz-access-token": target.world.token})
        assert r.status_code == 200 and time.monotonic() - started < 2.0
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.parametrize(
    ("method", "path_of"),
    [
        ("PUT", lambda job_id: f"/service/v1/serviceJobs/{job_id}/cancellations?cancellationReasonCode=S1"),
        ("POST", lambda job_id: f"/service/v1/serviceJobs/{job_id}/appointments"),
        ("POST", lambda _: "/service/v1/documents"),
    ],
    ids=["cancel", "add-appointment", "documents"],
)
def test_a_client_that_vanishes_mid_body(
    target: Scene, client: httpx.Client, method: str, path_of: Callable[[str], str]
) -> None:
    """Content-Length 1000, ten bytes, then the connection closes: nothing is done, nothing breaks."""
    (job_id,) = target.world.job()
    headers = {"x-amz-access-token": target.world.token}
    before = client.get(f"/service/v1/serviceJobs/{job_id}", headers=headers)
    for _ in range(5):
        with _connect(target.server) as sock:
            sock.sendall(_head(target.server, method, path_of(job_id), target.world.token, 1000) + b'{"appointm')
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(5)
            try:
                leftover = sock.recv(4096)
            except OSError:
                leftover = b""
        assert not leftover or int(leftover.split(b" ", 2)[1]) < 500, leftover
    after = client.get(f"/service/v1/serviceJobs/{job_id}", headers=headers)
    assert after.status_code == 200 and after.json() == before.json()


def _read_answer(sock: socket.socket) -> tuple[int, str, Any] | None:
    """The server's answer on ``sock``: (status, content type, body as text, or parsed when JSON),
    read until it is complete or the connection ends; None if the server hung up without one."""
    data = b""
    while not _complete(data):
        try:
            chunk = sock.recv(65536)
        except OSError:  # reset after the answer: the server closed with part of our request unread
            break
        if not chunk:
            break
        data += chunk
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    content_type = headers["content-type"]
    text = body.decode()
    return (
        int(status_line.split(" ")[1]),
        content_type,
        json.loads(text) if content_type == "application/json" else text,
    )


def _complete(data: bytes) -> bool:
    """A whole response: its head, and a body of its Content-Length or with its last chunk (else, up to EOF)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    if length := re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head):
        return len(body) >= int(length[1])
    return re.search(rb"(?im)^transfer-encoding:\s*chunked\s*$", head) is not None and body.endswith(b"0\r\n\r\n")


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        out, body = out + rest[:n], rest[n + 2 :]
    return out


# uvicorn's own answer to what HTTP cannot parse: it never reaches the app.
UNPARSEABLE = (400, "text/plain; charset=utf-8", "Invalid HTTP request received.")


def _no_access(details: str) -> tuple[int, str, Any]:
    error = {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": details}
    return 403, "application/json", {"errors": [error]}


@pytest.mark.parametrize(
    ("request_bytes", "answer"),
    [
        pytest.param(
            b"GET /service/v1/serviceJobs?x=" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            UNPARSEABLE,
            id="200k-request-line",
        ),
        pytest.param(
            b"GET /service/v1/serviceJobs HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
            UNPARSEABLE,
            id="200k-header",
        ),
        pytest.param(
            b"GET /service/v1/serviceJobs HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
            + b"\r\n",
            _no_access("Access token is missing in the request header."),
            id="5000-headers",
        ),
        pytest.param(b"GARBAGE\r\n\r\n", UNPARSEABLE, id="garbage"),
        pytest.param(
            b"GET /service/v1/serviceJobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            UNPARSEABLE,
            id="negative-length",
        ),
        pytest.param(
            b"GET /service/v1/serviceJobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            UNPARSEABLE,
            id="two-lengths",
        ),
        pytest.param(
            b"POST /service/v1/documents HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"content-type: application/json\r\n\r\nzz\r\n",
            UNPARSEABLE,
            id="bad-chunk",
        ),
        pytest.param(
            b"GET /service/v1/serviceJobs HTTP/1.1\r\nHost: x\r\nx-amz-access-token: \xff\xfe\r\n\r\n",
            _no_access("The access token you provided is revoked, malformed or invalid."),
            id="latin1-token",
        ),
        pytest.param(
            b"GET /service/v1/serviceJobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            UNPARSEABLE,
            id="odd-transfer-encoding",
        ),
    ],
)
def test_protocol_garbage_gets_a_4xx(
    target: Scene, client: httpx.Client, request_bytes: bytes, answer: tuple[int, str, Any]
) -> None:
    """What HTTP itself cannot parse is answered by the HTTP layer (a plain-text 400); what it can
    parse (5000 headers, a token in Latin-1) reaches the platform, which refuses the token. Never a 5xx."""
    with _connect(target.server) as sock:
        sock.settimeout(10)
        try:
            sock.sendall(request_bytes)
        except OSError:  # the server may hang up on an oversized request before reading all of it
            pass
        got = _read_answer(sock)
    if got is not None:
        assert got == answer
    r = client.get(f"/service/v1/serviceJobs/{target.pending}", headers={"x-amz-access-token": target.world.token})
    assert r.status_code == 200


# ---- the upload endpoint (S3 stand-in) ----------------------------------------------------------


S3_ERROR = re.compile(
    r'<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>(\w+)</Code><Message>([^<]*)</Message>'
    r"<RequestId>([0-9a-f-]*)</RequestId></Error>"
)


def _s3_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert 400 <= response.status_code, response.text
    assert response.headers["content-type"].startswith("application/xml"), response.headers
    assert S3_ERROR.fullmatch(response.text), response.text


def _s3_answer(response: httpx.Response) -> tuple[int, str, str]:
    """(status, Code, Message) of an S3-style error, whose RequestId is the response's request id."""
    _s3_error(response)
    match = S3_ERROR.fullmatch(response.text)
    assert match is not None and match[3] == response.headers["x-amzn-requestid"], response.text
    return response.status_code, match[1], match[2]


@pytest.fixture(scope="module")
def destination(target: Scene, client: httpx.Client) -> dict[str, Any]:
    r = client.post(
        "/service/v1/documents",
        json={"contentType": "PDF", "contentLength": 100},
        headers={"x-amz-access-token": target.world.token},
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["payload"])


def test_fuzzed_uploads_get_s3_errors(target: Scene, client: httpx.Client, destination: dict[str, Any]) -> None:
    url = httpx.URL(destination["url"])
    good = [(k, v) for k, v in url.params.multi_items()]
    header_values = st.sampled_from(
        ["application/pdf", "", "text/plain", "PDF", "application/pdf; charset=\u00ff", "x" * 5000, "image/png"]
    )

    @FUZZ
    @given(
        query=st.lists(
            st.sampled_from(["expires", "signature", "X-Amz-Date", "x"]).flatmap(
                lambda k: st.tuples(st.just(k), query_values)
            ),
            max_size=4,
        ),
        keep=st.sets(st.sampled_from([0, 1])),
        destination_id=st.one_of(st.just(destination["uploadDestinationId"]), path_values),
        content_type=header_values,
        body=st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"\x00" * 112, b"\x00" * 6_000_000])),
    )
    def fuzz(
        query: list[tuple[str, str | bytes]], keep: set[int], destination_id: str, content_type: str, body: bytes
    ) -> None:
        pairs = [good[i] for i in sorted(keep) if i < len(good)] + query
        raw = Raw("PUT", f"/uploads/{destination_id}", encode_query(pairs), body, {"content-type": content_type})
        r = raw.send(client)
        if r.status_code == 200:  # the signed URL, as issued, with a body the right size
            assert r.headers["etag"]
            return
        if r.headers.get("content-type", "").startswith("application/json"):
            # Not the upload route any more ("/uploads/", "/uploads/a/b", "/uploads//"): the platform's 404.
            assert (r.status_code, r.json()) == (404, {"errors": [NOT_FOUND]}), (raw, r.text)
            check("upload", raw, r)
            return
        _s3_error(r)
        assert not TRACE_MARKERS.search(r.text)

    fuzz()


NOT_FOUND = {"code": "NotFound", "message": "The resource specified does not exist.", "details": ""}
UNSIGNED = (403, "AccessDenied", "Query-string authentication requires the expires and signature.")
BAD_SIGNATURE = (
    403,
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided.",
)


@pytest.mark.parametrize(
    ("change", "answer"),
    [
        pytest.param({"expires": "²"}, UNSIGNED, id="superscript-digit-expires"),
        pytest.param({"expires": "9" * 5000}, UNSIGNED, id="5000-digit-expires"),
        pytest.param({"signature": "é" * 64}, BAD_SIGNATURE, id="non-ascii-signature"),
    ],
)
def test_known_upload_query_crashes(
    client: httpx.Client, destination: dict[str, Any], change: dict[str, str], answer: tuple[int, str, str]
) -> None:
    """An expiry that is not plain digits counts as none; a signature that cannot be ours does not match."""
    url = httpx.URL(destination["url"])
    params = dict(url.params)
    params.update(change)
    r = client.put(url.path, params=params, content=b"\x00" * 112, headers=destination["headers"])
    assert _s3_answer(r) == answer


@pytest.mark.parametrize("duration", ["1e309", "NaN", "-Infinity"])
def test_known_non_finite_slot_duration(target: Scene, client: httpx.Client, duration: str) -> None:
    window = '"startDateTime": "2030-03-04T14:00:00Z", "endDateTime": "2030-03-04T22:00:00Z"'
    body = f'{{{window}, "slotDuration": {duration}}}'
    r = client.post(
        f"/service/v1/serviceResources/{target.world.store_id}/capacity/fixed",
        params=MP,
        content=body.encode(),
        headers={"x-amz-access-token": target.world.token, "content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json() == {
        "errors": [invalid_report("Slot duration is not valid, it should be a multiple of 5 and within allowed range.")]
    }


def invalid_report(reason: str) -> dict[str, str]:
    """The capacity operations' 400, which lists its reasons in ``details``."""
    return {
        "code": "InvalidInput",
        "message": "This is invalid input",
        "details": f"Received the following errors: [{reason}]",
    }


def invalid_parameter(name: str, details: str = "") -> dict[str, str]:
    return {"code": "InvalidInput", "message": f"Missing or invalid request parameters: [{name}]", "details": details}


@pytest.mark.parametrize(
    ("operation", "body", "error"),
    [
        pytest.param(
            "getServiceJobs",
            {"pageToken": []},
            invalid_parameter("pageToken", "pageToken: is not a valid value"),
            id="getServiceJobs-body0",
        ),
        pytest.param(
            "getRangeSlotCapacity",
            {"nextPageToken": []},
            invalid_report("nextPageToken is not valid"),
            id="getRangeSlotCapacity-body1",
        ),
        pytest.param(
            "getFixedSlotCapacity",
            {"nextPageToken": []},
            invalid_report("nextPageToken is not valid"),
            id="getFixedSlotCapacity-body2",
        ),
        pytest.param(
            "cancelServiceJobByServiceJobId",
            {"cancellationReasonCode": []},
            invalid_parameter("cancellationReasonCode"),
            id="cancelServiceJobByServiceJobId-body3",
        ),
    ],
)
def test_known_empty_list_parameter(
    target: Scene, client: httpx.Client, operation: str, body: dict[str, Any], error: dict[str, str]
) -> None:
    call = BY_ID[operation].call(target.ids)
    valid = raw_of(call, target.world.token)
    query = encode_query([(k, v) for k, v in call.params.items() if k not in body])  # the body's value is the one
    merged = {**(call.body or {}), **body}
    r = Raw(valid.method, valid.path, query, json.dumps(merged).encode(), valid.headers).send(client)
    assert r.status_code == 400, r.text
    assert BY_ID[operation].errors(r) == [error]


SURROGATE_CASES = {
    "add-appointment startTime": {"appointmentTime": {"startTime": "\ud800"}},
    "reschedule startTime": {
        "appointmentTime": {"startTime": "2030-03-04T10:00:00Z\udfff"},
        "rescheduleReasonCode": "RS4",
    },
    "assign resourceId": {"resources": [{"resourceId": "\ud800"}]},
    "fulfillment estimatedArrivalTime": {
        "estimatedArrivalTime": {"startTime": "\ud800", "endTime": "2020-01-01T00:00:00Z"}
    },
    "fulfillment fulfillmentTime": {"fulfillmentTime": {"startTime": "2020-01-01T00:00:00Z", "endTime": "\udc00"}},
    "fulfillment uploadDestinationId": {"fulfillmentDocuments": [{"uploadDestinationId": "\ud800"}]},
}


@pytest.mark.parametrize("case", SURROGATE_CASES)
def test_known_lone_surrogate(target: Scene, client: httpx.Client, case: str) -> None:
    """The server's JSON reader refuses a lone surrogate escape: the body is unreadable (in each
    operation's envelope)."""
    world = target.world
    # A fresh job in the state each operation accepts, so the request gets as far as the bad string.
    (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=world.server.clock() - timedelta(hours=6))
    appointment_id = target_job(client, world, job_id)["appointments"][0]["appointmentId"]
    operation = BY_ID[
        {
            "add": "addAppointmentForServiceJobByServiceJobId",
            "reschedule": "rescheduleAppointmentForServiceJobByServiceJobId",
            "assign": "assignAppointmentResources",
            "fulfillment": "setAppointmentFulfillmentData",
        }[case.split(" ")[0].split("-")[0]]
    ]
    ids = {"serviceJobId": job_id, "appointmentId": appointment_id}
    path = operation.fill(**{name: ids[name] for name in operation.path_params})
    body = json.dumps(SURROGATE_CASES[case]).encode()  # json.dumps writes the surrogate as a \u escape
    r = Raw(operation.method, path, "", body, {"x-amz-access-token": world.token}).send(client)
    assert r.status_code == 400, r.text
    assert operation.errors(r) == [UNREADABLE]


def target_job(client: httpx.Client, world: World, job_id: str) -> dict[str, Any]:
    r = client.get(f"/service/v1/serviceJobs/{job_id}", headers={"x-amz-access-token": world.token})
    assert r.status_code == 200, r.text
    return dict(r.json()["payload"])


# ---- memory, and still serving ------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, from /proc."""
    total = 0
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        total += sum(_rss_kib(int(child)) for child in children)
    return total


@pytest.fixture
def process_server(server: Server, tmp_path: Path) -> Iterator[Server]:
    srv = start_process_server(server.db, tmp_path, workers=1)
    yield srv
    srv.stop()


def test_memory_stays_bounded_under_large_requests(process_server: Server) -> None:
    assert process_server._process is not None
    pid = process_server._process.pid
    world = make_world(process_server)
    (job_id,) = world.job()
    pad = "x" * 900_000  # under the 1 MiB body limit
    deep = b"[" * 400_000 + b"]" * 400_000
    big_schedule = {
        "schedules": [
            {
                "startTime": f"2030-03-{4 + i // 200:02d}T{(i % 200) // 10 + 1:02d}:{(i % 10) * 5:02d}:00Z",
                "endTime": f"2030-03-{4 + i // 200:02d}T{(i % 200) // 10 + 1:02d}:{(i % 10) * 5 + 5:02d}:00Z",
            }
            for i in range(100)
        ]
    }

    def chunked() -> Iterator[bytes]:
        for _ in range(48):
            yield b" " * 65536  # 3 MiB in all, without a Content-Length

    # (request, the status it must get): large but allowed requests, and over-limit ones refused.
    requests: list[tuple[Callable[[httpx.Client], httpx.Response], int]] = [
        (
            lambda c: c.post(
                f"/service/v1/serviceResources/{world.store_id}/capacity/range",
                params=MP,
                json={"startDateTime": "2030-03-04T00:00:00Z", "endDateTime": "2030-04-08T00:00:00Z", "pad": pad},
            ),
            200,
        ),
        (lambda c: c.post("/service/v1/documents", json={"contentType": "PDF", "contentLength": 100, "pad": pad}), 200),
        (
            lambda c: c.post(
                f"/service/v1/serviceJobs/{job_id}/appointments",
                content=deep,
                headers={"content-type": "application/json"},
            ),
            400,
        ),
        (
            lambda c: c.put(f"/service/v1/serviceResources/{world.store_id}/schedules", params=MP, json=big_schedule),
            200,
        ),
        (
            lambda c: c.get(
                "/service/v1/serviceJobs", params={**MP, "createdAfter": "2020-01-01T00:00:00Z", "pad": "y" * 8000}
            ),
            200,
        ),
        (
            lambda c: c.post("/service/v1/documents", content=chunked(), headers={"content-type": "application/json"}),
            413,
        ),
    ]
    with httpx.Client(base_url=process_server.url, headers={"x-amz-access-token": world.token}, timeout=60) as c:
        for request, status in requests * 4:  # warm up: imports, caches, pools
            assert request(c).status_code == status
        baseline = _rss_kib(pid)
        for i in range(200):
            request, status = requests[i % len(requests)]
            r = request(c)
            assert r.status_code == status, r.text
        grown = _rss_kib(pid) - baseline
        assert grown < 100 * 1024, f"RSS grew by {grown} KiB over 200 large requests"
        assert c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["serviceJobStatus"] == "PENDING_SCHEDULE"
    print(f"server RSS {baseline} KiB after warm-up, {grown:+} KiB after 200 large requests")


def test_still_serving_after_all_that(target: Scene, client: httpx.Client) -> None:
    """Last in the module (run in order): after all the abuse above, a normal request gets the normal answer."""
    world = target.world
    (job_id,) = world.job(JobStatus.PENDING_SCHEDULE)
    r = client.get(f"/service/v1/serviceJobs/{job_id}", headers={"x-amz-access-token": world.token})
    assert r.status_code == 200, r.text
    assert r.json()["payload"]["serviceJobId"] == job_id
    assert r.json()["payload"]["serviceJobStatus"] == "PENDING_SCHEDULE"
    r = client.put(
        f"/service/v1/serviceJobs/{job_id}/cancellations",
        params={"cancellationReasonCode": "S1"},
        headers={"x-amz-access-token": world.token},
    )
    assert (r.status_code, r.json()) == (200, {})
