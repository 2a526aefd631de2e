"""``make security``: the slow security checks against a live ``fengqiao dev``.

1. starts ``fengqiao dev`` (embedded PostgreSQL + Redis in a temp dir, demo district) on a free
   port, login throttling raised so the scanners are not simply answered 429;
2. schemathesis against ``/schema/openapi.json``, logged in as ``admin``, ``grid`` (field work)
   and ``desk`` (registers cases and acts on them, which the other two may not) (checks: no
   5xx, status codes / content types / bodies conform to the schema; a request that times out
   is reported too);
3. sqlmap (from PyPI, in the ``security`` extra; a ``sqlmap`` on PATH also works) against
   the login form, a form (``/households/search?q=`` and
   ``/cases?q=&category=&state=``) and the JSON API (``POST /api/v1/visits``,
   ``GET /api/v1/cases?q=``), ``--batch --level 2 --risk 1``, each run time-bounded;
4. the PostgreSQL restart drill (``tools/drills/pg_restart.py``);

and prints a summary of the findings. Exit status 1 if anything was found.

    .venv/bin/python tools/security.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "fengqiao-demo"
SCHEMATHESIS_USERS = ("admin", "grid", "desk")
#: The lines of a schemathesis log that make up a finding's summary.
SCHEMATHESIS_SUMMARY = (
    r"(FAILED|Server error|conform|ST[0-9]{3} |Network Error:|[0-9]+ (failures|errors?))"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dev(data_dir: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        FENGQIAO_DATA_DIR=str(data_dir),
        FENGQIAO_PORT=str(port),
        FENGQIAO_LOGIN_MAX_PER_ACCOUNT="1000000",
        FENGQIAO_LOGIN_MAX_PER_ADDRESS="1000000",
        PYTHONUNBUFFERED="1",
    )
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    log = (data_dir / "dev.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dev"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("fengqiao dev exited:\n" + (data_dir / "dev.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("fengqiao dev did not become healthy")


def login(base: str, username: str) -> dict[str, str]:
    with httpx.Client(base_url=base) as c:
        c.get("/login")
        r = c.post("/login", data={"username": username, "password": PASSWORD})
        assert r.status_code == 303, r.text[:300]
        return dict(c.cookies)


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def run(
    argv: list[str], timeout: int, log: Path, cwd: Path | None = None
) -> tuple[int | None, str]:
    print("$", " ".join(a if len(a) < 80 else a[:77] + "..." for a in argv), flush=True)
    with log.open("wb") as fh:
        try:
            proc = subprocess.run(
                argv, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout, cwd=cwd
            )
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            code = None
    return code, log.read_text(errors="replace")


def schemathesis(base: str, username: str, out: Path, examples: int) -> list[str]:
    cookies = login(base, username)
    code, text = run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{base}/schema/openapi.json",
            "-H",
            f"Cookie: {cookie_header(cookies)}",
            "-H",
            f"x-csrftoken: {cookies['csrftoken']}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance",
            "-n",
            str(examples),
            "--request-timeout",
            "10",
            "--generation-deterministic",
        ],
        timeout=900,
        log=out,
        cwd=out.parent,  # its replay cache (.schemathesis/) goes with the logs, not in the repo
    )
    findings = []
    if code != 0:
        summary = [line for line in text.splitlines() if re.search(SCHEMATHESIS_SUMMARY, line)]
        findings.append(
            f"schemathesis ({username}): exit {code}; " + " | ".join(summary[:12]) + f" [{out}]"
        )
    tail = [ln for ln in text.splitlines() if ln.strip()][-4:]
    print(f"  schemathesis as {username}: exit {code}: " + " / ".join(tail), flush=True)
    return findings


def sqlmap_targets(base: str) -> list[tuple[str, list[str], str]]:
    grid = login(base, "grid")
    desk = login(base, "desk")
    today = time.strftime("%Y-%m-%dT%H:%M")
    return [
        (
            "login form",
            [
                "-u",
                f"{base}/login",
                "--data",
                "username=grid&password=x",
                "--cookie",
                f"csrftoken={grid['csrftoken']}",
                "--ignore-code",
                "401",  # a wrong password answers 401: that is the page under test
            ],
            "username,password",
        ),
        (
            "household search form",
            ["-u", f"{base}/households/search?q=abc", "--cookie", cookie_header(grid)],
            "q",
        ),
        (
            "case list filters",
            [
                "-u",
                f"{base}/cases?q=abc&category=x&state=registered",
                "--cookie",
                cookie_header(desk),
            ],
            "q,category,state",
        ),
        (
            "visit form (POST)",
            [
                "-u",
                f"{base}/visits",
                "--data",
                f"client_uuid={uuid.uuid4()}&kind=door&visited_at={today}&address=a"
                f"&persons_met=b&summary=c&_csrf_token={grid['csrftoken']}",
                "--cookie",
                cookie_header(grid),
            ],
            "address,persons_met,summary,visited_at,kind",
        ),
        (
            "JSON API POST /api/v1/visits",
            [
                "-u",
                f"{base}/api/v1/visits",
                "--data",
                json.dumps({"client_uuid": str(uuid.uuid4()), "address": "a", "summary": "b"}),
                "--cookie",
                cookie_header(grid),
                "--headers",
                f"x-csrftoken: {grid['csrftoken']}\nContent-Type: application/json",
            ],
            "address,summary",
        ),
        (
            "JSON API GET /api/v1/cases",
            ["-u", f"{base}/api/v1/cases?q=abc&state=x", "--cookie", cookie_header(desk)],
            "q,state",
        ),
    ]


def sqlmap(base: str, workdir: Path, budget: int) -> list[str]:
    # the venv's own (pip install '.[security]', as make security does), else one on PATH
    exe = shutil.which("sqlmap", path=str(Path(sys.executable).parent)) or shutil.which("sqlmap")
    if exe is None:
        return ["sqlmap is not installed (make security installs it): injection scan NOT run"]
    findings = []
    for label, args, params in sqlmap_targets(base):
        out = workdir / f"sqlmap-{re.sub(r'[^a-z]+', '-', label.lower())}"
        code, text = run(
            [
                exe,
                *args,
                "-p",
                params,
                "--batch",
                "--level",
                "2",
                "--risk",
                "1",
                "--dbms",
                "PostgreSQL",
                "--time-sec",
                "2",
                "--timeout",
                "10",
                "--retries",
                "1",
                "--disable-coloring",
                "--output-dir",
                str(out),
            ],
            timeout=budget,
            log=out.with_suffix(".log"),
        )
        vulnerable = re.findall(r"Parameter: .*|is vulnerable|appears to be injectable", text)
        not_injectable = len(re.findall(r"does not seem to be injectable", text))
        verdict = (
            "TIMED OUT (partial)"
            if code is None
            else ("INJECTABLE" if vulnerable else f"{not_injectable} parameter(s) not injectable")
        )
        print(f"  sqlmap {label}: {verdict}", flush=True)
        if vulnerable:
            findings.append(f"sqlmap {label}: " + "; ".join(sorted(set(vulnerable))[:6]))
    return findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples, shorter budgets")
    parser.add_argument("--no-drill", action="store_true", help="skip the PostgreSQL drill")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="fq-security-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"fengqiao dev on {base} (data {data_dir})", flush=True)
    proc = start_dev(data_dir, port)
    findings: list[str] = []
    try:
        if shutil.which("schemathesis") or (BIN / "schemathesis").exists():
            for user in SCHEMATHESIS_USERS:
                findings += schemathesis(
                    base, user, data_dir / f"st-{user}.log", 10 if args.quick else 50
                )
        else:
            findings.append("schemathesis is not installed (pip install '.[security]'): NOT run")
        findings += sqlmap(base, data_dir, 120 if args.quick else 300)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    if not args.no_drill:
        drill = subprocess.run(
            [sys.executable, "-m", "tools.drills.pg_restart"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        line = (drill.stdout.strip().splitlines() or [drill.stderr[-500:]])[-1]
        print(f"  {line}", flush=True)
        if drill.returncode != 0:
            findings.append("PostgreSQL restart drill failed: " + drill.stderr[-800:])
    print("\n== findings ==")
    for f in findings:
        print(" -", f)
    if not findings:
        print(" none")
    print(f"(logs in {data_dir})")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
