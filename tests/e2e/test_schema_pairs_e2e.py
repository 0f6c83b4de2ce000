"""Through the real CLI and both SDKs: a model that answers inside the schema at random
never has an answer refused for its category/subcategory pair (issue 9)."""

from __future__ import annotations

import pytest
from by_outcome_factory import make_by_outcome_tree
from test_e2e_llm import backend_args, findings, tracejury

from tracejury.criteria_loader import load_criteria

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("criteria", ["triage", "mast"])
def test_random_schema_answers_are_all_accepted(
    provider: str, criteria: str, tmp_path, fake_provider_factory
) -> None:
    traces = make_by_outcome_tree(tmp_path / "traces", 24, with_bad_files=False).root
    fp = fake_provider_factory(answer_choice="random", seed=5)
    run = tmp_path / "run"
    r = tracejury(
        "triage", str(traces), "--out", str(run), "--criteria", criteria,
        *backend_args(provider, fp), "--concurrency", "4",
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    lines = findings(run)
    assert len(lines) == 24
    crit = load_criteria(criteria)
    for f in lines:
        assert f["status"] == "ok", f.get("error")
        if f["category"] is not None:
            subs = crit.subcategories(f["category"])
            assert f["subcategory"] in subs if subs else f["subcategory"] is None
    # not one re-ask: every first answer was accepted as it came
    assert len(fp.model_requests()) == 24
    pairs = {(f["category"], f["subcategory"]) for f in lines}
    assert len(pairs) >= 5  # the draws really spread over the pairs
