"""What the queue server and the public relay both serve to residents, written once: the ticket
page's service worker headers.

The relay cannot import the queue server (三層分離, an import-linter contract), and the two must
not drift: a worker served with another scope header on the relay would break only there.
"""

from __future__ import annotations

#: The ticket page's service worker (`/sw.js`): it may take any ticket page as its scope, and
#: as a worker it loads nothing and talks only to its own origin.
SERVICE_WORKER_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; connect-src 'self'",
    "Service-Worker-Allowed": "/t/",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
SERVICE_WORKER_TYPE = "text/javascript; charset=utf-8"
