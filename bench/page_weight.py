"""Page weight of the grid worker's form page and its Lighthouse mobile performance score.

``measure(base_url, cookies, tmp)`` opens ``/visits/new`` logged in, in a fresh Chromium profile
(``/usr/bin/chromium`` through Playwright), and sums the bytes transferred (``encodedDataLength``
from the DevTools protocol: compressed bodies plus headers) of every request the page makes;
the service worker's own precache fetches are counted apart (Playwright reports them on the
context). Then it runs Lighthouse (npm ``lighthouse``, installed on demand under
``/tmp/fq-lighthouse``, never into the repository) with the session cookie in
``--extra-headers``.

Used by ``bench.load_bench`` against the server it started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
LIGHTHOUSE_DIR = Path(os.environ.get("FENGQIAO_LIGHTHOUSE_DIR", "/tmp/fq-lighthouse"))
LIGHTHOUSE_VERSION = "12"
PAGE = "/visits/new"


def _kind(url: str, resource_type: str) -> str:
    path = url.split("?", 1)[0]
    if path.endswith(".css"):
        return "css"
    if path.endswith(".js"):
        return "js"
    if path.endswith((".png", ".svg", ".ico", ".webp")):
        return "icons"
    if path.endswith(".webmanifest"):
        return "manifest"
    if resource_type == "Document":
        return "html"
    return "other"


def transfer(base_url: str, cookies: dict[str, str]) -> dict:
    """Bytes transferred on a first load of the form page (fresh profile, gzip accepted)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            context.add_cookies(
                [{"name": k, "value": v, "url": base_url} for k, v in cookies.items()]
            )
            sw_bytes = 0
            sw_requests = 0

            def on_finished(request) -> None:
                nonlocal sw_bytes, sw_requests
                if request.service_worker is not None:
                    sizes = request.sizes()
                    sw_bytes += sizes["responseBodySize"] + sizes["responseHeadersSize"]
                    sw_requests += 1

            context.on("requestfinished", on_finished)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            seen: dict[str, dict] = {}

            def on_response(event: dict) -> None:
                response = event["response"]
                headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
                seen[event["requestId"]] = {
                    "url": response["url"],
                    "type": event.get("type", ""),
                    "encoding": headers.get("content-encoding", ""),
                    "from_sw": response.get("fromServiceWorker", False),
                }

            def on_data(event: dict) -> None:
                if event["requestId"] in seen:
                    item = seen[event["requestId"]]
                    item["decoded"] = item.get("decoded", 0) + event["dataLength"]

            def on_finished_cdp(event: dict) -> None:
                if event["requestId"] in seen:
                    seen[event["requestId"]]["bytes"] = event["encodedDataLength"]

            cdp.on("Network.responseReceived", on_response)
            cdp.on("Network.dataReceived", on_data)
            cdp.on("Network.loadingFinished", on_finished_cdp)
            response = page.goto(base_url + PAGE, wait_until="networkidle")
            if response is None or response.status != 200 or "/login" in page.url:
                raise RuntimeError(f"{PAGE} did not open logged in (at {page.url})")
            page.wait_for_timeout(2000)  # the service worker installs and precaches
        finally:
            browser.close()
    by_type: dict[str, int] = {}
    uncompressed = []
    total = 0
    for item in seen.values():
        size = item.get("bytes", 0)
        if item["url"].startswith("data:"):
            continue
        kind = _kind(item["url"], item["type"])
        by_type[kind] = by_type.get(kind, 0) + size
        total += size
        textual = kind in ("html", "css", "js", "manifest")
        # Below Litestar's minimum_size (500 bytes) gzip is skipped on purpose.
        if textual and not item["encoding"] and item.get("decoded", 0) > 500:
            uncompressed.append(item["url"].replace(base_url, ""))
    return {
        "page_bytes": total,
        "page_requests": len(seen),
        "by_type": dict(sorted(by_type.items())),
        "uncompressed": uncompressed,
        "sw_bytes": sw_bytes if sw_requests else None,
        "sw_requests": sw_requests,
    }


def _lighthouse_cli() -> Path | None:
    cli = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
    if cli.exists():
        return cli
    if not shutil.which("npm"):
        return None
    LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(LIGHTHOUSE_DIR),
            f"lighthouse@{LIGHTHOUSE_VERSION}",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return cli if cli.exists() else None


def lighthouse(base_url: str, cookies: dict[str, str], tmp: Path) -> dict:
    """Lighthouse's mobile performance category for the form page, or why it could not run."""
    if not shutil.which("node"):
        return {"error": "node is not installed"}
    try:
        cli = _lighthouse_cli()
    except (subprocess.SubprocessError, OSError) as e:
        return {"error": f"npm install lighthouse failed: {e}"}
    if cli is None:
        return {"error": "npm is not installed"}
    out = tmp / "lighthouse.json"
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    argv = [
        "node",
        str(cli),
        base_url + PAGE,
        "--only-categories=performance",
        "--output=json",
        f"--output-path={out}",
        "--quiet",
        "--chrome-flags=--headless=new --no-sandbox",
        "--extra-headers=" + json.dumps({"Cookie": cookie}),
    ]
    done = subprocess.run(
        argv,
        env=dict(os.environ, CHROME_PATH=CHROMIUM),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 or not out.exists():
        return {"error": f"lighthouse exited {done.returncode}: {done.stderr.strip()[-500:]}"}
    report = json.loads(out.read_text())
    audits = report["audits"]
    if report.get("finalDisplayedUrl", "").split("?")[0].endswith("/login"):
        return {"error": "Lighthouse was redirected to /login (cookie not accepted)"}
    score = report["categories"]["performance"]["score"]
    if score is None:
        return {"error": "no performance score: " + str(report.get("runtimeError"))}
    return {
        "score": score * 100,
        "fcp": audits["first-contentful-paint"]["displayValue"],
        "lcp": audits["largest-contentful-paint"]["displayValue"],
        "tbt": audits["total-blocking-time"]["displayValue"],
        "cls": audits["cumulative-layout-shift"]["displayValue"],
        "version": report.get("lighthouseVersion", "?"),
        "url": report.get("finalDisplayedUrl", ""),
    }


def measure(base_url: str, cookies: dict[str, str], tmp: Path) -> dict:
    """Transfer sizes and the Lighthouse result together."""
    result = transfer(base_url, cookies)
    result["lighthouse"] = lighthouse(base_url, cookies, tmp)
    return result
