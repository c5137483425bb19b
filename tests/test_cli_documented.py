"""Every command and option of main.py is documented in the README (the parser is the one
declaration; this test keeps the README honest)."""

import argparse
import re
from pathlib import Path

import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                path = (*prefix, name)
                options = [o for a in sub._actions for o in a.option_strings
                           if o.startswith("--") and o != "--help"]
                yield path, options
                yield from _commands(sub, path)


COMMANDS = list(_commands(main.build_parser()))


def test_there_are_commands_to_check():
    assert len(COMMANDS) >= 10


def test_every_command_has_a_row_in_the_readme():
    missing = [" ".join(path) for path, _ in COMMANDS
               if f"main.py {' '.join(path)}" not in README]
    assert missing == []


def test_every_option_is_named_in_its_command_row():
    rows = [line for line in README.splitlines() if line.startswith("| `main.py ")]
    missing = []
    for path, options in COMMANDS:
        command = f"main.py {' '.join(path)}"
        text = " ".join(r for r in rows if re.match(rf"\| `{re.escape(command)}( |`)", r))
        missing += [f"{command} {o}" for o in options if o not in text]
    assert missing == []
