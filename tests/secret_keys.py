"""Every word the secret pattern's key may end in, with each qualifier and separator its
regex allows (the redaction tests plant them all: random texts may never draw a rare one)."""

from __future__ import annotations

from tracejury.orchestrator.analysis import redact_patterns


def secret_key_words() -> list[str]:
    words = ["password", "passwd", "passphrase", "secret", "token", "pwd", "apikey"]
    for sep in ("", "_", "-"):
        words += [f"client{sep}secret", f"shared{sep}access{sep}key"]
        words += [f"{q}{sep}key" for q in redact_patterns._KEY_QUALIFIERS]
        words += [f"{q}{sep}token" for q in redact_patterns._TOKEN_QUALIFIERS]
    return words
