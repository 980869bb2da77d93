"""Production settings and the browser-facing security headers.

- `manage.py check --deploy` with config.settings.production and a realistic environment (as
  docs.txt section 3 sets it up, TLS redirect on, and the compose variant where the proxy
  redirects) reports nothing, warnings included.
- The production settings refuse a missing, short, placeholder or development secret key, and
  ALLOWED_HOSTS = '*'; DEBUG is off whatever DJANGO_DEBUG says; cookies are Secure; HSTS.
- Every response carries X-Frame-Options DENY, nosniff, Referrer-Policy, COOP,
  Permissions-Policy and, with the production settings, a Content-Security-Policy (the API docs
  and the admin a relaxed one; local and test settings send none: the browser tests inject
  their accessibility checker as an inline script); no CORS headers for any origin (no CORS
  package is installed: browsers keep other sites from reading the API).
- In headless Chromium, the built web client (chat with posters, Explore), the API docs and the
  admin run under their policies without a single CSP violation; an injected inline script is
  blocked (the policy is in force).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BACKEND = REPO / "backend"
FRONTEND = REPO / "frontend"
DIST = FRONTEND / "dist"


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """The environment of a real deployment (docs.txt section 3), without this machine's own
    Marquee or Django variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "MARQUEE_", "DATABASE_", "CACHE_", "QDRANT_", "CHAT_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS="marquee.example.com",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://marquee.example.com",
        MARQUEE_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=os.pathsep.join([str(REPO), str(BACKEND)]),
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=BACKEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- manage.py check --deploy -------------------------------------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [{}, {"DJANGO_SECURE_SSL_REDIRECT": "false"}],
    ids=["https redirect by Django", "docker compose: the proxy redirects"],
)
def test_check_deploy_reports_nothing(tmp_path, overrides, report):
    env = production_env(tmp_path, **overrides)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BACKEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    report.summary("production settings", f"check --deploy ({overrides or 'defaults'}): no issues")


# --- what the production settings refuse and set --------------------------------------------------
_LOAD_SETTINGS = """
    import json
    from django.core.exceptions import ImproperlyConfigured
    try:
        from config.settings import production as s
    except ImproperlyConfigured as exc:
        print(json.dumps({"refused": str(exc)}))
    else:
        print(json.dumps({name: getattr(s, name) for name in (
            "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
            "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY",
            "CONTENT_SECURITY_POLICY", "INSTALLED_APPS", "MIDDLEWARE")}))
"""


def load_production_settings(tmp_path: Path, **overrides: str | None) -> dict:
    result = run_python(_LOAD_SETTINGS, production_env(tmp_path, **overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "short-but-random-9f3k",
        "marquee-local-development-key-not-for-production",
        "marquee-test-key-that-is-long-enough-to-pass-the-length",
        "django-insecure-" + "k" * 8 + secrets.token_urlsafe(30),
        "x" * 64,
        "abababababababababababababababababab",
    ],
    ids=[
        "unset",
        "empty",
        "short",
        "local default",
        "test key",
        "django-insecure",
        "one character",
        "two characters",
    ],
)
def test_a_missing_or_weak_secret_key_is_refused(tmp_path, key):
    loaded = load_production_settings(tmp_path, DJANGO_SECRET_KEY=key)
    assert "DJANGO_SECRET_KEY must be set" in loaded.get("refused", ""), loaded


def test_a_wildcard_allowed_host_is_refused(tmp_path):
    loaded = load_production_settings(tmp_path, DJANGO_ALLOWED_HOSTS="*")
    assert "DJANGO_ALLOWED_HOSTS" in loaded.get("refused", ""), loaded


def test_production_settings_harden_cookies_transport_and_headers(tmp_path):
    loaded = load_production_settings(tmp_path, DJANGO_DEBUG="true")
    assert loaded["DEBUG"] is False  # whatever DJANGO_DEBUG says
    assert loaded["ALLOWED_HOSTS"] == ["marquee.example.com"]
    assert loaded["CSRF_TRUSTED_ORIGINS"] == ["https://marquee.example.com"]
    assert loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"]
    assert loaded["SESSION_COOKIE_HTTPONLY"]
    assert loaded["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and loaded["SECURE_SSL_REDIRECT"]
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["X_FRAME_OPTIONS"] == "DENY" and loaded["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert loaded["SECURE_REFERRER_POLICY"] == "same-origin"
    assert "common.middleware.SecurityHeadersMiddleware" in loaded["MIDDLEWARE"]
    assert directives(loaded["CONTENT_SECURITY_POLICY"])["script-src"] == "'self'"
    # No CORS package: nothing can answer another origin's preflight.
    assert not any(
        "cors" in name.lower() for name in loaded["INSTALLED_APPS"] + loaded["MIDDLEWARE"]
    )


_PRODUCTION_RESPONSES = """
    import json
    import django
    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()
    host = {"HTTP_HOST": "marquee.example.com"}
    client = Client()
    out = {}
    plain = client.get("/api/health/", **host)
    out["plain"] = [plain.status_code, plain.headers.get("Location", "")]
    secure = client.get("/", secure=True, **host)
    out["spa"] = [secure.status_code, dict(secure.headers)]
    login = client.get("/admin/login/", secure=True, **host)
    cookie = login.cookies.get("csrftoken")
    out["csrf_cookie"] = {"secure": bool(cookie and cookie["secure"]),
                          "samesite": cookie["samesite"] if cookie else None}
    other = client.get("/", secure=True, HTTP_HOST="evil.example")
    out["other_host"] = other.status_code
    print(json.dumps(out))
"""


def test_production_responses_redirect_to_https_and_carry_hsts(tmp_path):
    index = tmp_path / "dist" / "index.html"
    index.parent.mkdir()
    index.write_text('<!doctype html><div id="root"></div>')
    env = production_env(tmp_path, FRONTEND_DIST=str(index.parent))
    result = run_python(_PRODUCTION_RESPONSES, env)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["plain"][0] == 301 and out["plain"][1].startswith("https://marquee.example.com/")
    status, headers = out["spa"]
    assert status == 200, out
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert out["csrf_cookie"] == {"secure": True, "samesite": "Lax"}, out
    assert out["other_host"] == 400  # ALLOWED_HOSTS


# --- headers of every response (the middleware is in the base settings) ------------------------
SPA_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: https://image.tmdb.org",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: (rest[0] if rest else "") for name, *rest in parts}


@pytest.fixture
def spa(settings, tmp_path):
    (tmp_path / "index.html").write_text('<!doctype html><div id="root"></div>')
    settings.FRONTEND_DIST = tmp_path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/explore",
        "/api/health/",
        "/api/movies/?limit=1",
        "/nothing/here/",
        "/api/docs/",
        "/admin/login/",
    ],
)
def test_every_response_carries_the_security_headers(
    production_csp, client, spa, use_fake_embedder, index_path, path
):
    response = client.get(path)
    assert response.status_code in (200, 302, 404), response.status_code
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    policy = directives(response["Content-Security-Policy"])
    if path.startswith(("/api/docs/", "/admin/")):
        assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
        assert policy["style-src"] == "'self' 'unsafe-inline'"
    else:
        for name, value in SPA_DIRECTIVES.items():
            assert policy[name] == value, (name, policy)
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_the_api_docs_page_runs_no_inline_script(client):
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page and "<script src=" in page  # drf-spectacular's split view
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert script["Content-Type"].startswith("application/javascript")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/health/", {}),
        ("GET", "/api/movies/?limit=1", {}),
        (
            "OPTIONS",
            "/api/chat/",
            {
                "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
                "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type",
            },
        ),
        ("OPTIONS", "/api/movies/", {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}),
    ],
)
def test_no_cors_headers_for_other_origins(
    client, use_fake_embedder, index_path, method, path, headers
):
    response = client.generic(method, path, HTTP_ORIGIN="https://evil.example", **headers)
    assert response.status_code < 500
    cors = [name for name in response.headers if name.lower().startswith("access-control-")]
    assert cors == [], cors


@pytest.mark.django_db
def test_a_cross_site_form_post_cannot_start_a_chat_turn(
    client, chat_client, stub_router, index_path
):
    """The one request another site can make a browser send without a preflight ("simple":
    text/plain or a form) is refused: the chat reads JSON only."""
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(
            "/api/chat/",
            data=b'{"message": "a comedy"}',
            content_type=content_type,
            HTTP_ORIGIN="https://evil.example",
        )
        assert response.status_code == 415, response.content
    assert chat_client.enrich_calls == [] and chat_client.chat_calls == []


# --- the policies in a real browser ---------------------------------------------------------------
BROWSER_SCRIPT = r"""
const { launchChromium } = await import(process.env.CHROMIUM_MODULE);
const BASE = process.env.BASE_URL;
// A 1×1 PNG for two posters in three; the third fails, so placeholders show too.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64");
const browser = await launchChromium();
const out = { pages: {} };

async function visit(name, path, act) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  let posters = 0;
  await context.route(/^https:\/\/image\.tmdb\.org\//, (route) => {
    posters += 1;
    if (posters % 3 === 0) return route.abort();
    return route.fulfill({ status: 200, contentType: "image/png", body: PNG });
  });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__violations.push(
        `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:` +
          `${e.lineNumber}`,
      ));
  });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  const messages = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) messages.push(m.text());
  });
  page.on("pageerror", (e) => messages.push(`uncaught: ${e.message}`));
  const response = await page.goto(BASE + path, { waitUntil: "load" });
  const policy = response.headers()["content-security-policy"] || "";
  let detail = {};
  try {
    detail = (await act(page)) || {};
  } catch (error) {
    detail = { error: String(error) };
  }
  await page.waitForTimeout(300);
  const violations = await page.evaluate(() => window.__violations);
  const status = response.status();
  out.pages[name] = { status, policy, violations, messages, posters, ...detail };
  await context.close();
}

await visit("chat", "/", async (page) => {
  await page.getByLabel("Message", { exact: true }).fill("a feel-good animated film for kids");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  const cards = page.getByRole("region", { name: "Films" }).getByRole("article");
  await cards.first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll("img.poster").length > 0 &&
    [...document.querySelectorAll("img.poster")].some((i) => i.complete && i.naturalWidth > 0));
  await page.locator(".message-assistant .message-text").last().waitFor();
  return {
    cards: await cards.count(),
    loadedPosters: await page.evaluate(
      () => [...document.querySelectorAll("img.poster")].filter((i) => i.naturalWidth > 0).length,
    ),
    placeholders: await page.locator(".poster-placeholder").count(),
  };
});

await visit("explore", "/explore", async (page) => {
  await page.waitForFunction(() => {
    const canvas = document.querySelector("canvas");
    return canvas && canvas.width > 1 && canvas.getBoundingClientRect().width > 100;
  });
  const box = await page.locator("canvas").boundingBox();
  for (let i = 0; i < 5; i++) {
    await page.mouse.move(box.x + box.width * (0.3 + i * 0.1), box.y + box.height * 0.5);
  }
  return { canvas: true };
});

await visit("api docs", "/api/docs/", async (page) => {
  await page.locator(".swagger-ui .opblock").first().waitFor();
  await page.locator(".swagger-ui .opblock-summary").first().click();
  await page.locator(".swagger-ui .opblock-body").first().waitFor();
  return { operations: await page.locator(".swagger-ui .opblock").count() };
});

await visit("admin login", "/admin/login/", async (page) => {
  await page.locator("#login-form").waitFor();
  return {};
});

// The control: an inline script injected into the chat page must be blocked and reported.
await visit("inline script (must be blocked)", "/", async (page) => {
  await page.getByLabel("Message", { exact: true }).waitFor();
  const ran = await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__inlineRan = true";
    document.body.appendChild(script);
    return window.__inlineRan === true;
  });
  return { ran };
});

await browser.close();
console.log(JSON.stringify(out));
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_built_client_docs_and_admin_run_under_their_csp_in_chromium(
    production_csp,
    live_server,
    demo_catalog,
    chat_client,
    stub_router,
    use_fake_embedder,
    tmp_path,
    report,
):
    node = shutil.which("node")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (DIST / "index.html").is_file():
        pytest.fail(
            "frontend/dist/index.html is missing: build the web client with `make frontend`"
        )
    if node is None or not (FRONTEND / "node_modules" / "playwright-core").is_dir():
        pytest.fail("node or frontend/node_modules/playwright-core is missing: `make frontend`")
    if not os.access(chromium, os.X_OK):
        pytest.fail(f"Chromium not found at {chromium}: run `make browser` (or set CHROMIUM)")
    chat_client.reply = "Try Spirited Away tonight."
    script = tmp_path / "csp.mjs"
    script.write_text(BROWSER_SCRIPT)
    env = {
        **os.environ,
        "BASE_URL": live_server.url,
        "CHROMIUM_MODULE": (FRONTEND / "e2e" / "chromium.mjs").as_uri(),
    }
    result = subprocess.run(
        [node, str(script)], cwd=FRONTEND, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    pages = json.loads(result.stdout.strip().splitlines()[-1])["pages"]

    control = pages.pop("inline script (must be blocked)")
    assert control["ran"] is False and control["violations"], control
    assert any("script-src" in v for v in control["violations"]), control

    for name, page in pages.items():
        assert "error" not in page, (name, page)
        assert page["status"] == 200, (name, page)
        assert "script-src 'self'" in page["policy"], (name, page["policy"])
        assert page["violations"] == [] and page["messages"] == [], (name, page)
    chat = pages["chat"]
    assert chat["cards"] > 0 and chat["loadedPosters"] > 0 and chat["placeholders"] > 0, chat
    assert pages["api docs"]["operations"] >= 10, pages["api docs"]
    report.summary(
        "csp in chromium",
        f"{len(pages)} pages (chat with {chat['cards']} cards, {chat['loadedPosters']} posters "
        f"from image.tmdb.org and {chat['placeholders']} placeholders; Explore; API docs with "
        f"{pages['api docs']['operations']} operations; admin login): 0 violations; an injected "
        "inline script blocked",
    )
