"""The shipped nginx configuration passes `nginx -t` on the nginx of the install guide's host
(Debian 12: nginx 1.22), with its paths moved into a temporary directory and a throwaway TLS
certificate (deploy/nginx_check.py). nginx is a test dependency: `make test` installs it
(browser-deps), so this is never skipped; without it the test fails and says how to get it."""

import importlib.util
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
_spec = importlib.util.spec_from_file_location("nginx_check", DEPLOY / "nginx_check.py")
nginx_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nginx_check)


def test_nginx_is_installed_for_the_config_check():
    assert nginx_check.nginx_binary(), (
        "nginx is not installed: `make test` installs it (apt-get install nginx); the shipped "
        "deploy/nginx.conf is checked with `nginx -t`")


def test_the_shipped_nginx_config_passes_nginx_t(tmp_path):
    checked = nginx_check.check(nginx_check.render(tmp_path))
    assert checked.returncode == 0, checked.stderr
    # nginx >= 1.25.1 warns that "listen ... http2" is deprecated; 1.22 knows no other form.
    warnings = [line for line in checked.stderr.splitlines()
                if "[warn]" in line and "http2" not in line]
    assert not warnings, checked.stderr


def test_nginx_t_would_catch_a_broken_config(tmp_path):
    main = nginx_check.render(tmp_path)
    site = tmp_path / "alpharelease.conf"
    site.write_text(site.read_text().replace("proxy_read_timeout 60s;", "proxy_read_timeout;"))
    checked = nginx_check.check(main)
    assert checked.returncode != 0
    assert "proxy_read_timeout" in checked.stderr
