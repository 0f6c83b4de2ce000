"""A criteria file: what an analyst looks for, and the vocabulary it must answer in."""

from __future__ import annotations

import hashlib
import json

from pydantic import Field

from tracejury.models.common import Record


class Criteria(Record):
    name: str
    description: str = ""
    perspective: str = "general"
    categories: dict[str, list[str]] = Field(default_factory=dict)
    fields: dict[str, str] = Field(default_factory=dict, description="extra output fields")
    body: str = ""
    source: str = Field(default="", description="'builtin:<name>' or the file path")

    @property
    def hash(self) -> str:
        """Content hash: a changed criteria file is a new analysis, an unchanged one resumes."""
        payload = json.dumps(
            [self.name, self.perspective, self.categories, self.fields, self.body.strip()],
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def subcategories(self, category: str) -> list[str]:
        return self.categories.get(category, [])
