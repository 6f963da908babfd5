"""A stand-in for a web browser, for `$BROWSER`: `python browser_script.py LOG URL` fetches URL, follows its
redirects (the authorize page's 302 to qwen's callback) and appends "STATUS URL-PATH" of the last page and its
body to LOG. Stdlib only: it runs as its own process, as a browser would.

BROWSER_SCRIPT_MODE: "approve" (default) just opens the URL; "forge-first" first visits the callback with a
wrong state (a stale tab, or another program), then the real one; "forge-only" only the wrong one.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit


def visit(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as page:  # noqa: S310 - loopback test servers only
            return page.status, urlsplit(page.url).path, page.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, urlsplit(exc.url).path, exc.read().decode("utf-8", "replace")


def main(log: str, url: str, mode: str) -> None:
    visits = []
    if mode in ("forge-first", "forge-only"):
        callback = parse_qs(urlsplit(url).query)["callback_url"][0]
        visits.append(callback + "?" + urlencode({"code": "forged-code", "state": "not-the-state"}))
    if mode != "forge-only":
        visits.append(url)
    with open(log, "a", encoding="utf-8") as out:
        for target in visits:
            status, path, body = visit(target)
            out.write(f"{status} {path}\n{body}\n")
            out.flush()


if __name__ == "__main__":
    import os

    main(sys.argv[1], sys.argv[2], os.environ.get("BROWSER_SCRIPT_MODE", "approve"))
