#!/usr/bin/env python3
"""serve_browser.py - `nlp serve`'s page at / in headless chromium (run by
tests/serve_browser.sh).

Usage: serve_browser.py NLP MODELS_DIR CHROMIUM TMPDIR

Starts the server on 127.0.0.1 with a free port (sentiment, ner and qa on
the fixtures), starts chromium headless with the DevTools protocol on a
pipe (--remote-debugging-pipe: JSON messages ended by a NUL byte on fds 3
and 4, spoken here with the standard library only), loads /, and for each
task chooses it in the list, types the text (and the question) as key
input, clicks Run and waits for the result.  The rendered page is then
checked against the server's own JSON for the same request: the bars'
labels, scores and drawn widths (sentiment), the highlighted entity spans
and their labels (ner, also on a text with characters outside the BMP),
the marked answer (qa), with no script error.
Every wait is bounded; the server and every chromium process are ended.
"""
import fcntl
import http.client
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time

NLP, MODELS, CHROMIUM, TMP = sys.argv[1:5]
DEADLINE = time.time() + 50
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what)


def left(limit=None):
    t = DEADLINE - time.time()
    if t <= 0:
        raise TimeoutError("serve_browser: out of time")
    return t if limit is None else min(t, limit)


def start_server():
    p = subprocess.Popen([NLP, "serve", "--port", "0", "--threads", "1",
                          "--task", "sentiment=" + MODELS + "/tiny-bert-sst2",
                          "--task", "ner=" + MODELS + "/ner-bert",
                          "--task", "qa=" + MODELS + "/qa-bert"],
                         stderr=subprocess.PIPE, text=True)
    lines = []
    while time.time() < DEADLINE:
        line = p.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on \S+ port (\d+) \(pid (\d+)\)", line)
        if m:
            threading.Thread(target=p.stderr.read, daemon=True).start()
            p.server_pid = int(m.group(2))   # cli/nlp may be libtool's wrapper script
            return p, int(m.group(1))
    p.kill()
    raise SystemExit("serve_browser: the server did not start:\n" + "".join(lines))


def post(port, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=left(30))
    c.request("POST", path, body=json.dumps(body).encode(),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    out = r.read()
    c.close()
    if r.status != 200:
        raise SystemExit("serve_browser: %s answered %d: %r" % (path, r.status, out))
    return json.loads(out)


class Browser:
    """chromium headless, driven over --remote-debugging-pipe."""

    def __init__(self):
        to_r, self.to_w = os.pipe()       # we write, chromium reads fd 3
        self.fr_r, fr_w = os.pipe()       # chromium writes fd 4, we read
        # high copies, so the dup2 onto 3 and 4 cannot clobber one another
        a = fcntl.fcntl(to_r, fcntl.F_DUPFD_CLOEXEC, 10)
        b = fcntl.fcntl(fr_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_r)
        os.close(fr_w)
        args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--mute-audio",
                "--remote-debugging-pipe", "--user-data-dir=" + os.path.join(TMP, "profile"),
                "about:blank"]
        log = os.path.join(TMP, "chromium.log")
        self.pid = os.posix_spawn(CHROMIUM, args, dict(os.environ, HOME=TMP), file_actions=[
            (os.POSIX_SPAWN_DUP2, a, 3), (os.POSIX_SPAWN_DUP2, b, 4),
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)],
            setsid=True)                  # its own process group, ended as one
        os.close(a)
        os.close(b)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def close(self):
        """Browser.close, a few seconds to exit, then SIGKILL to what is left."""
        try:
            self.session = None
            os.write(self.to_w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        end = time.time() + 5
        while time.time() < end and os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            time.sleep(0.05)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.to_w)
        os.close(self.fr_r)

    def _read_message(self, timeout):
        while b"\0" not in self.buf:
            r, _, _ = select.select([self.fr_r], [], [], left(timeout))
            if not r:
                raise TimeoutError("serve_browser: chromium said nothing for %gs" % timeout)
            chunk = os.read(self.fr_r, 1 << 16)
            if not chunk:
                raise SystemExit("serve_browser: chromium closed the pipe (its log follows)")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, timeout=20, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read_message(timeout)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise SystemExit("serve_browser: %s: %r" % (method, m["error"]))
                return m["result"]
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, timeout=20):
        while True:
            for i, m in enumerate(self.events):
                if m["method"] == method:
                    return self.events.pop(i)
            m = self._read_message(timeout)
            if "method" in m:
                self.events.append(m)

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def js(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise SystemExit("serve_browser: %s: %r" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def until(self, expr, what, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            v = self.js(expr)
            if v:
                return v
            time.sleep(0.05)
        raise TimeoutError("serve_browser: waited %gs for %s" % (timeout, what))

    def click(self, selector):
        x, y = self.js("(()=>{const r=document.querySelector(%s).getBoundingClientRect();"
                       "return [r.x+r.width/2,r.y+r.height/2];})()" % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                   "button": "left", "clickCount": 1})

    def type_into(self, selector, text):
        """Click the field, select what is there, type over it."""
        self.click(selector)
        self.js("document.querySelector(%s).select()" % json.dumps(selector))
        self.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Backspace",
                                             "code": "Backspace", "windowsVirtualKeyCode": 8})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Backspace",
                                             "code": "Backspace", "windowsVirtualKeyCode": 8})
        self.send("Input.insertText", {"text": text})

    def choose(self, selector, value):
        """Pick an option the way the list does: its value, then a change event."""
        self.js("(()=>{const s=document.querySelector(%s);s.focus();s.value=%s;"
                "s.dispatchEvent(new Event('input',{bubbles:true}));"
                "s.dispatchEvent(new Event('change',{bubbles:true}));})()"
                % (json.dumps(selector), json.dumps(value)))


RENDERED = """(()=>{const out=document.getElementById('out');
 const bars=[...out.querySelectorAll('.bar')].map(b=>({text:b.querySelector('span').textContent,
   frac:b.firstElementChild.getBoundingClientRect().width/b.getBoundingClientRect().width}));
 const marks=[...out.querySelectorAll('mark')].map(m=>({text:m.firstChild.textContent,
   label:m.querySelector('small').textContent,
   shown:m.getBoundingClientRect().width>0}));
 const p=out.querySelector('p');let plain=null;
 if(p){const c=p.cloneNode(true);c.querySelectorAll('small').forEach(s=>s.remove());plain=c.textContent;}
 return {bars,marks,plain,err:document.getElementById('err').textContent,
   raw:document.getElementById('raw').textContent,
   qa:!document.getElementById('qbox').hidden};})()"""


def run_task(br, task, text, question=None):
    br.choose("#task", task)
    br.type_into("#text", text)
    if question is not None:
        br.type_into("#question", question)
    check(br.js("document.getElementById('text').value") == text, "%s: the typed text" % task)
    br.js("document.getElementById('out').innerHTML='';document.getElementById('err').textContent=''")
    br.click("#go")
    br.until("document.getElementById('out').innerHTML!==''||document.getElementById('err').textContent!==''",
             "the %s result" % task)
    return br.js(RENDERED)


def main():
    # `timeout` ends the test with SIGTERM: unwind, so that finally ends the processes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("serve_browser: terminated"))
    srv, port = start_server()
    br = None
    try:
        br = Browser()
        br.open("http://127.0.0.1:%d/" % port)
        tasks = br.until("(()=>{const o=[...document.getElementById('task').options].map(o=>o.value);"
                         "return o.length?o:null;})()", "the task list from /info")
        check(sorted(tasks) == ["ner", "qa", "sentiment"], "task list: %r" % tasks)

        # sentiment: one bar per label, best first, width = score
        text = "I loved this film, the acting was wonderful."
        got = run_task(br, "sentiment", text)
        want = post(port, "/sentiment", {"inputs": text, "parameters": {"top_k": None}})
        check(not got["err"], "sentiment: error shown: %r" % got["err"])
        check(json.loads(got["raw"] or "null") == want, "sentiment: JSON shown %r, server %r" % (got["raw"], want))
        check([b["text"] for b in got["bars"]] == ["%s %.4f" % (w["label"], w["score"]) for w in want],
              "sentiment: bars %r, server %r" % (got["bars"], want))
        check(all(abs(b["frac"] - w["score"]) < 0.01 for b, w in zip(got["bars"], want)),
              "sentiment: bar widths %r against scores %r" % ([b["frac"] for b in got["bars"]], want))

        # ner: the text with each entity marked and labelled; the second
        # text has letters outside the BMP, as offsets count code points
        for text in ("My name is Wolfgang and I live in Berlin.",
                     "Zo\u00eb \U0001F600 met J\u00fcrgen in Z\u00fcrich \U0001D49C and Paris."):
            got = run_task(br, "ner", text)
            want = post(port, "/ner", {"inputs": text, "parameters": {"aggregation_strategy": "simple"}})
            check(not got["err"], "ner: error shown: %r" % got["err"])
            check(json.loads(got["raw"] or "null") == want, "ner: JSON shown %r, server %r" % (got["raw"], want))
            check(want and [(m["text"], m["label"]) for m in got["marks"]] ==
                  [(text[e["start"]:e["end"]], e["entity_group"]) for e in sorted(want, key=lambda e: e["start"])],
                  "ner: marks %r, server %r" % (got["marks"], want))
            check(all(m["shown"] for m in got["marks"]), "ner: a mark is not drawn: %r" % got["marks"])
            check(got["plain"] == text, "ner: the text around the marks: %r" % got["plain"])

        # qa: the context with the answer marked, the question box shown
        question, context = "Where do I live?", "My name is Wolfgang and I live in Berlin."
        got = run_task(br, "qa", context, question)
        want = post(port, "/qa", {"inputs": {"question": question, "context": context}})
        check(not got["err"], "qa: error shown: %r" % got["err"])
        check(got["qa"], "qa: the question box is hidden")
        check(json.loads(got["raw"] or "null") == want, "qa: JSON shown %r, server %r" % (got["raw"], want))
        check([(m["text"], m["label"]) for m in got["marks"]] ==
              [(want["answer"], "answer %.3f" % want["score"])] and
              context[want["start"]:want["end"]] == want["answer"],
              "qa: marks %r, server %r" % (got["marks"], want))
        check(got["plain"] == context, "qa: the context around the answer: %r" % got["plain"])

        errs = [e["params"] for e in br.events if e["method"] == "Runtime.exceptionThrown"]
        check(not errs, "script errors: %r" % errs)
    finally:
        if br:
            br.close()
        if srv.poll() is None:
            os.kill(srv.server_pid, signal.SIGTERM)
            try:
                srv.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(srv.server_pid, signal.SIGKILL)
                srv.wait()
    print("serve_browser: %s" % ("ok" if not fails else "%d failures" % fails))
    return 1 if fails else 0


sys.exit(main())
