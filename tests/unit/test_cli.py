"""The `fengqiao` command: every subcommand has --help; serve refuses to start without a key."""

import subprocess
import sys

import pytest

COMMANDS = ["dev", "serve", "worker", "migrate", "seed-demo", "rollup", "createuser"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command):
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    assert "usage: fengqiao" in out.stdout


def test_serve_refuses_to_start_without_a_secret_key():
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://nowhere/x"}
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode != 0
    assert "FENGQIAO_SECRET_KEY" in out.stderr
