"""deploy/nginx.conf and deploy/nginx-proxy.conf, made runnable in a scratch directory: every
host path moved under it, a throwaway TLS certificate, and (for smoke) the ports and the
gunicorn address replaced. Used by tests/operations/test_nginx_config.py (`nginx -t`) and by
make smoke (nginx in front of gunicorn).

    python deploy/nginx_check.py      # nginx -t on the shipped config; exit 1 if it fails
"""

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
HOST = "qc.example-radiopharmacy.org"
UPSTREAM = "http://127.0.0.1:8001"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fullchain.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def render(tmp: Path, *, upstream: str | None = None, http_port: int | None = None,
           https_port: int | None = None) -> Path:
    """The shipped site config under `tmp`, inside a minimal main config like Debian's;
    returns the main config's path."""
    cert, key = self_signed(tmp)
    for folder in ("static", "letsencrypt"):
        (tmp / folder).mkdir(exist_ok=True)
    proxy_conf = (DEPLOY / "nginx-proxy.conf").read_text()
    if upstream:
        assert f"proxy_pass {UPSTREAM};" in proxy_conf, "nginx-proxy.conf: proxy_pass moved"
        proxy_conf = proxy_conf.replace(f"proxy_pass {UPSTREAM};", f"proxy_pass {upstream};")
    proxy = tmp / "alpharelease-proxy.conf"
    proxy.write_text(proxy_conf)
    site = (DEPLOY / "nginx.conf").read_text()
    replacements = {
        "/etc/nginx/alpharelease-proxy.conf": str(proxy),
        f"/etc/ssl/certs/{HOST}.fullchain.pem": str(cert),
        f"/etc/ssl/private/{HOST}.key": str(key),
        "/var/www/letsencrypt": str(tmp / "letsencrypt"),
        "/var/lib/alpharelease/static/": f"{tmp / 'static'}/",
    }
    if http_port:
        replacements.update({"listen 80;": f"listen 127.0.0.1:{http_port};",
                             "listen [::]:80;": ""})
    if https_port:
        replacements.update({"listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
                             "listen [::]:443 ssl http2;": ""})
    for old, new in replacements.items():
        if old not in site:
            raise AssertionError(f"deploy/nginx.conf no longer has {old!r}; update "
                                 "deploy/nginx_check.py")
        site = site.replace(old, new)
    directives = re.sub(r"#.*", "", site)
    left = sorted(set(re.findall(r"(?<![\w$])/(?:etc|var|srv|opt)/[^\s;]+", directives)))
    if left:
        raise AssertionError(f"host paths left in the config under test: {left}")
    (tmp / "alpharelease.conf").write_text(site)
    main = tmp / "nginx.conf"
    temp_paths = "\n".join(f"    {kind}_temp_path {tmp / kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main.write_text(f"""pid {tmp / 'nginx.pid'};
error_log {tmp / 'error.log'};
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp / 'access.log'};
{temp_paths}
    include {tmp / 'alpharelease.conf'};
}}
""")
    return main


def command(main: Path, *args: str) -> list[str]:
    nginx = nginx_binary()
    if nginx is None:
        raise FileNotFoundError("nginx is not installed (apt-get install nginx; make test and "
                                "make smoke install it)")
    return [nginx, "-p", str(main.parent), "-e", str(main.parent / "error.log"),
            "-c", str(main), *args]


def check(main: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on the rendered config."""
    return subprocess.run(command(main, "-t", "-q"), capture_output=True, text=True, timeout=30)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        done = check(render(Path(scratch)))
    print(done.stderr.strip() or "nginx -t: deploy/nginx.conf is valid")
    sys.exit(done.returncode)
