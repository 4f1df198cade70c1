"""Production is secure by default: the settings a server starts with when JUECE_DEBUG is off, read in their own
processes (as a server would), and a real gunicorn serving the sign-in page and the static files behind a TLS proxy.

Every process here gets a production environment of its own: no JUECE_… variable of the test run leaks in."""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOST = "juece.example.gov.cn"
# Static files the sign-in page does not use are left out, so that collecting takes seconds, not minutes:
# viewflow's charts and icon sets, the API docs' assets, the admin's and DRF's own pages, source maps.
COLLECT_IGNORE = ["contrib", "simple-icons", "drf_spectacular_sidecar", "rest_framework", "admin", "*.map"]


def production_env(tmp_path, **overrides):
    env = {name: value for name, value in os.environ.items() if not name.startswith("JUECE_")}
    env.pop("DATABASE_URL", None)
    env.update(
        JUECE_SECRET_KEY=secrets.token_urlsafe(50),
        JUECE_AUDIT_KEY=secrets.token_urlsafe(32),
        JUECE_DATA_KEY=secrets.token_hex(32),
        JUECE_ALLOWED_HOSTS=HOST,
        JUECE_SITE_URL=f"https://{HOST}",
        JUECE_VAR_DIR=str(tmp_path / "var"),
        JUECE_STATIC_ROOT=str(tmp_path / "static"),
    )
    env.update(overrides)
    return env


def manage(tmp_path, *args, **overrides):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=300,
    )


def settings_of(tmp_path, *names, **overrides):
    """The values of settings `names` as a server with this environment would have them."""
    script = (
        "import json, sys, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({name: getattr(settings, name, None) for name in sys.argv[1:]}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=ROOT,
        env={**production_env(tmp_path, **overrides), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_are_https_only_by_default(tmp_path):
    found = settings_of(
        tmp_path,
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "CSRF_TRUSTED_ORIGINS",
        "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY",
        "STORAGES",
        "CACHES",
    )
    assert found["DEBUG"] is False
    assert found["SESSION_COOKIE_SECURE"] and found["CSRF_COOKIE_SECURE"] and found["SESSION_COOKIE_HTTPONLY"]
    assert found["SECURE_HSTS_SECONDS"] == 31536000 and found["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert found["SECURE_HSTS_PRELOAD"] is False  # only when asked for
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SECURE_PROXY_SSL_HEADER"] is None  # trusting X-Forwarded-Proto is a choice, never a default
    assert found["CSRF_TRUSTED_ORIGINS"] == [f"https://{HOST}"]
    assert found["X_FRAME_OPTIONS"] == "DENY" and found["SECURE_REFERRER_POLICY"] == "same-origin"
    assert found["STORAGES"]["staticfiles"]["BACKEND"] == "config.storage.StaticFilesStorage"
    assert found["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_local_trial_over_plain_http_turns_https_off_explicitly(tmp_path):
    found = settings_of(
        tmp_path,
        "SESSION_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        JUECE_HTTPS="false",
        JUECE_SITE_URL="http://127.0.0.1:8000",
    )
    assert found == {"SESSION_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0, "SECURE_SSL_REDIRECT": False}


def test_behind_a_tls_proxy_the_forwarded_protocol_is_trusted(tmp_path):
    found = settings_of(tmp_path, "SECURE_PROXY_SSL_HEADER", "REST_FRAMEWORK", JUECE_BEHIND_PROXY="true")
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["REST_FRAMEWORK"]["NUM_PROXIES"] == 1  # the API's throttle counts the address the proxy appended


def test_without_a_proxy_no_forwarded_address_is_believed(tmp_path):
    found = settings_of(tmp_path, "SECURE_PROXY_SSL_HEADER", "REST_FRAMEWORK")
    assert found["SECURE_PROXY_SSL_HEADER"] is None
    assert found["REST_FRAMEWORK"]["NUM_PROXIES"] == 0  # DRF's default (None) would take a client's own header


def test_the_deployment_check_finds_nothing_to_warn_about(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", JUECE_HSTS_PRELOAD="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_check_warns_when_https_is_switched_off(tmp_path):
    # The check must be able to fail: a production server on plain http is warned about.
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", JUECE_HTTPS="false")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W012" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JUECE_HSTS_SECONDS", "one year", "JUECE_HSTS_SECONDS must be a whole number, got 'one year'"),
        ("JUECE_HSTS_SECONDS", "-1", "JUECE_HSTS_SECONDS must not be negative"),
        ("JUECE_HTTPS", "sometimes", "JUECE_HTTPS must be true or false"),
        ("JUECE_CSRF_TRUSTED_ORIGINS", HOST, "JUECE_CSRF_TRUSTED_ORIGINS must be origins such as https://"),
        ("JUECE_CACHE_URL", "memcached://127.0.0.1:11211", "JUECE_CACHE_URL must be a Redis URL"),
    ],
)
def test_a_bad_value_stops_the_server_with_a_clear_message(tmp_path, name, value, message):
    result = manage(tmp_path, "check", **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def redis_reachable():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_reachable(), reason="needs Redis on 127.0.0.1:6379")
def test_with_a_cache_url_every_server_counts_in_the_same_redis(tmp_path):
    cache_url = os.environ.get("JUECE_TEST_CACHE_URL", "redis://127.0.0.1:6379/1")
    key = f"test-shared-{secrets.token_hex(4)}"
    one_server = "import django, sys; django.setup(); from django.core.cache import cache; "
    env = {**production_env(tmp_path, JUECE_CACHE_URL=cache_url), "DJANGO_SETTINGS_MODULE": "config.settings"}

    def run(code):
        result = subprocess.run(
            [sys.executable, "-c", one_server + code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    run(f"cache.set({key!r}, 3, 60)")  # one server counts three comments…
    assert run(f"print(cache.incr({key!r})); cache.delete({key!r})") == "4"  # …and the next server sees them


# -- a real gunicorn ---------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn serving config.wsgi with production settings behind a TLS proxy, after collectstatic.

    The sign-in page needs no table, so no migration is run: it would take longer than everything else here."""
    env = production_env(tmp_path, JUECE_BEHIND_PROXY="true")
    ignored = [arg for pattern in COLLECT_IGNORE for arg in ("-i", pattern)]
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", *ignored],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    pytest.fail(f"gunicorn did not start:\n{server.stdout.read()}")
                time.sleep(0.2)
        yield port, Path(env["JUECE_STATIC_ROOT"])
    finally:
        server.terminate()
        server.wait(timeout=30)


def get(port, path, **headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers={"Host": HOST, **headers})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_gunicorn_serves_https_only_pages_and_long_cached_compressed_static_files(gunicorn):
    port, static_root = gunicorn

    # Plain http (no proxy said https): sent to https.
    response, _ = get(port, "/accounts/login/")
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/accounts/login/"

    # Through the TLS proxy: the page, with HSTS, the Content-Security-Policy and a secure CSRF cookie.
    response, body = get(port, "/accounts/login/", **{"X-Forwarded-Proto": "https"})
    assert response.status == 200, body[:2000]
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
    policy = response.getheader("Content-Security-Policy")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.getheader("X-Frame-Options") == "DENY"
    assert "Secure" in response.getheader("Set-Cookie") and "csrftoken" in response.getheader("Set-Cookie")

    # The page links the hashed name of each static file; that file comes gzipped and cached for good.
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    css = "/static/" + manifest["viewflow/css/viewflow.min.css"]
    assert css.encode() in body
    response, body = get(port, css, **{"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    cache_control = response.getheader("Cache-Control")
    assert "immutable" in cache_control and "max-age=315360000" in cache_control

    # viewflow's copy of roboto-fontface.css names fonts it does not ship: collected, with those names as written.
    broken = manifest["viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/roboto-fontface.css"]
    assert "Roboto-Bold.woff2" in (static_root / broken).read_text()
