"""The `mfb-infra` console script: every listed command resolves and answers --help."""

from __future__ import annotations

import importlib

import pytest

from mfb_infra import cli


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_has_a_main(command):
    module = importlib.import_module(cli.COMMANDS[command][0])
    assert callable(getattr(module, "main", None))


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_answers_help(command, capsys):
    argv = [command, *cli.SUBCOMMANDS.get(command, ())[:1], "--help"]
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 0 and "usage" in capsys.readouterr().out


def test_unknown_command_exits_2_with_the_list(capsys):
    assert cli.main(["nope"]) == 2
    assert "snapshot" in capsys.readouterr().err


def test_subcommand_is_required(capsys):
    assert cli.main(["metabase"]) == 2
    assert "sync" in capsys.readouterr().err
