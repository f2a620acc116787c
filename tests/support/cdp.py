"""A tiny Chrome DevTools Protocol client for tests: headless Chromium over a pipe.

Chromium started with --remote-debugging-pipe reads protocol messages from its fd 3
and writes them to its fd 4, each a JSON object terminated by a NUL byte. Browser
hands two pipes to the child with subprocess's pass_fds (moved to 3 and 4 by a
one-line bash (dash cannot redirect fds above 9) that then execs chromium), so no port is opened and nothing else can
talk to the browser.

The browser runs in its own process group (start_new_session) with a fresh profile
in a private temporary directory. close() - also on any error, and on leaving a
`with` block - kills the whole group (chromium's renderers and helpers are in it),
waits until no process of the group is left, and removes the directory.

    with Browser() as b:
        page = b.new_page()
        page.navigate("http://127.0.0.1:8080/status")
        text = page.evaluate("document.body.innerText")
        page.screenshot("/tmp/x/status.png")
"""
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

EXECUTABLE = "/usr/lib/chromium/chromium"
MAX_MESSAGE = 64 << 20  # a screenshot of a long page is a few MB of base64


class CDPError(Exception):
    pass


def _high_fd(fd):
    """fd duplicated to a number >= 10 (close-on-exec), the original closed: the sh
    redirections that put the pipes on 3 and 4 never overwrite one of them."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


def _group_pids(pgid):
    """Live processes (zombies excluded) whose process group is pgid."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(name))
    return pids


class Browser:
    def __init__(self, executable=EXECUTABLE, timeout=30.0, width=1280, height=900):
        self.timeout = timeout
        self.events = []  # (method, params, sessionId) in arrival order
        self._next_id = 0
        self._buf = b""
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="outpost-cdp-")
        try:
            self._start(executable, width, height)
        except BaseException:
            self.close()
            raise

    def _start(self, executable, width, height):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        to_child_r, from_child_w = _high_fd(to_child_r), _high_fd(from_child_w)
        args = [executable, "--headless=new", "--remote-debugging-pipe",
                f"--user-data-dir={os.path.join(self.dir, 'profile')}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--disable-default-apps",
                "--disable-crash-reporter", "--disable-breakpad", "--mute-audio",
                "--hide-scrollbars", "--password-store=basic", "--use-mock-keychain",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                f"--window-size={width},{height}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
        shell = f"exec \"$@\" 3<&{to_child_r} 4>&{from_child_w} {to_child_r}<&- {from_child_w}>&-"
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(["/bin/bash", "-c", shell, "bash", *args],
                                         pass_fds=(to_child_r, from_child_w),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self.pgid = self.proc.pid

    # ---- protocol ----

    def _send(self, msg):
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._to_child, data)
            data = data[n:]

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("timed out waiting for the browser")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise CDPError(f"the browser closed the pipe:\n{self.stderr_tail()}")
            self._buf += chunk
            if len(self._buf) > MAX_MESSAGE:
                raise CDPError("a protocol message larger than its cap")
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None, timeout=None):
        """Send a command and return its result; events that arrive meanwhile are kept
        in self.events. CDPError on a protocol error or after timeout seconds."""
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._send(msg)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._next_id:
                if "error" in m:
                    raise CDPError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append((m["method"], m.get("params", {}), m.get("sessionId")))

    def wait_event(self, method, session=None, timeout=None, since=0, pred=None):
        """The first event named method (of session, matching pred) at index >= since in
        self.events, reading more as needed."""
        deadline = time.monotonic() + (timeout or self.timeout)
        i = since
        while True:
            while i < len(self.events):
                name, params, sess = self.events[i]
                i += 1
                if name == method and (session is None or sess == session) and \
                        (pred is None or pred(params)):
                    return params
            m = self._read_message(deadline)
            if "method" in m:
                self.events.append((m["method"], m.get("params", {}), m.get("sessionId")))

    def new_page(self):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, session)

    def stderr_tail(self, n=4000):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    # ---- the end ----

    def close(self):
        """Kill the process group, wait until none of it is left, remove the profile.
        Safe to call more than once."""
        for fd in ("_to_child", "_from_child"):
            if getattr(self, fd, None) is not None:
                os.close(getattr(self, fd))
                setattr(self, fd, None)
        if self.proc is not None:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
            # Helpers reparented away from us die of the same signal; wait until they have.
            deadline = time.monotonic() + 10
            while _group_pids(self.pgid) and time.monotonic() < deadline:
                time.sleep(0.02)
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    """One tab, attached in flat mode: every command carries its session id."""

    def __init__(self, browser, session):
        self.b = browser
        self.session = session
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method, params=None, timeout=None):
        return self.b.call(method, params, session=self.session, timeout=timeout)

    def navigate(self, url, timeout=None):
        """Load url and wait for its load event; returns the navigation's result."""
        since = len(self.b.events)
        r = self.call("Page.navigate", {"url": url}, timeout=timeout)
        if r.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {r['errorText']}")
        self.b.wait_event("Page.loadEventFired", session=self.session, timeout=timeout,
                          since=since)
        return r

    def evaluate(self, expression, timeout=None):
        """The value of a JavaScript expression (promises awaited), as JSON."""
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in r:
            raise CDPError(f"{expression!r} threw: {r['exceptionDetails']}")
        return r["result"].get("value")

    def add_init_script(self, source):
        """Run source in every new document before its own scripts (not subject to its
        Content-Security-Policy)."""
        self.call("Page.addScriptToEvaluateOnNewDocument", {"source": source})

    def set_javascript(self, enabled):
        self.call("Emulation.setScriptExecutionDisabled", {"value": not enabled})

    def set_viewport(self, width, height, mobile=False, scale=1):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": scale,
                   "mobile": mobile})

    def screenshot(self, path, full_page=True):
        """A PNG of the page (the whole page, not only the viewport) written to path."""
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            m = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": m["width"], "height": m["height"],
                              "scale": 1}
        data = base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
        with open(path, "wb") as f:
            f.write(data)
        return path

    def console(self):
        """What the page logged: (source, level, text) of console calls, exceptions and
        browser log entries (CSP violations are these), in arrival order."""
        out = []
        for name, p, sess in self.b.events:
            if sess != self.session:
                continue
            if name == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", "")))
                                for a in p.get("args", []))
                out.append(("console", p.get("type"), text))
            elif name == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(("exception", "error",
                            d.get("exception", {}).get("description") or d.get("text", "")))
            elif name == "Log.entryAdded":
                e = p.get("entry", {})
                out.append((e.get("source"), e.get("level"), e.get("text", "")))
        return out
