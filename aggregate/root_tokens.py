"""The token sets of a findings file's root causes, computed by the validation process.

Issue keying folds every distinct root cause once (`normalize.tokens`): on a big run that
is a fifth of this process's time. The validation process (`check_worker.py`) computes them
after the facts index, before it validates, on the other core, and writes them to a file
this process polls for while it keys issues (`checked.read_root_tokens`,
`normalize.add_known_tokens`): from then on it takes them; any text it lacks, or folded
before they came, is folded here as before. Both sides run the same `tokens()`, so the keys
are the same whichever side folds a text.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from tracejury.aggregate.normalize import tokens_uncached
from tracejury.aggregate.scan_lines import NOT_DECODED
from tracejury.jsonl import raw_lines


class _Root(msgspec.Struct):
    root_cause: str = ""


_decode_root = msgspec.json.Decoder(_Root).decode
_BATCH = 2048  # token sets encoded at a time


_KEY = b'"root_cause":"'  # as our lines are written (compact JSON)


def root_causes(path: Path) -> list[str]:
    """Every distinct root cause of the file's decodable lines, in first-seen order.

    A value without an escape is its bytes between the quotes, found rather than decoded
    (the 100k bench's pass 1.31G -> 1.04G instructions). Where that reads a nested key or a
    line the scan will not take, the list only holds a text the scan does not ask for (its
    tokens are still that text's), and a root cause missing here is folded by the scan."""
    seen: dict[str, None] = {}
    for _, _, raw in raw_lines(path):
        at = raw.find(_KEY)
        if at >= 0:
            start = at + len(_KEY)
            end = raw.find(b'"', start)
            if end >= 0 and raw.find(b"\\", start, end) < 0:
                try:
                    seen[raw[start:end].decode()] = None
                    continue
                except UnicodeDecodeError:
                    pass
        try:
            seen[_decode_root(raw).root_cause] = None
        except NOT_DECODED:
            continue  # whatever the scan makes of this line, it folds it itself
    return list(seen)


_encode = msgspec.json.Encoder().encode


def write_root_tokens(findings: Path, out: Path) -> None:
    """`{"texts": [[text, set], ...], "sets": [[token, ...], ...]}` of every root cause
    (`set`: an index into `sets`, each distinct token set written once: the texts that fold
    alike share one), written whole (a temporary file renamed) so a reader sees all of it or
    nothing."""
    texts = root_causes(findings)
    tmp = out.with_name(out.name + ".tmp")
    sets: dict[frozenset[str], int] = {}
    with tmp.open("wb") as f:
        f.write(b'{"texts":[')
        # A batch at a time, uncached by text: this process keeps only the distinct sets.
        for start in range(0, len(texts), _BATCH):
            batch = texts[start : start + _BATCH]
            refs = [(text, sets.setdefault(tokens_uncached(text), len(sets))) for text in batch]
            entries = _encode(refs)[1:-1]
            f.write(b"," + entries if start else entries)
        f.write(b'],"sets":' + _encode(list(sets)) + b"}")
    os.replace(tmp, out)
