"""A fake OpenAI + Anthropic HTTP provider on 127.0.0.1 for tracejury's own tests.

In-process (async tests, benchmarks): `async with serve(config) as fp: ...`.
Out of process (the CLI in a subprocess): `python -m fakeprovider --port 0`, or the
`fake_provider` / `fake_provider_factory` pytest fixtures in `fixtures.py`.
"""

from .config import FakeProviderConfig
from .ratelimit import ManualClock
from .server import FakeProvider, RunningFakeProvider, serve

__all__ = ["FakeProvider", "FakeProviderConfig", "ManualClock", "RunningFakeProvider", "serve"]
