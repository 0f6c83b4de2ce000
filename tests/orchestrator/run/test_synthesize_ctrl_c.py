"""A Ctrl-C during the executive summary's model call (`--synthesize`): the call runs through
`run_interruptible` like every other loop, so it arrives as one plain KeyboardInterrupt after
the client is closed, and the terminal's Ctrl-C handling is put back. Run in a process of its
own: a loop that never ends there fails this test instead of hanging the suite."""

from __future__ import annotations

import os
import subprocess
import sys

_SCRIPT = """
import os, signal
import anyio
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.run.synthesize import LLMSynthesizer

class CtrlCClient:
    provider, model, closed = "openai", "gpt-4.1-mini", False

    async def complete(self, request):
        os.kill(os.getpid(), signal.SIGINT)  # while this task's own code runs
        await anyio.sleep(30)  # the answer that never comes

    async def aclose(self):
        CtrlCClient.closed = True

signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's, not a background job's
synth = LLMSynthesizer(RunConfig(backend="openai"), client_factory=lambda c: CtrlCClient())
try:
    synth("the numbers")
except BaseException as e:
    print(type(e).__name__, CtrlCClient.closed, signal.getsignal(signal.SIGINT) is signal.default_int_handler)
"""


def test_ctrl_c_during_the_model_call_is_one_plain_keyboard_interrupt() -> None:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.stdout.split() == ["KeyboardInterrupt", "True", "True"], out.stderr[-2000:]
