"""Answers of the fake provider: a JSON object valid for the request's schema, built from
the schema itself (enums take their first value, strings are quotes of the trace), and
the broken variants tests need (not JSON, schema-invalid)."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

# tracejury's prompt puts the trace between these lines; other prompts fall back to the
# whole last user message.
_TRACE_BLOCK = re.compile(
    r"<<<\s*TRACE DATA BEGIN (\S+?)>>>\n(.*?)\n<<<\s*TRACE DATA END \1>>>", re.DOTALL
)
_HEADER_LINE = re.compile(r"^(trace|task|recorded outcome):", re.IGNORECASE)
# "- `category`: `sub1`, `sub2`" lines of the criteria vocabulary.
_VOCAB_LINE = re.compile(r"^- `([^`]+)`(?::\s*(.*))?$", re.MULTILINE)
MAX_QUOTE = 120


def trace_text(prompt_text: str, user_text: str) -> str:
    """The trace a request is about: the last delimited trace block anywhere in the
    prompt (a re-ask's last message is the feedback, the trace sits earlier), else the
    last user message."""
    blocks = list(_TRACE_BLOCK.finditer(prompt_text))
    return blocks[-1].group(2) if blocks else user_text


_MARKER = "\u27ea"  # ⟪: tracejury's digest marks its own lines with it
_STEP_MARKER = re.compile(r"^\u27ea\s*(step \d+)")
_LABEL = re.compile(r"^\[([^\]]{1,80})\]\s*")
_KIND_PREFIX = re.compile(r"^[\w .-]{1,40}?:\s+")


@dataclass(frozen=True)
class Quote:
    text: str
    location: str | None


def quotes_from(text: str) -> list[Quote]:
    """Verbatim pieces of the trace with their location labels, as a careful model would
    quote them: trace lines only (not the digest's own markers, facts or headers), the
    label (`⟪step 3 · ...⟫` or a leading `[msg 3]`) kept apart as the location."""
    body: list[Quote] = []  # lines under a step marker: quoted from the trace
    loose: list[Quote] = []
    location: str | None = None
    under_step = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(_MARKER):
            m = _STEP_MARKER.match(line)
            location, under_step = (m.group(1), True) if m else (None, False)
            continue
        if _HEADER_LINE.match(line) or line.startswith(("<<<", "Trace digest by")):
            continue
        label = _LABEL.match(line)
        if label:  # "[msg 2] tool_result: text": the label and kind are not trace text
            line = _KIND_PREFIX.sub("", line[label.end() :], count=1)
        piece = Quote(line[:MAX_QUOTE].strip(), label.group(1) if label else location)
        if piece.text:
            (body if under_step else loose).append(piece)
    out = body or loose
    ranked = [q for q in out if len(q.text) >= 20] + [q for q in out if len(q.text) < 20]
    return ranked or [Quote("(empty trace)", None)]


_STEP_HEADER = re.compile(r"^\u27ea\s*step (\d+) \u00b7 (.*?)\u27eb\s*$", re.MULTILINE)
_KINDS = ("message", "thinking", "tool_call", "tool_result", "command", "answer", "vote",
          "error", "event", "text")  # fmt: skip


def roster_from(text: str) -> tuple[list[str], list[int]]:
    """Speakers and step numbers of the digest's step headers (`⟪step 3 · loc · who · kind⟫`)."""
    speakers: dict[str, None] = {}
    steps: dict[int, None] = {}
    for m in _STEP_HEADER.finditer(text):
        steps[int(m.group(1))] = None
        bits = [b.strip() for b in m.group(2).split(" \u00b7 ")]
        if len(bits) >= 3 and bits[1].split(" ")[0] not in _KINDS:
            speakers[bits[1]] = None
    return list(speakers), list(steps)


def vocabulary(prompt_text: str) -> dict[str, list[str]]:
    """category -> subcategories, as the criteria prompt lists them."""
    vocab: dict[str, list[str]] = {}
    for m in _VOCAB_LINE.finditer(prompt_text):
        subs = re.findall(r"`([^`]+)`", m.group(2) or "")
        vocab[m.group(1)] = subs
    return vocab


class AnswerBuilder:
    """Builds one answer object for one request."""

    def __init__(
        self,
        *,
        trace: str,
        prompt_text: str = "",
        overrides: dict[str, Any] | None = None,
        invented_quote_rate: float = 0.0,
        rng: random.Random | None = None,
        random_choices: bool = False,
    ) -> None:
        self.quotes = quotes_from(trace)
        self.speakers, self.step_numbers = roster_from(trace)
        self.vocab = vocabulary(prompt_text)
        self.overrides = overrides or {}
        self.invented_quote_rate = invented_quote_rate
        self.rng = rng or random.Random(0)
        self.random_choices = random_choices
        self._next_quote = 0
        self._last_location: str | None = None
        self._defs: dict[str, Any] = {}

    def build(self, schema: dict[str, Any] | None) -> Any:
        if not schema:
            return {"answer": self._quote()}
        self._defs = dict(schema.get("$defs") or schema.get("definitions") or {})
        value = self._value(schema, name="")
        if isinstance(value, dict):
            self._quote_the_decisive_step(value)
        if isinstance(value, dict) and not self.random_choices:
            self._pair_subcategory(value, schema)
            for k, v in self.overrides.items():
                value[k] = v
        return value

    def _quote_the_decisive_step(self, value: dict[str, Any]) -> None:
        """An attribution answer quotes its decisive step first, as the criteria asks."""
        step, evidence = value.get("decisive_step"), value.get("evidence")
        if not isinstance(step, int) or not isinstance(evidence, list) or not evidence:
            return
        at_step = next((q for q in self.quotes if q.location == f"step {step}"), None)
        if at_step is not None and isinstance(evidence[0], dict):
            evidence[0] = {**evidence[0], "quote": at_step.text, "location": at_step.location}

    def _quote(self) -> str:
        if self.invented_quote_rate and self.rng.random() < self.invented_quote_rate:
            self._last_location = None
            return "the agent deleted the production database (invented quote)"
        q = self.quotes[self._next_quote % len(self.quotes)]
        self._next_quote += 1
        self._last_location = q.location
        return q.text

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = self._defs.get(ref.rsplit("/", 1)[-1])
            if isinstance(target, dict):
                return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def _value(self, schema: Any, *, name: str) -> Any:
        if not isinstance(schema, dict):
            return None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema and schema["enum"]:
            return self.rng.choice(schema["enum"]) if self.random_choices else schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                if self.random_choices:
                    return self._value(self.rng.choice(options), name=name)
                non_null = [
                    o for o in options if not (isinstance(o, dict) and o.get("type") == "null")
                ]
                return self._value((non_null or options)[0], name=name)
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self._resolve(part) if isinstance(part, dict) else {})
            return self._value(merged, name=name)
        typ = schema.get("type")
        if isinstance(typ, list) and self.random_choices:
            typ = self.rng.choice(typ)
        if isinstance(typ, list):
            non_null_types = [t for t in typ if t != "null"]
            typ = non_null_types[0] if non_null_types else "null"
        if typ is None:
            typ = "object" if "properties" in schema else "string"
        if typ == "object":
            props = schema.get("properties") or {}
            obj = {k: self._value(v, name=k) for k, v in props.items() if k != "location"}
            if "location" in props:  # the label of the quote just given, as the prompt asks
                loc = self._last_location
                obj["location"] = loc if loc is not None or _nullable(props["location"]) else ""
                obj = {k: obj[k] for k in props}  # keep the schema's order
            return obj
        if typ == "array":
            count = max(1, int(schema.get("minItems", 1)))
            if "maxItems" in schema:
                count = min(count, int(schema["maxItems"]))
            return [self._value(schema.get("items") or {}, name=name) for _ in range(count)]
        # an attribution answer names a speaker and a step the trace shows, as a careful
        # model would (answer_overrides can plant wrong ones)
        if name == "responsible_agent" and typ in ("string", None):
            pool = self.speakers or ["none"]
            return self.rng.choice(pool) if self.random_choices else pool[0]
        if name == "decisive_step" and typ == "integer" and self.step_numbers:
            pool = self.step_numbers
            return self.rng.choice(pool) if self.random_choices else pool[0]
        if typ == "string":
            text = self._quote()
            if "maxLength" in schema:
                text = text[: int(schema["maxLength"])]
            if "minLength" in schema and len(text) < int(schema["minLength"]):
                text = text.ljust(int(schema["minLength"]), ".")
            return text
        if typ == "integer":
            low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
            return (
                int(max(0, low))
                if "maximum" not in schema
                else int(min(max(0, low), schema["maximum"]))
            )
        if typ == "number":
            low = float(schema.get("minimum", 0.0))
            high = float(schema.get("maximum", max(low, 1.0)))
            return (low + high) / 2
        if typ == "boolean":
            return True
        return None

    def _pair_subcategory(self, value: dict[str, Any], schema: dict[str, Any]) -> None:
        """A subcategory must belong to the chosen category, which a schema cannot say;
        the criteria's vocabulary in the prompt can."""
        if "category" not in value or "subcategory" not in value:
            return
        sub_schema = self._resolve((schema.get("properties") or {}).get("subcategory") or {})
        allowed = _enum_values(sub_schema)
        subs = self.vocab.get(str(value["category"]), [])
        choice = next((s for s in subs if s in allowed), None)
        if choice is not None:
            value["subcategory"] = choice
        elif None in allowed or _nullable(sub_schema):
            value["subcategory"] = None


def _enum_values(schema: dict[str, Any]) -> list[Any]:
    if "enum" in schema:
        return list(schema["enum"])
    out: list[Any] = []
    for opt in schema.get("anyOf") or schema.get("oneOf") or []:
        if isinstance(opt, dict):
            if opt.get("type") == "null":
                out.append(None)
            out.extend(opt.get("enum") or [])
    return out


def _nullable(schema: dict[str, Any]) -> bool:
    typ = schema.get("type")
    if typ == "null" or (isinstance(typ, list) and "null" in typ):
        return True
    return any(
        isinstance(o, dict) and o.get("type") == "null"
        for o in (schema.get("anyOf") or schema.get("oneOf") or [])
    )


def malformed_text(trace_quote: str) -> str:
    """What a model says when it ignores the format: prose, not JSON."""
    return (
        "Sure! Looking at this trace, the agent seems to have failed. "
        f'The key line is "{trace_quote}". Let me know if you need more detail.'
    )


def invalid_object(valid: Any, schema: dict[str, Any] | None) -> Any:
    """Valid JSON that breaks the schema: a required field dropped, an enum value invented."""
    if not isinstance(valid, dict):
        return {"unexpected": valid}
    broken = dict(valid)
    required = list((schema or {}).get("required") or broken.keys())
    if required:
        broken.pop(required[-1], None)
    props = (schema or {}).get("properties") or {}
    for key, sub in props.items():
        if (
            key in broken
            and isinstance(sub, dict)
            and (
                "enum" in sub
                or any("enum" in o for o in sub.get("anyOf") or [] if isinstance(o, dict))
            )
        ):
            broken[key] = "not_a_listed_value"
            break
    return broken


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
