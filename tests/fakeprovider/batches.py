"""The fake provider's batch APIs, as the providers document them.

OpenAI: POST /v1/files (multipart, purpose=batch), GET /v1/files/{id}, GET
/v1/files/{id}/content; POST /v1/batches, GET /v1/batches (newest first), GET
/v1/batches/{id}, POST /v1/batches/{id}/cancel. Statuses validating -> in_progress ->
finalizing -> completed (or expired, cancelling -> cancelled, failed when the input file
is invalid); `request_counts`; an output file and an error file of JSON lines.

Anthropic: POST /v1/messages/batches, GET /v1/messages/batches, GET
/v1/messages/batches/{id}, POST /v1/messages/batches/{id}/cancel, GET
/v1/messages/batches/{id}/results (JSONL; `result.type` succeeded / errored / canceled /
expired). processing_status in_progress -> canceling -> ended.

Each request of a batch is answered by the same code as a live request (so answers,
tokens and the prompt cache behave alike), in a shuffled order. Timing, expiry and failed
items come from `FakeProviderConfig.batch_*`; `submitted` counts every custom_id each time
a batch carrying it is created (GET /_fake/batch_submissions).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .http import Request, Response

if TYPE_CHECKING:
    from collections.abc import Callable

    from .server import FakeProvider, Prompt

PREFIXES = ("/v1/files", "/v1/batches", "/v1/messages/batches")
_CUSTOM_ID = re.compile(r"\A[a-zA-Z0-9_-]{1,64}\Z")
_OPENAI_ENDPOINTS = ("/v1/chat/completions", "/v1/responses")


@dataclass
class FakeFile:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int = field(default_factory=lambda: int(time.time()))

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@dataclass
class Item:
    custom_id: str
    body: dict[str, Any]
    outcome: str  # what the fake decided: ok, an HTTP status, or an answer fault
    result: dict[str, Any] | None = None  # the answer body, made when first needed


@dataclass
class FakeBatch:
    """Timing shared by both APIs: created -> validating -> processing -> finalizing."""

    id: str
    family: str
    items: list[Item]
    order: list[int]  # the order the items finish in
    created: float
    validate_s: float
    process_s: float
    finalize_s: float
    expires: bool
    expire_done: float
    endpoint: str = ""
    input_file_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    cancel_at: float | None = None
    cancel_s: float = 0.1
    failed_errors: list[dict[str, Any]] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_wall: float = field(default_factory=time.time)

    def _fraction_done(self, at: float) -> float:
        start = self.created + self.validate_s
        if at <= start:
            return 0.0
        if self.process_s <= 0:
            return 1.0
        return min(1.0, (at - start) / self.process_s)

    def done_count(self, now: float) -> int:
        at = now if self.cancel_at is None else min(now, self.cancel_at)
        frac = self._fraction_done(at)
        if self.expires:
            frac = min(frac, self.expire_done)
        return int(len(self.items) * frac)

    def phase(self, now: float) -> str:
        """validating, in_progress, finalizing, completed, expired, cancelling, cancelled."""
        if self.failed_errors is not None:
            return "failed"
        if self.cancel_at is not None:
            return "cancelled" if now >= self.cancel_at + self.cancel_s else "cancelling"
        if now < self.created + self.validate_s:
            return "validating"
        end = self.created + self.validate_s + self.process_s
        if now < end:
            return "in_progress"
        if self.expires:
            return "expired"
        if now < end + self.finalize_s:
            return "finalizing"
        return "completed"

    def finished(self, now: float) -> set[int]:
        return set(self.order[: self.done_count(now)])


class FakeBatches:
    def __init__(
        self, provider: FakeProvider, parsers: dict[str, Callable[[dict[str, Any]], Prompt]]
    ) -> None:
        self.provider = provider
        self.parsers = parsers  # endpoint -> the live route's request parser
        self.files: dict[str, FakeFile] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.submitted: Counter[str] = Counter()
        self.created = 0
        self._n = 0
        self._script: list[str] = []

    def reset(self) -> None:
        self.files.clear()
        self.batches.clear()
        self.submitted.clear()
        self.created = 0
        self._script = list(self.provider.config.batch_item_script)

    def reconfigured(self) -> None:
        self._script = list(self.provider.config.batch_item_script)

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    @staticmethod
    def handles(path: str) -> bool:
        return path.startswith(PREFIXES)

    # -- routes -----------------------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        family = "anthropic" if req.path.startswith("/v1/messages/batches") else "openai"
        if not self.provider._authorized(req, family):
            return self.provider._error(family, 401, "invalid x-api-key / bearer token")
        parts = [p for p in req.path.split("/") if p][1:]  # without "v1"
        try:
            if family == "anthropic":
                return self._anthropic(req, parts[2:], req.headers.get("host", "127.0.0.1"))
            if parts[0] == "files":
                return self._files(req, parts[1:])
            return self._openai(req, parts[1:])
        except _Fail as e:
            return self.provider._error(family, e.status, e.message)

    def _files(self, req: Request, rest: list[str]) -> Response:
        if not rest and req.method == "POST":
            fields = parse_multipart(req)
            data = fields.get("file")
            if data is None or fields.get("purpose") != b"batch":
                raise _Fail(400, "a file with purpose 'batch' is required")
            f = FakeFile(
                self._id("file-fake-"),
                fields.get("filename", b"batch.jsonl").decode(),
                "batch",
                data,
            )
            self.files[f.id] = f
            return Response.json(200, f.payload())
        f = self.files.get(rest[0]) if rest else None
        if f is None:
            raise _Fail(404, "no such file")
        if len(rest) == 2 and rest[1] == "content" and req.method == "GET":
            return Response(200, f.data, {}, content_type="application/octet-stream")
        return Response.json(200, f.payload())

    def _new_batch(self, family: str, items: list[Item]) -> FakeBatch:
        c = self.provider.config
        rng = self.provider.rng
        order = list(range(len(items)))
        rng.shuffle(order)
        batch = FakeBatch(
            id=self._id("batch_fake_" if family == "openai" else "msgbatch_fake_"),
            family=family,
            items=items,
            order=order,
            created=time.monotonic(),
            validate_s=c.batch_validating_s,
            process_s=c.batch_processing_s,
            finalize_s=c.batch_finalizing_s,
            expires=rng.random() < c.batch_expire_rate,
            expire_done=c.batch_expire_done,
            cancel_s=c.batch_cancel_s,
        )
        for it in items:
            self.submitted[it.custom_id] += 1
        self.created += 1
        self.batches[batch.id] = batch
        return batch

    def _outcome(self) -> str:
        if self._script:
            return self._script.pop(0)
        c = self.provider.config
        if self.provider.rng.random() < c.batch_item_error_rate:
            return "500"
        return "ok"

    # -- OpenAI -----------------------------------------------------------------------
    def _openai(self, req: Request, rest: list[str]) -> Response:
        if not rest:
            if req.method == "POST":
                return Response.json(200, self._openai_create(json.loads(req.body or b"{}")))
            listed = sorted(
                (b for b in self.batches.values() if b.family == "openai"),
                key=lambda b: b.created,
                reverse=True,
            )
            data = [self._openai_payload(b) for b in listed]
            return Response.json(
                200,
                {
                    "object": "list",
                    "data": data,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                    "has_more": False,
                },
            )
        batch = self.batches.get(rest[0])
        if batch is None or batch.family != "openai":
            raise _Fail(404, f"No batch found with id '{rest[0]}'")
        if len(rest) == 2 and rest[1] == "cancel" and req.method == "POST":
            if batch.phase(time.monotonic()) in ("validating", "in_progress", "finalizing"):
                batch.cancel_at = time.monotonic()
            return Response.json(200, self._openai_payload(batch))
        return Response.json(200, self._openai_payload(batch))

    def _openai_create(self, body: dict[str, Any]) -> dict[str, Any]:
        f = self.files.get(str(body.get("input_file_id")))
        endpoint = body.get("endpoint")
        if f is None:
            raise _Fail(400, "input_file_id: no such file")
        if endpoint not in _OPENAI_ENDPOINTS:
            raise _Fail(400, f"endpoint {endpoint!r} is not supported by the fake")
        if body.get("completion_window") != "24h":
            raise _Fail(400, "completion_window must be 24h")
        items: list[Item] = []
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        for n, raw in enumerate(f.data.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                cid, body_ = line["custom_id"], line["body"]
                if line.get("url") != endpoint or line.get("method") != "POST":
                    raise ValueError("url or method does not match the batch")
            except (ValueError, KeyError, TypeError) as e:
                errors.append(
                    {"code": "invalid_request", "message": str(e), "param": None, "line": n}
                )
                continue
            if cid in seen:
                errors.append(
                    {
                        "code": "duplicate_custom_id",
                        "message": f"duplicate custom_id {cid}",
                        "param": "custom_id",
                        "line": n,
                    }
                )
                continue
            seen.add(cid)
            items.append(Item(cid, body_, self._outcome()))
        batch = self._new_batch("openai", items)
        batch.endpoint, batch.input_file_id = str(endpoint), f.id
        batch.metadata = dict(body.get("metadata") or {})
        if errors:
            batch.failed_errors = errors
        return self._openai_payload(batch)

    def _openai_payload(self, b: FakeBatch) -> dict[str, Any]:
        now = time.monotonic()
        phase = b.phase(now)
        done = b.finished(now) if phase != "failed" else set()
        ended = phase in ("completed", "expired", "cancelled", "failed")
        failed = sum(1 for i in done if b.items[i].outcome.isdigit())
        if ended and phase != "failed" and b.output_file_id is None and b.error_file_id is None:
            self._openai_files(b, done, phase)
        wall = int(b.created_wall)
        return {
            "id": b.id,
            "object": "batch",
            "endpoint": b.endpoint,
            "errors": {"object": "list", "data": b.failed_errors} if b.failed_errors else None,
            "input_file_id": b.input_file_id,
            "completion_window": "24h",
            "status": phase,
            "output_file_id": b.output_file_id,
            "error_file_id": b.error_file_id,
            "created_at": wall,
            "in_progress_at": wall if phase != "validating" else None,
            "expires_at": wall + 86400,
            "finalizing_at": None,
            "completed_at": int(time.time()) if phase == "completed" else None,
            "failed_at": int(time.time()) if phase == "failed" else None,
            "expired_at": int(time.time()) if phase == "expired" else None,
            "cancelling_at": wall if b.cancel_at is not None else None,
            "cancelled_at": int(time.time()) if phase == "cancelled" else None,
            "request_counts": {
                "total": len(b.items),
                "completed": len(done) - failed,
                "failed": failed if not ended else len(b.items) - (len(done) - failed),
            },
            "metadata": b.metadata or None,
        }

    def _openai_files(self, b: FakeBatch, done: set[int], phase: str) -> None:
        out: list[str] = []
        err: list[str] = []
        for pos in b.order:
            item = b.items[pos]
            rid = f"batch_req_{b.id}_{pos}"
            if pos not in done:
                code = "batch_expired" if phase == "expired" else "batch_cancelled"
                message = (
                    "This request could not be executed before the completion window expired."
                    if phase == "expired"
                    else "This request was not executed because the batch was cancelled."
                )
                err.append(
                    json.dumps(
                        {
                            "id": rid,
                            "custom_id": item.custom_id,
                            "response": None,
                            "error": {"code": code, "message": message},
                        }
                    )
                )
                continue
            status, body = self._answer(b, item)
            line = json.dumps(
                {
                    "id": rid,
                    "custom_id": item.custom_id,
                    "response": {"status_code": status, "request_id": f"req_{rid}", "body": body},
                    "error": None,
                }
            )
            (out if status == 200 else err).append(line)
        if out:
            f = FakeFile(
                self._id("file-fake-"),
                f"{b.id}_output.jsonl",
                "batch_output",
                ("\n".join(out) + "\n").encode(),
            )
            self.files[f.id] = f
            b.output_file_id = f.id
        if err:
            f = FakeFile(
                self._id("file-fake-"),
                f"{b.id}_error.jsonl",
                "batch_output",
                ("\n".join(err) + "\n").encode(),
            )
            self.files[f.id] = f
            b.error_file_id = f.id

    # -- Anthropic --------------------------------------------------------------------
    def _anthropic(self, req: Request, rest: list[str], host: str) -> Response:
        if not rest:
            if req.method == "POST":
                return Response.json(
                    200, self._anthropic_create(json.loads(req.body or b"{}"), host)
                )
            listed = sorted(
                (b for b in self.batches.values() if b.family == "anthropic"),
                key=lambda b: b.created,
                reverse=True,
            )
            data = [self._anthropic_payload(b, host) for b in listed]
            return Response.json(
                200,
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                },
            )
        batch = self.batches.get(rest[0])
        if batch is None or batch.family != "anthropic":
            raise _Fail(404, f"message batch {rest[0]} not found")
        if len(rest) == 2 and rest[1] == "cancel" and req.method == "POST":
            if batch.phase(time.monotonic()) in ("validating", "in_progress", "finalizing"):
                batch.cancel_at = time.monotonic()
            return Response.json(200, self._anthropic_payload(batch, host))
        if len(rest) == 2 and rest[1] == "results":
            now = time.monotonic()
            if self._anthropic_status(batch, now) != "ended":
                raise _Fail(400, "the batch is still processing")
            return Response(
                200, self._anthropic_results(batch, now), {}, content_type="application/binary"
            )
        return Response.json(200, self._anthropic_payload(batch, host))

    def _anthropic_create(self, body: dict[str, Any], host: str) -> dict[str, Any]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise _Fail(400, "requests: at least one request is required")
        seen: set[str] = set()
        items: list[Item] = []
        for r in requests:
            cid = r.get("custom_id") if isinstance(r, dict) else None
            if not isinstance(cid, str) or not _CUSTOM_ID.match(cid):
                raise _Fail(400, f"requests: custom_id {cid!r} must match ^[a-zA-Z0-9_-]{{1,64}}$")
            if cid in seen:
                raise _Fail(400, f"requests: duplicate custom_id {cid}")
            if not isinstance(r.get("params"), dict):
                raise _Fail(400, "requests: params required")
            seen.add(cid)
            items.append(Item(cid, r["params"], self._outcome()))
        return self._anthropic_payload(self._new_batch("anthropic", items), host)

    @staticmethod
    def _anthropic_status(b: FakeBatch, now: float) -> str:
        phase = b.phase(now)
        if phase in ("completed", "expired", "cancelled"):
            return "ended"
        return "canceling" if phase == "cancelling" else "in_progress"

    def _anthropic_payload(self, b: FakeBatch, host: str) -> dict[str, Any]:
        now = time.monotonic()
        status = self._anthropic_status(b, now)
        done = b.finished(now)
        errored = sum(1 for i in done if b.items[i].outcome.isdigit())
        rest = len(b.items) - len(done)
        ended = status == "ended"
        phase = b.phase(now)
        return {
            "id": b.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0 if ended else rest,
                "succeeded": len(done) - errored,
                "errored": errored,
                "canceled": rest if ended and phase == "cancelled" else 0,
                "expired": rest if ended and phase == "expired" else 0,
            },
            "ended_at": _iso(time.time()) if ended else None,
            "created_at": _iso(b.created_wall),
            "expires_at": _iso(b.created_wall + 86400),
            "archived_at": None,
            "cancel_initiated_at": _iso(b.created_wall) if b.cancel_at is not None else None,
            "results_url": f"http://{host}/v1/messages/batches/{b.id}/results" if ended else None,
        }

    def _anthropic_results(self, b: FakeBatch, now: float) -> bytes:
        done = b.finished(now)
        kind = "expired" if b.phase(now) == "expired" else "canceled"
        lines = []
        for pos in b.order:
            item = b.items[pos]
            if pos not in done:
                result: dict[str, Any] = {"type": kind}
            else:
                status, body = self._answer(b, item)
                if status == 200:
                    result = {"type": "succeeded", "message": body}
                else:
                    result = {"type": "errored", "error": body}
            lines.append(json.dumps({"custom_id": item.custom_id, "result": result}))
        return ("\n".join(lines) + "\n").encode()

    # -- answers ----------------------------------------------------------------------
    def _answer(self, b: FakeBatch, item: Item) -> tuple[int, dict[str, Any]]:
        """An item's answer, made once, by the code that answers live requests."""
        if item.result is not None:
            return int(item.result["status"]), item.result["body"]
        if item.outcome.isdigit():
            resp = self.provider._error(b.family, int(item.outcome), f"scripted {item.outcome}")
        else:
            parse = self.parsers[b.endpoint if b.family == "openai" else "/v1/messages"]
            try:
                resp = self.provider._answer(parse(item.body), item.outcome, {})
            except Exception as e:  # a request the live route would refuse: refused here too
                resp = self.provider._error(b.family, getattr(e, "status", 400), str(e))
        body = json.loads(resp.body)
        item.result = {"status": resp.status, "body": body}
        return resp.status, body

    def submissions(self) -> dict[str, Any]:
        return {"batches": self.created, "items": dict(self.submitted)}


class _Fail(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def parse_multipart(req: Request) -> dict[str, Any]:
    """The fields of a multipart/form-data body (what the SDK's files.create sends)."""
    ctype = req.headers.get("content-type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if m is None:
        raise _Fail(400, "expected multipart/form-data")
    boundary = b"--" + m.group(1).encode()
    fields: dict[str, Any] = {}
    for part in req.body.split(boundary):
        part = part.strip(b"\r\n")
        if not part or part == b"--":
            continue
        head, _, content = part.partition(b"\r\n\r\n")
        disp = re.search(rb'name="([^"]*)"', head)
        if disp is None:
            continue
        name = disp.group(1).decode()
        fname = re.search(rb'filename="([^"]*)"', head)
        if fname is not None:
            fields["filename"] = fname.group(1)
        fields[name] = content
    return fields
