"""Every command users can run is documented in the README (DESIGN.md 7.9)."""

from pathlib import Path

from stepflow.cli.main import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_command_is_in_the_readme():
    missing = [name for name in cli.commands if f"stepflow {name}" not in README]
    assert missing == []


def test_readme_starts_with_the_two_front_door_commands():
    block = README.split("```", 2)[1]
    assert [line.split()[:2] for line in block.strip().splitlines()][:2] == [["make", "demo"], ["make", "test"]]
