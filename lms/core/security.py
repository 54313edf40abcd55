"""HTTP security headers on every response, and the session cookie's flags.

One ``after_request`` hook, so every response kind (pages, the JSON API, the LRS, webhooks,
package files, PDFs, static files, error pages) gets the same baseline; a view that needs a
different Content-Security-Policy (the package files, which Relais frames itself) sets its own
and this hook leaves it alone. See docs/security.md.
"""

from __future__ import annotations

from flask import Flask, Request, Response, current_app, g
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

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

    baseline = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", referrer),
                ("Permissions-Policy", PERMISSIONS_POLICY),
                ("Cross-Origin-Opener-Policy", "same-origin")]
    if hsts:
        baseline.append(("Strict-Transport-Security", hsts))

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # Which headers the view set, read once: Werkzeug's setdefault scans every header
        # for each name (a tenth of a small LRS request's CPU went into this hook).
        present = {name.lower(): value for name, value in headers}
        csp = present.get("content-security-policy")
        if csp is None:
            html = response.mimetype in ("text/html", "application/xhtml+xml")
            page_csp = FORMS_MAY_LEAVE_CSP if g.get("relais_forms_may_leave") else PAGE_CSP
            csp = page_csp if html else OTHER_CSP
            headers.add("Content-Security-Policy", csp)
        # For browsers that predate frame-ancestors; the package files allow their own origin.
        missing = [("X-Frame-Options",
                    "SAMEORIGIN" if "frame-ancestors 'self'" in csp else "DENY")] + baseline
        headers.extend([(name, value) for name, value in missing
                        if name.lower() not in present])
        return response


class _Unsaved(SecureCookieSession):
    """An empty session that is never saved (see :class:`_SessionInterface`)."""


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except under the prefixes of machine surfaces that
    authenticate every request themselves (the LRS): there the cookie is neither read nor
    written; the request sees an empty session, and whatever is put in it is dropped.
    """

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        self.prefixes = prefixes

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session under the prefixes; else the cookie's."""
        if request.path.startswith(self.prefixes):
            return _Unsaved()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Nothing under the prefixes; else the signed cookie."""
        if not isinstance(session, _Unsaved):
            super().save_session(app, session, response)


def without_cookie_session(app: Flask, prefix: str) -> None:
    """Let requests under ``prefix`` (a path ending in ``/``) skip the cookie session: no
    login cookie opens anything there, and checking and re-signing a cookie nobody reads
    costs every request of a surface that serves thousands a second.
    """
    current = app.session_interface
    prefixes = current.prefixes if isinstance(current, _SessionInterface) else ()
    app.session_interface = _SessionInterface((*prefixes, prefix))
