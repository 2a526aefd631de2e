"""The app under browser test: the real app plus one test-only hook.

``python -m tests.browser.server_app --port N`` serves ``app.main:create_app`` and
``POST /test/deploy``, which simulates the deploy of a new service-worker version (its version
string changes; no file does), so a test can watch the phone pick up an update.
"""

from __future__ import annotations

import argparse

from litestar import post

_deploys = [0]


@post("/test/deploy", opt={"scope": "public", "exclude_from_csrf": True},
      include_in_schema=False, status_code=200)
async def deploy() -> dict:
    """Simulate a deploy of a new service worker: its version changes, nothing else does."""
    _deploys[0] += 1
    return {"deploys": _deploys[0]}


def create_app():
    from app.main import create_app as real
    from app.routes import pwa

    original = pwa.sw_version

    def version() -> str:
        return original() if not _deploys[0] else f"{original()[:8]}d{_deploys[0]:03d}"

    pwa.sw_version = version
    app = real()
    app.register(deploy)
    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run("tests.browser.server_app:create_app", factory=True, host="127.0.0.1",
                port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
