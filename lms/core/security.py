"""HTTP security headers on every response, and the session cookie's flags.

One ``after_request`` hook, so every response kind (pages, the JSON API, the LRS, webhooks,
package files, PDFs, static files, error pages) gets the same baseline; a view that needs a
different Content-Security-Policy (the package files, which Relais frames itself) sets its own
and this hook leaves it alone. See docs/security.md.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g

# Pages: scripts only from Relais' own static files (no inline script, no event handler
# attributes). Inline styles stay allowed: a few pages size chart bars with a style attribute,
# and a style cannot run code. Lessons may show images from other https sites (Markdown).
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: https:; font-src 'self'; connect-src 'self'; media-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-src 'self'; "
            "frame-ancestors 'none'")
# A page whose form is sent on to another site: the login page's "company account" step posts
# to Relais, which redirects to the company's identity provider, and form-action also governs
# that redirect. Which provider, only the e-mail typed there says; the form is CSRF-protected.
FORMS_MAY_LEAVE_CSP = PAGE_CSP.replace("form-action 'self'; ", "")
# Everything else (JSON, CSV, PDF, images, CSS): nothing may run or be loaded from it. (No
# ``sandbox``: Chromium refuses to show a sandboxed PDF.)
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"
# Browser features no Relais page uses.
PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                      "serial=(), bluetooth=(), midi=(), magnetometer=(), gyroscope=(), "
                      "accelerometer=(), browsing-topics=()")


def is_https(app: Flask | None = None) -> bool:
    """Whether the instance (``app``, by default the current one) is served over https (its
    BASE_URL says so).
    """
    return str((app or current_app).config["BASE_URL"]).lower().startswith("https://")


def let_forms_leave() -> str:
    """Let this page's forms lead to another site (single sign-on); for templates, returns
    an empty string.
    """
    g.relais_forms_may_leave = True
    return ""


def init_app(app: Flask) -> None:
    """Set the cookie flags from BASE_URL and register the header hook on ``app``."""
    app.jinja_env.globals["let_forms_leave"] = let_forms_leave
    https = is_https(app)
    # An explicit setting wins; otherwise the cookie is Secure exactly when Relais is on https.
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:
            app.config[key] = https
    hsts = None
    if https and app.config["HSTS_MAX_AGE"]:
        hsts = f"max-age={int(app.config['HSTS_MAX_AGE'])}"
        if app.config["HSTS_INCLUDE_SUBDOMAINS"]:
            hsts += "; includeSubDomains"
    referrer = app.config["REFERRER_POLICY"]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            html = response.mimetype in ("text/html", "application/xhtml+xml")
            page_csp = FORMS_MAY_LEAVE_CSP if g.get("relais_forms_may_leave") else PAGE_CSP
            headers["Content-Security-Policy"] = page_csp if html else OTHER_CSP
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # For browsers that predate frame-ancestors; the package files allow their own origin.
        csp = headers["Content-Security-Policy"]
        headers.setdefault("X-Frame-Options",
                           "SAMEORIGIN" if "frame-ancestors 'self'" in csp else "DENY")
        headers.setdefault("Referrer-Policy", referrer)
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if hsts:
            headers.setdefault("Strict-Transport-Security", hsts)
        return response
