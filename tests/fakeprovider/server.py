"""The fake provider: OpenAI chat completions + responses and Anthropic messages over
HTTP on 127.0.0.1, realistic enough for the official SDKs, with the faults tests need.

Routes: POST /v1/chat/completions, /v1/responses, /v1/messages,
/v1/messages/count_tokens; GET /v1/models. Control: GET /_fake/requests,
GET /_fake/stats, POST /_fake/config (a partial config), POST /_fake/storm (429s for
a while, from now: a `Storm`), POST /_fake/reset. Rate limits and storms: ratelimit.py.
A request offering several tools is a tool-using agent's turn: agent.py scripts it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import SocketAttribute

from .agent import agent_payload, is_agent_request
from .answers import AnswerBuilder, dumps, invalid_object, malformed_text, trace_text
from .batches import FakeBatches
from .config import FakeProviderConfig, Storm
from .http import Hang, Request, Response, Trickle, serve_connection
from .ratelimit import RateLimits

CHARS_PER_TOKEN = 4
OPENAI_CACHE_STEP = 128  # tokens
MODEL_ROUTES = {
    "/v1/chat/completions": "openai",
    "/v1/responses": "openai",
    "/v1/messages": "anthropic",
    "/v1/messages/count_tokens": "anthropic",
}


def tokens_of(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


class PromptCache:
    """Which prompt prefixes were seen, by hash of their text at block boundaries."""

    def __init__(self, max_entries: int = 2_000_000) -> None:
        self._seen: set[bytes] = set()
        self._max = max_entries

    @staticmethod
    def _key(text: str, end: int) -> bytes:
        return hashlib.blake2b(text[:end].encode(), digest_size=16).digest()

    def _add(self, key: bytes) -> None:
        if len(self._seen) >= self._max:
            self._seen.clear()
        self._seen.add(key)

    def openai(self, text: str, min_tokens: int) -> int:
        """Cached tokens: the longest seen prefix in 128-token steps, at least min_tokens."""
        step = OPENAI_CACHE_STEP * CHARS_PER_TOKEN
        blocks = len(text) // step
        hasher = hashlib.blake2b(digest_size=16)
        cached = 0
        keys = []
        for k in range(1, blocks + 1):
            hasher.update(text[(k - 1) * step : k * step].encode())
            key = hasher.copy().digest()
            keys.append(key)
            if key in self._seen and k * OPENAI_CACHE_STEP >= min_tokens:
                cached = k * OPENAI_CACHE_STEP
        for k, key in enumerate(keys, start=1):
            if k * OPENAI_CACHE_STEP >= min_tokens:
                self._add(key)
        return cached

    def anthropic(self, text: str, breakpoints: list[int], min_tokens: int) -> tuple[int, int]:
        """(read, written) tokens for a prompt whose cache breakpoints end at `breakpoints`
        (character offsets into `text`)."""
        points = sorted({b for b in breakpoints if tokens_of(b) >= min_tokens})
        if not points:
            return 0, 0
        hit = 0
        for b in points:
            if self._key(text, b) in self._seen:
                hit = b
        last = points[-1]
        for b in points:
            self._add(self._key(text, b))
        read = tokens_of(hit)
        written = tokens_of(last) - read if last > hit else 0
        return read, written


@dataclass
class Prompt:
    """What a model request asks, whatever the API."""

    family: str
    api: str  # chat, responses, messages
    model: str
    text: str  # the whole prompt, in order: what caching sees
    user_text: str  # the last user message: where the trace is
    schema: dict[str, Any] | None
    schema_name: str
    tool_mode: bool  # answer through a (forced) tool call
    max_output: int | None
    breakpoints: list[int] = field(default_factory=list)  # Anthropic cache_control ends


class RequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict):
                for key in ("text", "content", "input_text"):
                    if isinstance(block.get(key), str):
                        parts.append(block[key])
                        break
        return "\n".join(parts)
    if isinstance(content, dict):
        return _content_text([content])
    return str(content)


def _schema_from_format(fmt: Any) -> tuple[dict[str, Any] | None, str]:
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        inner: dict[str, Any] = (
            fmt["json_schema"] if isinstance(fmt.get("json_schema"), dict) else fmt
        )
        schema = inner.get("schema")
        return (schema if isinstance(schema, dict) else None), str(inner.get("name") or "answer")
    return None, "answer"


def _forced_tool(tools: Any, choice: Any, *, anthropic: bool) -> tuple[dict[str, Any] | None, str]:
    """The tool a request forces (or its only tool), with that tool's input schema."""
    if not isinstance(tools, list) or not tools:
        return None, ""
    by_name: dict[str, dict[str, Any]] = {}
    for t in tools:
        if not isinstance(t, dict):
            continue
        if anthropic:
            by_name[str(t.get("name"))] = t.get("input_schema") or {}
        else:
            fn: dict[str, Any] = t["function"] if isinstance(t.get("function"), dict) else t
            by_name[str(fn.get("name"))] = fn.get("parameters") or {}
    name: str | None = None
    if isinstance(choice, dict):
        function: dict[str, Any] = choice.get("function") or {}
        name = choice.get("name") or function.get("name")
    if name is None and choice in ("required", "any", None) and len(by_name) == 1:
        name = next(iter(by_name))
    if name is None and isinstance(choice, dict) and choice.get("type") == "any" and by_name:
        name = next(iter(by_name))
    if name is None or name not in by_name:
        return None, ""
    return by_name[name], name


def parse_openai_chat(body: dict[str, Any]) -> Prompt:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "'messages' must be a non-empty array")
    fmt_schema, fmt_name = _schema_from_format(body.get("response_format"))
    tool_schema, tool_name = _forced_tool(
        body.get("tools"), body.get("tool_choice"), anthropic=False
    )
    pieces = []
    if fmt_schema is not None:
        pieces.append(json.dumps(fmt_schema, sort_keys=True))
    if body.get("tools"):
        pieces.append(json.dumps(body["tools"], sort_keys=True))
    user_text = ""
    for m in messages:
        if not isinstance(m, dict) or "role" not in m:
            raise RequestError(400, "each message needs a 'role'")
        text = _content_text(m.get("content"))
        pieces.append(f"{m['role']}: {text}")
        if m["role"] == "user":
            user_text = text
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    return Prompt(
        family="openai",
        api="chat",
        model=str(body["model"]),
        text="\n".join(pieces),
        user_text=user_text,
        schema=tool_schema if tool_schema is not None else fmt_schema,
        schema_name=tool_name or fmt_name,
        tool_mode=tool_schema is not None,
        max_output=int(limit) if isinstance(limit, int) else None,
    )


def parse_openai_responses(body: dict[str, Any]) -> Prompt:
    inp = body.get("input")
    if inp is None:
        raise RequestError(400, "'input' is required")
    text_cfg: dict[str, Any] = body["text"] if isinstance(body.get("text"), dict) else {}
    schema, name = _schema_from_format(text_cfg.get("format"))
    pieces = []
    if schema is not None:
        pieces.append(json.dumps(schema, sort_keys=True))
    if isinstance(body.get("instructions"), str):
        pieces.append(f"instructions: {body['instructions']}")
    user_text = ""
    items = [{"role": "user", "content": inp}] if isinstance(inp, str) else inp
    if not isinstance(items, list):
        raise RequestError(400, "'input' must be a string or an array of items")
    for item in items:
        if not isinstance(item, dict):
            continue
        role = str(item.get("role", item.get("type", "user")))
        text = _content_text(item.get("content"))
        pieces.append(f"{role}: {text}")
        if role == "user":
            user_text = text
    limit = body.get("max_output_tokens")
    return Prompt(
        family="openai",
        api="responses",
        model=str(body["model"]),
        text="\n".join(pieces),
        user_text=user_text,
        schema=schema,
        schema_name=name,
        tool_mode=False,
        max_output=int(limit) if isinstance(limit, int) else None,
    )


def parse_anthropic(body: dict[str, Any]) -> Prompt:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "messages: field required")
    if not isinstance(body.get("max_tokens"), int):
        raise RequestError(400, "max_tokens: field required")
    out_cfg: dict[str, Any] = (
        body["output_config"] if isinstance(body.get("output_config"), dict) else {}
    )
    fmt_schema, _ = _schema_from_format(out_cfg.get("format") or body.get("output_format"))
    tool_schema, tool_name = _forced_tool(
        body.get("tools"), body.get("tool_choice"), anthropic=True
    )
    # Caching order: tools, system, messages; each block may end a cache breakpoint.
    text = ""
    breakpoints: list[int] = []

    def add(piece: str, block: Any) -> None:
        nonlocal text
        text += piece + "\n"
        if isinstance(block, dict) and block.get("cache_control"):
            breakpoints.append(len(text))

    for t in body.get("tools") or []:
        add(json.dumps(t, sort_keys=True), t)
    if fmt_schema is not None:
        add(json.dumps(fmt_schema, sort_keys=True), None)
    system = body.get("system")
    if isinstance(system, str):
        add(system, None)
    elif isinstance(system, list):
        for block in system:
            add(_content_text([block]), block)
    user_text = ""
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise RequestError(400, "messages: each message needs role 'user' or 'assistant'")
        content = m.get("content")
        blocks = [content] if isinstance(content, str) else (content or [])
        texts = []
        for block in blocks:
            piece = _content_text([block])
            add(f"{m['role']}: {piece}", block)
            texts.append(piece)
        if m["role"] == "user":
            user_text = "\n".join(texts)
    if isinstance(body.get("cache_control"), dict):  # automatic caching of the whole prompt
        breakpoints.append(len(text))
    return Prompt(
        family="anthropic",
        api="messages",
        model=str(body["model"]),
        text=text,
        user_text=user_text,
        schema=tool_schema if tool_schema is not None else fmt_schema,
        schema_name=tool_name or "answer",
        tool_mode=tool_schema is not None,
        max_output=int(body["max_tokens"]),
        breakpoints=breakpoints,
    )


_OPENAI_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "forbidden"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_ANTHROPIC_ERRORS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class FakeProvider:
    """The behaviour behind the HTTP routes; one per server."""

    def __init__(
        self,
        config: FakeProviderConfig | None = None,
        record_path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or FakeProviderConfig()
        self.clock = clock  # what the rate limits and storms measure time by
        self.record_path = record_path
        self.records: deque[dict[str, Any]] = deque(maxlen=self.config.max_recorded or None)
        self.stats: Counter[str] = Counter()
        self.cache = PromptCache()
        self._ids = itertools.count(1)
        self.batches = FakeBatches(self, BATCH_PARSERS)
        self._apply(self.config)

    def _apply(self, config: FakeProviderConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.script: deque[str] = deque(str(s) for s in config.script)
        self.batches.reconfigured()
        self.limits = RateLimits(config, self.clock())

    def reconfigure(self, changes: dict[str, Any]) -> None:
        merged = {**self.config.model_dump(), **changes}
        self._apply(FakeProviderConfig.model_validate(merged))

    def reset(self) -> None:
        self.records.clear()
        self.stats.clear()
        self.cache = PromptCache()
        self.batches.reset()
        self._apply(self.config)

    # -- dispatch ---------------------------------------------------------------------
    async def handle(self, req: Request) -> Response | Hang:
        if req.path.startswith("/_fake/"):
            return self._control(req)
        if self.batches.handles(req.path):  # batch APIs: batches.py
            return self._finish(self._record(req, None), await self.batches.handle(req))
        family = MODEL_ROUTES.get(req.path)
        if req.method == "GET" and (req.path == "/v1/models" or req.path.startswith("/v1/models/")):
            return self._models(req)
        record = self._record(req, family)
        if family is None or req.method != "POST":
            fam = "anthropic" if "anthropic-version" in req.headers else "openai"
            return self._finish(record, self._error(fam, 404, f"no route {req.method} {req.path}"))
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            return self._finish(record, self._error(family, 400, "request body is not valid JSON"))
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return self._finish(record, self._error(family, 400, "'model' is required"))
        if body.get("stream"):
            return self._finish(
                record, self._error(family, 400, "the fake provider does not stream")
            )
        if not self._authorized(req, family):
            return self._finish(
                record, self._error(family, 401, "invalid x-api-key / bearer token")
            )
        if not self._known_model(body["model"]):
            return self._finish(
                record, self._error(family, 404, f"The model `{body['model']}` does not exist")
            )
        try:
            prompt = {
                "/v1/chat/completions": parse_openai_chat,
                "/v1/responses": parse_openai_responses,
                "/v1/messages": parse_anthropic,
                "/v1/messages/count_tokens": parse_anthropic_count,
            }[req.path](body)
        except RequestError as e:
            return self._finish(record, self._error(family, e.status, e.message))
        if req.path == "/v1/messages/count_tokens":
            return self._finish(
                record, Response.json(200, {"input_tokens": tokens_of(len(prompt.text))})
            )

        now = self.clock()
        est_tokens = tokens_of(len(prompt.text)) + (prompt.max_output or 0)
        refused = self.limits.check(family, est_tokens, now)
        rl_headers = self.limits.headers(family, now)
        if refused is not None:
            kind, wait = refused
            headers = {**rl_headers, **self.limits.retry_headers(wait)}
            what = "requests" if kind == "storm" else kind
            message = f"Rate limit reached for {what}: retry shortly"
            self.stats[f"429_{kind}"] += 1
            return self._finish(record, self._error(family, 429, message, headers), outcome="429")

        outcome = self._draw()
        record["outcome"] = outcome
        if outcome.isdigit():
            status = int(outcome)
            await self._sleep_latency()
            headers = dict(rl_headers)
            if status == 429:
                headers.update(
                    self.limits.retry_headers(self.config.scripted_retry_after_ms / 1000)
                )
            return self._finish(record, self._error(family, status, f"scripted {status}", headers))
        if outcome == "timeout":
            self.stats["timeout"] += 1
            return Hang(self.config.hang_seconds, self._answer(prompt, "ok", rl_headers))
        if outcome == "trickle":
            self.stats["trickle"] += 1
            return Trickle(self.config.trickle_seconds, self._answer(prompt, "ok", rl_headers))
        await self._sleep_latency()
        if outcome == "garbage":
            resp = Response(200, b"<html><body>502 upstream hiccup</body></html>", dict(rl_headers))
            return self._finish(record, resp)
        if outcome == "ok" and is_agent_request(body):
            return self._finish(record, self._agent_answer(body, prompt, rl_headers))
        return self._finish(record, self._answer(prompt, outcome, rl_headers))

    def _agent_answer(
        self, body: dict[str, Any], prompt: Prompt, headers: dict[str, str]
    ) -> Response:
        """One turn of a scripted tool-using agent (agent.py)."""
        n = next(self._ids)
        self.stats["agent_turns"] += 1
        payload = agent_payload(
            body, prompt.family, self.config, n, self.rng, input_tokens=tokens_of(len(prompt.text))
        )
        rid = {"request-id" if prompt.family == "anthropic" else "x-request-id": f"req_fake_{n}"}
        return Response.json(200, payload, {**headers, **rid})

    def _draw(self) -> str:
        if self.script:
            return self.script.popleft()
        c = self.config
        r = self.rng.random()
        for rate, outcome in (
            (c.error_rate, "error"),
            (c.timeout_rate, "timeout"),
            (c.trickle_rate, "trickle"),
            (c.garbage_rate, "garbage"),
            (c.malformed_rate, "malformed"),
            (c.invalid_rate, "invalid"),
        ):
            if r < rate:
                if outcome == "error":
                    return str(self.rng.choice(c.error_statuses or [500]))
                return outcome
            r -= rate
        return "ok"

    async def _sleep_latency(self) -> None:
        c = self.config
        delay = c.latency
        if c.latency_jitter:
            delay += self.rng.uniform(-c.latency_jitter, c.latency_jitter)
        if delay > 0:
            await anyio.sleep(delay)

    def _authorized(self, req: Request, family: str) -> bool:
        key = self.config.api_key
        if key is None:
            return True
        bearer = req.headers.get("authorization", "")
        return bearer == f"Bearer {key}" or req.headers.get("x-api-key") == key

    # -- answers ----------------------------------------------------------------------
    def _answer(self, prompt: Prompt, outcome: str, headers: dict[str, str]) -> Response:
        c = self.config
        builder = AnswerBuilder(
            trace=trace_text(prompt.text, prompt.user_text),
            prompt_text=prompt.text,
            overrides=c.answer_overrides,
            invented_quote_rate=c.invented_quote_rate,
            rng=self.rng,
            random_choices=c.answer_choice == "random",
        )
        valid = builder.build(prompt.schema)
        value: Any = valid
        text: str
        if outcome == "malformed":
            text = malformed_text(builder.quotes[0].text)
            value = None
        else:
            if outcome == "invalid":
                value = invalid_object(valid, prompt.schema)
            text = dumps(value)
        truncated = outcome == "truncated"
        out_tokens = c.output_tokens or tokens_of(len(text))
        if prompt.max_output is not None and out_tokens > prompt.max_output:
            truncated = True
        if truncated:
            limit = min(out_tokens, prompt.max_output or out_tokens) // 2 or 1
            text = text[: limit * CHARS_PER_TOKEN]
            out_tokens = limit
            value = None
        self.stats[outcome if outcome != "ok" or not truncated else "truncated"] += 1
        n = next(self._ids)
        if prompt.family == "anthropic":
            read, written = self.cache.anthropic(
                prompt.text, prompt.breakpoints, c.cache_min_tokens
            )
            total_in = tokens_of(len(prompt.text))
            payload = anthropic_message(
                n,
                prompt,
                text=text,
                value=value if prompt.tool_mode and outcome != "malformed" else None,
                input_tokens=max(0, total_in - read - written),
                cache_read=read,
                cache_write=written,
                output_tokens=out_tokens,
                truncated=truncated,
            )
            return Response.json(200, payload, {**headers, "request-id": f"req_fake_{n}"})
        cached = self.cache.openai(prompt.text, c.cache_min_tokens)
        prompt_tokens = tokens_of(len(prompt.text))
        if prompt.api == "responses":
            payload = openai_response(n, prompt, text, prompt_tokens, cached, out_tokens, truncated)
        else:
            payload = openai_chat(
                n,
                prompt,
                text,
                prompt_tokens,
                cached,
                out_tokens,
                truncated,
                tool=prompt.tool_mode and outcome != "malformed",
            )
        return Response.json(
            200,
            payload,
            {
                **headers,
                "x-request-id": f"req_fake_{n}",
                "openai-processing-ms": str(int(c.latency * 1000)),
            },
        )

    def _error(
        self, family: str, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        self.stats[str(status)] += 1
        if family == "anthropic":
            etype = _ANTHROPIC_ERRORS.get(
                status, "api_error" if status >= 500 else "invalid_request_error"
            )
            payload: dict[str, Any] = {
                "type": "error",
                "error": {"type": etype, "message": message},
                "request_id": f"req_fake_err_{next(self._ids)}",
            }
        else:
            etype, code = _OPENAI_ERRORS.get(
                status, ("server_error", None) if status >= 500 else ("invalid_request_error", None)
            )
            payload = {"error": {"message": message, "type": etype, "param": None, "code": code}}
        return Response.json(status, payload, headers)

    # -- records and control ----------------------------------------------------------
    def _record(self, req: Request, family: str | None) -> dict[str, Any]:
        try:
            body: Any = json.loads(req.body) if req.body else None
            raw = None
        except ValueError:
            body, raw = None, req.body[:10_000].decode("utf-8", "replace")
        record = {
            "seq": len(self.records) + 1,
            "time": time.time(),
            "method": req.method,
            "path": req.path,
            "family": family,
            "headers": dict(req.headers),
            "body": body,
            "raw": raw,
            "outcome": None,
            "status": None,
        }
        if self.config.max_recorded:
            self.records.append(record)
        self.stats["requests"] += 1
        return record

    def _finish(
        self, record: dict[str, Any], resp: Response, outcome: str | None = None
    ) -> Response:
        record["status"] = resp.status
        record["done"] = time.time()  # with "time": when each request was in flight
        if outcome is not None:
            record["outcome"] = outcome
        elif record["outcome"] is None:
            record["outcome"] = "ok" if resp.status == 200 else str(resp.status)
        if self.record_path is not None:
            with self.record_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        return resp

    def _control(self, req: Request) -> Response:
        if req.path == "/_fake/requests":
            return Response.json(200, list(self.records))
        if req.path == "/_fake/batch_submissions":
            return Response.json(200, self.batches.submissions())
        if req.path == "/_fake/stats":
            return Response.json(200, dict(self.stats))
        if req.path == "/_fake/config" and req.method == "POST":
            try:
                self.reconfigure(json.loads(req.body or b"{}"))
            except ValueError as e:
                return Response.json(400, {"error": str(e)})
            return Response.json(200, self.config.model_dump())
        if req.path == "/_fake/config":
            return Response.json(200, self.config.model_dump())
        if req.path == "/_fake/storm" and req.method == "POST":
            try:
                storm = Storm.model_validate(json.loads(req.body or b"{}"))
            except ValueError as e:
                return Response.json(400, {"error": str(e)})
            self.limits.start_storm(storm, self.clock())
            return Response.json(200, storm.model_dump())
        if req.path == "/_fake/reset" and req.method == "POST":
            self.reset()
            return Response.json(200, {"ok": True})
        return Response.json(404, {"error": "unknown control route"})

    def _known_model(self, model: str) -> bool:
        return self.config.models is None or model in self.config.models

    def _models(self, req: Request) -> Response:
        """GET /v1/models (the list) and /v1/models/{id} (retrieve), as each family answers."""
        anthropic = "anthropic-version" in req.headers
        family = "anthropic" if anthropic else "openai"
        record = self._record(req, None)
        if not self._authorized(req, family):
            return self._finish(
                record, self._error(family, 401, "invalid x-api-key / bearer token")
            )
        wanted = req.path.removeprefix("/v1/models").strip("/")
        if wanted:
            if not self._known_model(wanted):
                return self._finish(
                    record, self._error(family, 404, f"The model `{wanted}` does not exist")
                )
            item: dict[str, Any] = {
                "id": wanted,
                "object": "model",
                "created": 0,
                "owned_by": "fake",
            }
            if anthropic:
                item = {"type": "model", "id": wanted, "display_name": wanted}
                item["created_at"] = "2026-01-01T00:00:00Z"
            return self._finish(record, Response.json(200, item))
        return self._finish(record, self._model_list(anthropic))

    def _model_list(self, anthropic: bool) -> Response:
        if anthropic:
            data = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2026-01-01T00:00:00Z"}
                for m in self.config.models or ("claude-sonnet-5-5", "claude-haiku-5-5")
            ]
            return Response.json(
                200,
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"],
                    "last_id": data[-1]["id"],
                },
            )
        models: list[dict[str, Any]] = [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
            for m in self.config.models or ("gpt-5.4-mini", "gpt-5.4-nano")
        ]
        return Response.json(200, {"object": "list", "data": models})


def parse_anthropic_count(body: dict[str, Any]) -> Prompt:
    return parse_anthropic({**body, "max_tokens": body.get("max_tokens", 1)})


# What a batch's endpoint answers with: the live route's parser.
BATCH_PARSERS = {
    "/v1/chat/completions": parse_openai_chat,
    "/v1/responses": parse_openai_responses,
    "/v1/messages": parse_anthropic,
}


def openai_chat(
    n: int,
    prompt: Prompt,
    text: str,
    prompt_tokens: int,
    cached: int,
    out_tokens: int,
    truncated: bool,
    *,
    tool: bool,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text,
        "refusal": None,
        "annotations": [],
    }
    finish = "length" if truncated else "stop"
    if tool:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_fake_{n}",
                "type": "function",
                "function": {"name": prompt.schema_name, "arguments": text},
            }
        ]
        finish = "length" if truncated else "tool_calls"
    return {
        "id": f"chatcmpl-fake-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": prompt.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": out_tokens,
            "total_tokens": prompt_tokens + out_tokens,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def openai_response(
    n: int,
    prompt: Prompt,
    text: str,
    prompt_tokens: int,
    cached: int,
    out_tokens: int,
    truncated: bool,
) -> dict[str, Any]:
    return {
        "id": f"resp_fake_{n}",
        "object": "response",
        "created_at": time.time(),
        "completed_at": time.time(),
        "status": "incomplete" if truncated else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if truncated else None,
        "error": None,
        "model": prompt.model,
        "output": [
            {
                "type": "message",
                "id": f"msg_fake_{n}",
                "role": "assistant",
                "status": "incomplete" if truncated else "completed",
                "content": [
                    {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
                ],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "temperature": 1.0,
        "top_p": 1.0,
        "max_output_tokens": prompt.max_output,
        "metadata": {},
        "usage": {
            "input_tokens": prompt_tokens,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": out_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt_tokens + out_tokens,
        },
    }


def anthropic_message(
    n: int,
    prompt: Prompt,
    *,
    text: str,
    value: Any,
    input_tokens: int,
    cache_read: int,
    cache_write: int,
    output_tokens: int,
    truncated: bool,
) -> dict[str, Any]:
    if value is not None:
        content: list[dict[str, Any]] = [
            {
                "type": "tool_use",
                "id": f"toolu_fake_{n}",
                "name": prompt.schema_name,
                "input": value,
            }
        ]
        stop = "tool_use"
    else:
        content = [{"type": "text", "text": text}]
        stop = "end_turn"
    if truncated:
        stop = "max_tokens"
    return {
        "id": f"msg_fake_{n}",
        "type": "message",
        "role": "assistant",
        "model": prompt.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": cache_write,
                "ephemeral_1h_input_tokens": 0,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        },
    }


class ProviderAddress:
    """The base URLs each SDK is given for a fake provider listening at host:port."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url


@dataclass
class RunningFakeProvider(ProviderAddress):
    provider: FakeProvider
    host: str
    port: int

    @property
    def requests(self) -> list[dict[str, Any]]:
        return list(self.provider.records)

    def model_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.provider.records if r["family"] is not None]


@asynccontextmanager
async def serve(
    config: FakeProviderConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    record_path: Path | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[RunningFakeProvider]:
    """Run the fake provider in the current event loop for the duration of the block.
    `clock`: a `ManualClock` makes the rate limits refill only when a test advances it."""
    provider = FakeProvider(config, record_path, clock)
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
    bound = listener.extra(SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(partial(listener.serve, partial(serve_connection, handler=provider.handle)))
        try:
            yield RunningFakeProvider(provider, host, bound)
        finally:
            tg.cancel_scope.cancel()
