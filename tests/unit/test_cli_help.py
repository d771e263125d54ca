"""Every option of every command says what it is for in `--help` (issue 27: `courier dev up
--help` listed bare flags)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator

from courier_cli.main import parser as courier_parser
from devstack import cli as dev_cli


def _commands(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{path} {name}")


def _undescribed(parser: argparse.ArgumentParser) -> list[str]:
    return [action.option_strings[0] if action.option_strings else action.dest for action in parser._actions
            if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction) and not action.help]


def test_every_option_of_every_command_has_a_description() -> None:
    parsers = [*_commands(courier_parser(None), "courier"), *_commands(dev_cli.parser(), "courier dev")]
    missing = {path: found for path, parser in parsers if (found := _undescribed(parser))}
    assert not missing, missing


def test_dev_up_help_as_a_user_reads_it() -> None:
    ran = subprocess.run([sys.executable, "-m", "devstack.cli", "up", "--help"], capture_output=True, text=True, check=True)
    assert "start the local stack" in ran.stdout and "the first of its ports" in ran.stdout and "visibility timeout" in ran.stdout
