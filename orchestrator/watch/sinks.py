"""Where alerts go: the alerts file, the terminal, and a command run for each one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Protocol, TextIO

import anyio

from tracejury.orchestrator.display.escape import markup, safe_console
from tracejury.orchestrator.run.recorder import JsonlRecorder
from tracejury.orchestrator.watch.alert import Alert
from tracejury.safe_text import visible

COMMAND_TIMEOUT_S = 60.0
QUEUE = 10_000


class AlertSink(Protocol):
    async def emit(self, alert: Alert) -> None: ...


class AlertsFile:
    """`--alerts FILE`: one JSON line per alert, appended whole under a lock and synced."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.recorder = JsonlRecorder(path, Alert, lambda a: a.alert_id)

    async def emit(self, alert: Alert) -> None:
        self.recorder.record([alert])


class JsonLines:
    """`--json`: each alert as one JSON line on standard output."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    async def emit(self, alert: Alert) -> None:
        self.out.write(alert.model_dump_json() + "\n")
        self.out.flush()


def alert_line(a: Alert) -> str:
    """One line whatever the trace holds: its controls and newlines shown as escapes."""
    where = a.evidence[-1].location if a.evidence else a.source
    return visible(
        f"ALERT {a.type} session={a.session} {a.message} [{where}] -> {a.recommendation}"
    )


class Terminal:
    """For people: rich on a terminal, one plain line per alert when piped."""

    def __init__(self, out: TextIO | None = None, *, rich: bool | None = None) -> None:
        self.out = out or sys.stdout
        use_rich = self.out.isatty() if rich is None else rich
        self.console = safe_console(file=self.out) if use_rich else None

    async def emit(self, a: Alert) -> None:
        if self.console is None:
            self.out.write(alert_line(a) + "\n")
            self.out.flush()
            return
        # Trace text is untrusted: no markup, no controls reach the terminal.
        self.console.print(
            f"[bold red]ALERT[/] [bold]{a.type}[/] [cyan]{markup(a.session)}[/] "
            f"{markup(a.message)}  [dim]→ {a.recommendation}[/]"
        )
        for e in a.evidence[-3:]:
            self.console.print(f"    [dim]{markup(e.location)}[/]  {markup(e.text[:160])}")


class OnAlertCommand:
    """`--on-alert CMD`: runs CMD (through the shell) once per alert, the alert's JSON on its
    standard input. Alerts queue and run one at a time, in order, off the watch loop."""

    def __init__(self, command: str, notes: list[str]) -> None:
        self.command = command
        self.notes = notes
        self.send, self.receive = anyio.create_memory_object_stream[Alert](QUEUE)
        self.delivered = 0

    async def emit(self, alert: Alert) -> None:
        try:
            self.send.send_nowait(alert)
        except anyio.WouldBlock:
            self.notes.append(
                f"--on-alert: {QUEUE} alerts waiting; alert {alert.alert_id} not passed on"
            )

    async def worker(self) -> None:
        async with self.receive:
            async for alert in self.receive:
                await self._run(alert)

    async def close(self) -> None:
        await self.send.aclose()

    async def _run(self, alert: Alert) -> None:
        data = (alert.model_dump_json() + "\n").encode()
        with anyio.move_on_after(COMMAND_TIMEOUT_S) as scope:
            try:
                result = await anyio.run_process(self.command, input=data, check=False)
            except OSError as e:
                self.notes.append(f"--on-alert: cannot run {self.command!r} ({e.strerror or e})")
                return
            self.delivered += 1
            if result.returncode != 0:
                err = result.stderr.decode("utf-8", "replace").strip().splitlines()
                self.notes.append(
                    f"--on-alert: {self.command!r} exited {result.returncode} for alert "
                    f"{alert.alert_id}" + (f": {err[-1][:200]}" if err else "")
                )
        if scope.cancelled_caught:
            self.notes.append(
                f"--on-alert: {self.command!r} ran over {COMMAND_TIMEOUT_S:.0f} s for alert {alert.alert_id}: stopped"
            )
