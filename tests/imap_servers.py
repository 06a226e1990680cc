"""Real IMAP servers for the tests of ``drsparse fetch`` and ``watch``, on loopback ports.

* pymap (pure Python, from the test extra), started from ``tests/pymap_server.py`` with its
  maildir backend in a temporary folder, so that its mail outlives a restart. One process
  speaks plain text (login allowed without TLS) on one port and TLS from the first byte on
  another; one with ``tls=True`` offers STARTTLS instead (and refuses a login before it).
* Dovecot, where ``DRSPARSE_DOVECOT=1`` (``.ci/run`` installs it from Debian's packages when
  it runs as root): one process with a throwaway configuration, plain text and STARTTLS on
  one port, TLS on another.

The certificates come from :func:`make_certificates`: a CA made for the test run and a server
certificate it signed for 127.0.0.1 and localhost.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from tests.helpers import ROOT

HOST = "127.0.0.1"
USER = "robot"
PASSWORD = "s3cret robot"  # a space: the password is quoted on the way, not split
#: Set (to 1) where Dovecot is installed and the tests are to run against it too (CI).
DOVECOT = os.environ.get("DRSPARSE_DOVECOT") == "1"


class Certificates(NamedTuple):
    ca: Path
    cert: Path
    key: Path
    #: Another CA, which signed nothing the servers show.
    other_ca: Path


def make_certificates(folder: Path) -> Certificates:
    """A CA and a server certificate it signed for 127.0.0.1 and localhost (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def certificate(
        subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
                ),
                critical=False,
            ).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("drsparse test CA", ca_key, "drsparse test CA", ca_key, ca=True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = certificate("another CA", other_key, "another CA", other_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = certificate("localhost", server_key, "drsparse test CA", ca_key, ca=False)
    paths = Certificates(
        folder / "ca.pem", folder / "server.pem", folder / "server.key", folder / "other-ca.pem"
    )
    paths.ca.write_bytes(pem(ca))
    paths.other_ca.write_bytes(pem(other))
    paths.cert.write_bytes(pem(server))
    paths.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_greeting(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server on ``port`` says its ``* OK`` (or has died: its log says why)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the IMAP server exited: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection((HOST, port), timeout=2) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the IMAP server on port {port} did not answer in 30 s")


class Server:
    """One IMAP server process (or its configuration, while it is stopped)."""

    kind = ""
    #: Plain text, login allowed: imap:// with --insecure (None: not offered).
    plain_port: int | None = None
    #: STARTTLS offered (may be the plain port).
    starttls_port: int | None = None
    #: TLS from the first byte: imaps://.
    imaps_port: int | None = None

    def __init__(self, folder: Path, certificates: Certificates) -> None:
        self.folder = folder
        self.certificates = certificates
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "server.log"

    @property
    def main_port(self) -> int:
        port = self.plain_port or self.starttls_port
        assert port is not None
        return port

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait_for_greeting(self.main_port, self.process, self.log)
        if self.imaps_port:
            _wait_for_port(self.imaps_port)

    def stop(self) -> None:
        if self.process is None:
            return
        # The whole process group, as a service manager stops a service: Dovecot's master
        # alone leaves its imap processes serving their clients for 10 more seconds.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def url(self, folder: str, *, scheme: str = "imap", port: int | None = None) -> str:
        if port is None:
            port = {"imap": self.plain_port, "imaps": self.imaps_port}[scheme]
        return f"{scheme}://{USER}@{HOST}:{port}/{folder}"

    def client(self) -> Any:
        """An imapclient connection, logged in: how the tests put mail on the server."""
        import imapclient

        client = imapclient.IMAPClient(HOST, port=self.main_port, ssl=False, timeout=30)
        if self.plain_port is None:
            import ssl

            client.starttls(ssl.create_default_context(cafile=str(self.certificates.ca)))
        client.login(USER, PASSWORD)
        return client


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class Pymap(Server):
    """pymap with its maildir backend; ``tls``: STARTTLS only, else plain text and imaps."""

    kind = "pymap"

    def __init__(
        self,
        folder: Path,
        certificates: Certificates,
        *,
        tls: bool = False,
        without: tuple[str, ...] = (),
    ) -> None:
        super().__init__(folder, certificates)
        self.tls = tls
        self.without = without
        if tls:
            self.starttls_port = free_port()
        else:
            self.plain_port = free_port()
            self.imaps_port = free_port()
        from pysasl.hashing import BuiltinHash

        # A few rounds of PBKDF2 (the default takes half a second at every login).
        digest = BuiltinHash(rounds=1000).hash(PASSWORD)
        (folder / "pymap-etc-passwd").write_text(f"{USER}:x::::mail:\n")
        (folder / "pymap-etc-shadow").write_text(f"{USER}:{digest}:::::::\n")

    def command(self) -> list[str]:
        command = [sys.executable, str(ROOT / "tests" / "pymap_server.py")]
        for name in self.without:
            command += ["--without", name]
        certificates = self.certificates
        if self.tls:
            port = self.starttls_port
            tls = ["--cert", str(certificates.cert), "--key", str(certificates.key)]
        else:
            port = self.plain_port
            tls = ["--no-tls"]
            command += ["--imaps-port", str(self.imaps_port)]
            command += ["--tls-cert", str(certificates.cert), "--tls-key", str(certificates.key)]
        return [*command, "--host", HOST, "--port", str(port), *tls, "maildir", str(self.folder)]


class Dovecot(Server):
    """Dovecot with a throwaway configuration: plain text and STARTTLS, and imaps."""

    kind = "dovecot"

    def __init__(self, folder: Path, certificates: Certificates) -> None:
        super().__init__(folder, certificates)
        self.plain_port = self.starttls_port = free_port()
        self.imaps_port = free_port()
        self.config = folder / "dovecot.conf"
        (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        home = folder / "home"
        home.mkdir()
        if os.getuid() == 0:
            # Dovecot reads mail as an unprivileged user, never as root.
            import pwd

            nobody = pwd.getpwnam("nobody")
            users = f"uid={nobody.pw_uid} gid={nobody.pw_gid}"
            os.chown(home, nobody.pw_uid, nobody.pw_gid)
            daemon_users = ""
        else:
            import grp
            import pwd

            me = pwd.getpwuid(os.getuid())
            users = f"uid={me.pw_uid} gid={me.pw_gid}"
            group = grp.getgrgid(me.pw_gid).gr_name
            daemon_users = (
                f"default_login_user = {me.pw_name}\ndefault_internal_user = {me.pw_name}\n"
                f"default_internal_group = {group}\n"
            )
        self.config.write_text(
            f"""\
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {self.log}
protocols = imap
listen = {HOST}
ssl = yes
ssl_cert = <{certificates.cert}
ssl_key = <{certificates.key}
# plain text on the loopback interface, for imap:// with --insecure
disable_plaintext_auth = no
auth_mechanisms = plain login
# No pause after a refused login (2 s by default), no growing penalty for the address: the
# tests try wrong passwords on purpose.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
# No statistics: a process waiting for their socket delays the stop by seconds.
stats_writer_socket_path =
{daemon_users}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = {users} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.plain_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
"""
        )

    def command(self) -> list[str]:
        return [dovecot_binary() or "dovecot", "-F", "-c", str(self.config)]


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (path for path in ("/usr/sbin/dovecot",) if os.path.exists(path)), None
    )


def server_folder(prefix: str) -> Path:
    """A folder for a server's files that Dovecot's unprivileged processes can enter (pytest's
    own temporary folders are for their owner only)."""
    folder = Path(tempfile.mkdtemp(prefix=f"drsparse-{prefix}-"))
    folder.chmod(0o755)
    return folder
