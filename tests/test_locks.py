"""The lock files pin, with hashes, exactly what the requirements files name, and agree
with each other, so `make`, CI and a production install get the same packages."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)")
LOCKS = {"requirements.txt": "requirements.lock",
         "requirements-dev.txt": "requirements-dev.lock",
         "requirements-redis.txt": "requirements-redis.lock"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def named(path: Path) -> dict[str, str]:
    """Packages a requirements file pins, following its `-r` includes."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(named(path.parent / line[3:].strip()))
        elif match := PIN.match(line):
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def locked(path: Path) -> dict[str, str]:
    """Packages a lock file pins; every one of them must carry a hash."""
    pins: dict[str, str] = {}
    current = None
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            current = canonical(match.group(1))
            pins[current] = match.group(2)
            assert line.rstrip().endswith("\\"), f"{path.name}: {current} has no hash"
        elif "--hash=sha256:" in line:
            assert current is not None
    return pins


@pytest.mark.parametrize("source", sorted(LOCKS))
def test_lock_pins_what_its_requirements_name(source):
    wanted = named(ROOT / source)
    pins = locked(ROOT / LOCKS[source])
    assert {name: pins.get(name) for name in wanted} == wanted


def test_locks_agree_with_the_runtime_lock():
    runtime = locked(ROOT / "requirements.lock")
    for lock in ("requirements-dev.lock", "requirements-redis.lock"):
        pins = locked(ROOT / lock)
        assert {name: pins[name] for name in runtime} == runtime, lock
