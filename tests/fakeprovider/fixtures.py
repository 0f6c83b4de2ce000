"""pytest fixtures running the fake provider in its own process, so a CLI started with
`subprocess` (its own event loop) can reach it through `--base-url`.

    def test_cli(fake_provider):                       # default config
        run(["tracejury", ..., "--base-url", fake_provider.openai_base_url])
        assert all("sk-planted" not in json.dumps(r["body"]) for r in fake_provider.requests())

    @pytest.mark.parametrize("fake_provider", [{"rps": 10, "latency": 0.05}], indirect=True)
    def test_limited(fake_provider): ...

    def test_many(fake_provider_factory):
        fp = fake_provider_factory(error_rate=0.05, seed=3)

Import them into a conftest: `from fakeprovider.fixtures import fake_provider,
fake_provider_factory`.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from .__main__ import READY_PREFIX
from .config import FakeProviderConfig
from .server import ProviderAddress

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 20.0


class FakeProviderProcess(ProviderAddress):
    """A running fake provider subprocess and the way to look inside it."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, host: str = "127.0.0.1") -> None:
        self.proc = proc
        self.host = host
        self.port = port

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            body = None if payload is None else json.dumps(payload)
            conn.request(method, path, body=body, headers={"content-type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"fake provider {path}: {resp.status} {data[:200]!r}")
            return json.loads(data)
        finally:
            conn.close()

    def requests(self) -> list[dict[str, Any]]:
        """Every request received so far: method, path, headers, body (parsed JSON)."""
        return list(self._call("GET", "/_fake/requests"))

    def model_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r.get("family")]

    def batch_submissions(self) -> dict[str, Any]:
        """Batches created and, per custom_id, how many created batches carried it."""
        return dict(self._call("GET", "/_fake/batch_submissions"))

    def stats(self) -> dict[str, int]:
        return dict(self._call("GET", "/_fake/stats"))

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change the behaviour of the running server (a partial FakeProviderConfig)."""
        return dict(self._call("POST", "/_fake/config", changes))

    def reset(self) -> None:
        self._call("POST", "/_fake/reset", {})

    def storm(self, seconds: float, retry_after: float = 1.0) -> None:
        """Answer every model request 429 (retry-after `retry_after`) for `seconds`, from now."""
        self._call("POST", "/_fake/storm", {"seconds": seconds, "retry_after": retry_after})

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _config_json(config: FakeProviderConfig | dict[str, Any] | None) -> str:
    if config is None:
        config = FakeProviderConfig()
    elif isinstance(config, dict):
        config = FakeProviderConfig.model_validate(config)
    return config.model_dump_json()


@contextmanager
def start_fake_provider(
    config: FakeProviderConfig | dict[str, Any] | None = None,
) -> Iterator[FakeProviderProcess]:
    """Start `python -m fakeprovider` on a free port; stop it on exit."""
    with tempfile.TemporaryFile() as errlog:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fakeprovider",
                "--port",
                "0",
                "--config",
                _config_json(config),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=errlog,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO / "tests"), os.environ.get("PYTHONPATH", "")) if p
                ),
            },
        )
        handle = None
        try:
            port = _wait_ready(proc, errlog)
            handle = FakeProviderProcess(proc, port)
            yield handle
        finally:
            if handle is not None:
                handle.close()
            elif proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)


def _wait_ready(proc: subprocess.Popen[bytes], errlog: Any) -> int:
    assert proc.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if sel.select(timeout=0.2):
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                for line in buf.decode(errors="replace").splitlines():
                    if line.startswith(READY_PREFIX):
                        return int(line[len(READY_PREFIX) :])
            if proc.poll() is not None:
                break
    errlog.seek(0)
    detail = errlog.read().decode(errors="replace").strip().splitlines()[-5:]
    raise RuntimeError("fake provider did not start: " + (" | ".join(detail) or "no output"))


@pytest.fixture
def fake_provider(request: pytest.FixtureRequest) -> Iterator[FakeProviderProcess]:
    """A fake provider process; config from indirect parametrization, else defaults."""
    with start_fake_provider(getattr(request, "param", None)) as fp:
        yield fp


@pytest.fixture
def fake_provider_factory() -> Iterator[Callable[..., FakeProviderProcess]]:
    """Start as many fake providers as a test needs: `factory(rps=10, latency=0.05)`."""
    with ExitStack() as stack:

        def start(
            config: FakeProviderConfig | dict[str, Any] | None = None, **kw: Any
        ) -> FakeProviderProcess:
            merged = {
                **(config.model_dump() if isinstance(config, FakeProviderConfig) else config or {}),
                **kw,
            }
            return stack.enter_context(start_fake_provider(merged))

        yield start
