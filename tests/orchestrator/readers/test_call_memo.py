"""A tool call's text and whether its tool is a shell are remembered per name (bounded):
the remembered answers are the ones computed afresh."""

from __future__ import annotations

from tracejury.orchestrator.readers.chat import messages
from tracejury.orchestrator.readers.chat.messages import call_text, normalize_args


def test_a_remembered_call_text_is_the_one_made_afresh() -> None:
    messages._CALL_TEXTS.clear()
    names = ["Bash", None, "", "shell", 'we"ird']
    commands = ["ls", "", 'echo "hi"\n', "x" * messages._CALL_COMMAND_CHARS, "ü ✓"]
    for _ in range(2):  # the second round answers from memory
        for name in names:
            for cmd in commands:
                assert call_text(name, {"command": cmd}) == messages._call_text(
                    name, {"command": cmd}
                )
    assert len(messages._CALL_TEXTS) == len(names) * len(commands)
    # Longer commands and other shapes are not remembered.
    long = "y" * (messages._CALL_COMMAND_CHARS + 1)
    assert call_text("Bash", {"command": long}) == f'Bash({{"command": "{long}"}})'
    assert call_text("Bash", {"cmd": "ls"}) == 'Bash({"cmd": "ls"})'
    assert call_text("Bash", {"command": ["ls"]}) == 'Bash({"command": ["ls"]})'
    assert call_text("Bash", None) == "Bash()"
    assert len(messages._CALL_TEXTS) == len(names) * len(commands)


def test_the_call_memo_starts_over_when_full() -> None:
    messages._CALL_TEXTS.clear()
    for i in range(messages._CALL_TEXTS_MAX + 10):
        assert call_text("Bash", {"command": f"ls {i}"}) == f'Bash({{"command": "ls {i}"}})'
    assert 0 < len(messages._CALL_TEXTS) <= messages._CALL_TEXTS_MAX
    assert call_text("Bash", {"command": "ls 0"}) == 'Bash({"command": "ls 0"})'


def test_a_remembered_shell_answer_is_the_one_made_afresh() -> None:
    cases = {
        "Bash": {"command": "ls"},
        "mcp__shell": {"command": "ls"},
        "functions.exec_command": {"command": "ls"},
        "Read": "ls",
        None: "ls",
        "": "ls",
    }
    for _ in range(2):
        for name, want in cases.items():
            assert normalize_args(name, "ls") == want, name
    messages._SHELLISH.clear()
    for i in range(messages._SHELLISH_MAX + 5):
        assert normalize_args(f"tool{i}_bash", "ls") == {"command": "ls"}
    assert 0 < len(messages._SHELLISH) <= messages._SHELLISH_MAX
