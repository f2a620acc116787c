"""An Alertmanager that accepts connections and never answers must not slow
down the agent: a reload answers within a second and SIGTERM ends the
process within a second, while the agent's POST is still waiting."""
import signal
import socket
import textwrap
import threading
import time

import pytest

from conftest import free_closed_port, http, wait_for


class HungAlertmanager:
    """Listens on 127.0.0.1, accepts every connection and never reads from
    it nor answers: the worst an Alertmanager (or a stuck proxy) can do."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)  # accept() wakes to see the stop flag
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            with self.lock:
                self.conns.append(c)

    def accepted(self):
        with self.lock:
            return len(self.conns)

    def stop(self):
        self.stopping.set()
        self.thread.join()
        with self.lock:
            for c in self.conns:
                c.close()
        self.sock.close()


@pytest.fixture
def hung_am():
    am = HungAlertmanager()
    yield am
    am.stop()


def config(am_url, resend, down_port):
    # The check's target refuses connections, so it fails at once and, with
    # alert.failure_threshold: 1, OutpostCheckDown fires at the first evaluation.
    return textwrap.dedent(f"""\
        checks:
          - {{name: down, url: "http://127.0.0.1:{down_port}/", interval: 200ms,
              timeout: 150ms, alert: {{failure_threshold: 1}}}}
        alerting:
          alertmanagers: ["{am_url}"]
          evaluation_interval: 1s
          resend_interval: {resend}
        """)


def test_reload_and_sigterm_with_hung_alertmanager(agent_factory, hung_am):
    down_port = free_closed_port()
    a = agent_factory(config(hung_am.url, "1m", down_port), extra_args=["--web.enable-lifecycle"])
    # The agent's POST is on its way: the connection is accepted, the
    # request is never answered.
    wait_for(lambda: hung_am.accepted() >= 1, timeout=15, what="the agent's POST connection")

    # A reload with a changed alerting section answers at once.
    a.write_config(config(hung_am.url, "2m", down_port))
    t0 = time.monotonic()
    st, _, body = http("POST", a.base + "/-/reload", timeout=30)
    took_reload = time.monotonic() - t0
    assert st == 200, body
    assert took_reload < 1.0, f"reload took {took_reload:.3f}s"

    # The new settings are in use: the alert goes out again (a new POST,
    # since the one in flight belonged to the old settings).
    wait_for(lambda: hung_am.accepted() >= 2, timeout=5, what="a POST with the new settings")

    rc, took_stop = a.stop(signal.SIGTERM)
    assert rc == 0, a.logs()
    assert took_stop < 1.0, f"SIGTERM took {took_stop:.3f}s"
    print(f"reload {took_reload:.3f}s, SIGTERM {took_stop:.3f}s")
