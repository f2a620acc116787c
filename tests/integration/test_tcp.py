"""tcp checks against servers written here (threads on loopback, free ports): a banner
dialogue with a reference to the matched line, TLS from the start (trusted, untrusted,
a handshake that never ends), STARTTLS in an SMTP-like exchange, a refused port, an
expectation that is not met, a name that does not exist; failures counted by reason,
the certificate's expiry, and the detail of each last result; a client certificate for mutual TLS."""
import json
import socket
import ssl
import textwrap
import threading

from conftest import free_closed_port, http

TCP_REASONS = ["timeout", "dns", "connect", "tls", "expect", "other"]


class Server:
    """Accepts on 127.0.0.1:0; each connection goes to handler(conn) in a thread.
    stop() closes the listener and every connection still open."""

    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(5)
            self.handler(c, self.stopping)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.thread.join(timeout=5)


def readline(f):
    return f.readline().decode().rstrip("\r\n")


def banner_handler(c, stopping):
    c.sendall(b"SSH-2.0-OpenSSH_9.2 debian\r\n")
    f = c.makefile("rb")
    got = readline(f)
    c.sendall(f"ok {got}\n".encode())


def two_lines_handler(c, stopping):
    c.sendall(b"one\ntwo\n")


def silent_handler(c, stopping):
    stopping.wait(10)


def tls_context(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs[0], certs[1])
    return ctx


def tls_handler(ctx):
    def handler(c, stopping):
        s = ctx.wrap_socket(c, server_side=True)
        s.sendall(b"hello tls\n")
        s.recv(1)  # until the client closes
    return handler


def starttls_handler(ctx):
    def handler(c, stopping):
        c.sendall(b"220 ready\r\n")
        f = c.makefile("rb", buffering=0)
        if readline(f) != "STARTTLS":
            c.sendall(b"500 what\r\n")
            return
        c.sendall(b"220 go ahead\r\n")
        s = ctx.wrap_socket(c, server_side=True)
        s.sendall(b"250 secured\r\n")
        sf = s.makefile("rb", buffering=0)
        if readline(sf) == "QUIT":
            s.sendall(b"221 bye\r\n")
    return handler


def injection_handler(ctx):
    """STARTTLS with a line injected in plain text after "220 go ahead" (as an attacker
    on the path would): the client must not take it as part of the TLS session."""
    def handler(c, stopping):
        c.sendall(b"220 ready\r\n")
        f = c.makefile("rb", buffering=0)
        if readline(f) != "STARTTLS":
            return
        c.sendall(b"220 go ahead\r\n250 injected\r\n")
        s = ctx.wrap_socket(c, server_side=True)
        s.sendall(b"250 secured\r\n")
        sf = s.makefile("rb", buffering=0)
        s.sendall(b"221 ok\r\n" if readline(sf) == "got 250 secured" else b"500 bad\r\n")
    return handler


def last_result(agent, name):
    status, _, body = http("GET", f"{agent.base}/api/v1/checks/{name}")
    assert status == 200, body
    return json.loads(body)["last_result"]


def by_reason(m, check):
    """{reason: failures} for every reason series the check has."""
    return {dict(k[1])["reason"]: v for k, v in m.items()
            if k[0] == "outpost_check_failures_total" and dict(k[1]).get("check") == check}


def test_tcp(agent_factory, certs):
    cert, _, not_after = certs
    ctx = tls_context(certs)
    # Mutual TLS: the server asks for a client certificate signed by the test's CA
    # (the same self-signed certificate).
    mctx = tls_context(certs)
    mctx.verify_mode = ssl.CERT_REQUIRED
    mctx.load_verify_locations(cert)
    servers = {name: Server(h) for name, h in [
        ("banner", banner_handler), ("two", two_lines_handler), ("silent", silent_handler),
        ("tls", tls_handler(ctx)), ("starttls", starttls_handler(ctx)),
        ("mtls", tls_handler(mctx)), ("injection", injection_handler(ctx))]}
    closed = free_closed_port()
    p = {k: s.port for k, s in servers.items()}
    try:
        a = agent_factory(textwrap.dedent(f"""\
            global: {{interval: 500ms, timeout: 400ms}}
            checks:
              - name: banner
                type: tcp
                target: 127.0.0.1:{p['banner']}
                query_response:
                  - expect: '^SSH-2\\.0-(?<impl>\\S+) (\\w+)$'
                    send: 'hello ${{impl}} $2'
                  - expect: '^ok hello OpenSSH_9\\.2 debian$'
              - name: refused
                type: tcp
                target: 127.0.0.1:{closed}
              - name: mismatch
                type: tcp
                target: 127.0.0.1:{p['two']}
                query_response:
                  - expect: '^SSH-2.0-'
              - name: no_banner
                type: tcp
                target: 127.0.0.1:{p['silent']}
                query_response:
                  - expect: '^220 '
              - name: hung_tls
                type: tcp
                target: 127.0.0.1:{p['silent']}
                tls: true
              - name: tls_trusted
                type: tcp
                target: 127.0.0.1:{p['tls']}
                tls: {{ca_file: {cert}}}
                query_response:
                  - expect: '^hello tls$'
              - name: tls_untrusted
                type: tcp
                target: 127.0.0.1:{p['tls']}
                tls: true
              - name: tls_wrong_name
                type: tcp
                target: 127.0.0.1:{p['tls']}
                tls: {{ca_file: {cert}, server_name: other.example}}
              - name: starttls
                type: tcp
                target: localhost:{p['starttls']}
                ip_protocol: ip4
                tls: {{ca_file: {cert}}}
                query_response:
                  - expect: '^220 '
                    send: STARTTLS
                  - expect: '^220 go ahead'
                    starttls: true
                  - expect: '^250 secured'
                    send: QUIT
                  - expect: '^221 '
              - name: mtls
                type: tcp
                target: 127.0.0.1:{p['mtls']}
                tls: {{ca_file: {cert}, cert_file: {cert}, key_file: {certs[1]}}}
                query_response:
                  - expect: '^hello tls$'
              - name: injection
                type: tcp
                target: 127.0.0.1:{p['injection']}
                tls: {{ca_file: {cert}}}
                query_response:
                  - expect: '^220 ready'
                    send: STARTTLS
                  - expect: '^220 go ahead'
                    starttls: true
                  - expect: '^250 .*'
                    send: 'got ${{0}}'
                  - expect: '^221 '
              - name: nxdomain
                type: tcp
                target: nothing.invalid:25
            """))
        names = ["banner", "refused", "mismatch", "no_banner", "hung_tls", "tls_trusted",
                 "tls_untrusted", "tls_wrong_name", "starttls", "mtls", "injection", "nxdomain"]
        for n in names:
            a.wait_value("outpost_check_runs_total", lambda v: v >= 2, check=n)

        want_reason = {"banner": None, "refused": "connect", "mismatch": "expect",
                       "no_banner": "expect", "hung_tls": "timeout", "tls_trusted": None,
                       "tls_untrusted": "tls", "tls_wrong_name": "tls", "starttls": None,
                       "mtls": None, "injection": None, "nxdomain": "dns"}
        targets = {"banner": f"127.0.0.1:{p['banner']}", "refused": f"127.0.0.1:{closed}",
                   "mismatch": f"127.0.0.1:{p['two']}", "no_banner": f"127.0.0.1:{p['silent']}",
                   "hung_tls": f"127.0.0.1:{p['silent']}", "tls_trusted": f"127.0.0.1:{p['tls']}",
                   "tls_untrusted": f"127.0.0.1:{p['tls']}",
                   "tls_wrong_name": f"127.0.0.1:{p['tls']}",
                   "starttls": f"localhost:{p['starttls']}", "mtls": f"127.0.0.1:{p['mtls']}",
                   "injection": f"127.0.0.1:{p['injection']}",
                   "nxdomain": "nothing.invalid:25"}

        # Runs and failures are separate families of a scrape: a run that ends
        # while a scrape is rendered shows in one and not yet in the other. The
        # figures below come from a scrape with no run in between (a few tries).
        def settled(m):
            return all(by_reason(m, n).get(r, 0) == m.get(
                ("outpost_check_runs_total", frozenset({("check", n)})))
                for n, r in want_reason.items() if r is not None)
        for _ in range(20):
            m = a.metrics()
            if settled(m):
                break

        def val(name, **labels):
            return m.get((name, frozenset(labels.items())))

        for n, reason in want_reason.items():
            runs = val("outpost_check_runs_total", check=n)
            f = by_reason(m, n)
            # Exactly the type's reasons, and every run failed for the one reason.
            assert sorted(f) == sorted(TCP_REASONS), (n, f)
            want = {r: (runs if r == reason else 0) for r in TCP_REASONS}
            assert f == want, (n, f, runs, last_result(a, n))
            assert val("outpost_check_up", check=n) == (1 if reason is None else 0), n
            # No HTTP status for this type.
            assert val("outpost_check_http_status_code", check=n) is None, n
            assert val("outpost_check_info", check=n, type="tcp", group="",
                       target=targets[n]) == 1, n

        details = {n: last_result(a, n)["detail"] for n in names}
        assert details == {
            "banner": "",
            "refused": f"connect 127.0.0.1:{closed}: connection refused",
            "mismatch": "expect /^SSH-2.0-/: connection closed after 2 lines",
            "no_banner": "expect /^220 /: no match before the timeout after 0 lines",
            "hung_tls": "timeout in the TLS handshake",
            "tls_trusted": "",
            "tls_untrusted": "tls: certificate verify failed: self-signed certificate",
            "tls_wrong_name": "tls: certificate verify failed: hostname mismatch",
            "starttls": "",
            "mtls": "",
            "injection": "",
            "nxdomain": "resolve nothing.invalid: no such host",
        }

        # The presented certificate's expiry, also where verification failed; none
        # without TLS.
        for n in ["tls_trusted", "tls_untrusted", "tls_wrong_name", "starttls", "mtls"]:
            assert val("outpost_check_tls_cert_expiry_timestamp_seconds", check=n) == not_after, n
        for n in ["banner", "refused", "mismatch", "hung_tls", "nxdomain"]:
            assert val("outpost_check_tls_cert_expiry_timestamp_seconds", check=n) is None, n

        # Phases: TLS only where a handshake happened; the dialogue's time is processing.
        ph = lambda n, phase: val("outpost_check_phase_duration_seconds", check=n, phase=phase)
        assert ph("banner", "tls") == 0 and ph("banner", "processing") > 0
        assert ph("tls_trusted", "tls") > 0 and ph("starttls", "tls") > 0
        assert ph("refused", "tls") == 0 and ph("refused", "processing") == 0
        assert ph("nxdomain", "connect") == 0

        # Runs that wait for the deadline end at it: 400 ms, on average within 100 ms
        # (a loaded 2-core machine wakes the loop late now and then; a run that
        # ignored its deadline would wait as long as these servers stay silent).
        for n in ["no_banner", "hung_tls"]:
            key = frozenset({("check", n)})
            count = m[("outpost_check_duration_seconds_count", key)]
            total = m[("outpost_check_duration_seconds_sum", key)]
            assert 0.4 * count <= total <= 0.5 * count, (n, total, count)
    finally:
        for s in servers.values():
            s.stop()
