"""Vendored static files match the version and checksum recorded beside them."""

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"


def test_every_vendored_file_matches_its_recorded_sha256():
    rows = re.findall(
        r"^\| (\S+) \| .+ \| (\S+) \| ([0-9a-f]{64}) \|$",
        (VENDOR / "VENDORED.md").read_text(),
        re.M,
    )
    assert rows
    for name, _version, digest in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_nothing_is_vendored_without_a_record():
    recorded = set(re.findall(r"^\| (\S+) \|", (VENDOR / "VENDORED.md").read_text(), re.M))
    on_disk = {p.name for p in VENDOR.iterdir() if p.suffix in {".js", ".css"}}
    assert on_disk <= recorded
