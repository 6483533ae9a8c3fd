#!/usr/bin/env python3
"""serve_http.py - `nlp serve` over HTTP, end to end (run by tests/serve.sh).

Usage: serve_http.py NLP MODELS_DIR PLUGIN_DIR

Starts the server on 127.0.0.1 with a free port (--port 0, read from its
start-up line) and checks: every route answers with the CLI's --json
results, /embed and /v1/embeddings (the built-in embed on a plain BERT),
/keywords (the example plugin of plugins/example), errors as one-line
JSON with the right status (400, 401, 404, 405, 413, 422), the page at /,
the page's script (run in node when it is installed), the API key, a
client that disconnects mid-upload and one that leaves
before its reply, many clients at once, and SIGTERM while requests are in
flight (they are answered, the exit status is 0).  Every wait is bounded.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

NLP, MODELS, PLUGINS = sys.argv[1:4]
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what)


def start(*args, env=None):
    """The server process and its port, once it says it listens."""
    p = subprocess.Popen([NLP, "serve", "--port", "0", "--threads", "1", *args],
                         stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 60
    lines = []
    while time.time() < deadline:
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
    raise SystemExit("serve_http: the server did not start:\n" + "".join(lines))


def request(port, method, path, body=None, headers=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    c.request(method, path, body=data, headers=headers or {})
    r = c.getresponse()
    out = r.read()
    c.close()
    return r.status, out, r


def cli_json(task, model, *args):
    """The CLI's --json lines for one input."""
    out = subprocess.run([NLP, task, "--model", model, "--json", "--threads", "1", *args],
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, NLP_PLUGIN_PATH=PLUGINS))
    return [json.loads(line) for line in out.stdout.splitlines()]


def same(a, b, tol=1e-5):
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= tol
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def error_shape(status, body, want, what):
    check(status == want, "%s: status %d, expected %d (%r)" % (what, status, want, body[:200]))
    try:
        j = json.loads(body)
        check(set(j) == {"error", "error_type"} and b"\n" not in body.strip(),
              "%s: error body %r" % (what, body))
    except ValueError:
        check(False, "%s: not JSON: %r" % (what, body))


def routes(port):
    sst2, ner, qa = MODELS + "/tiny-bert-sst2", MODELS + "/ner-bert", MODELS + "/qa-bert"
    st, body, _ = request(port, "POST", "/sentiment",
                          {"inputs": ["I loved it.", "Terrible."], "parameters": {"top_k": None}})
    check(st == 200 and same(json.loads(body),
                             cli_json("sentiment", sst2, "--top-k", "all", "I loved it.", "Terrible.")),
          "sentiment: %r" % body)
    text = "My name is Wolfgang and I live in Berlin."
    st, body, _ = request(port, "POST", "/ner",
                          {"inputs": text, "parameters": {"aggregation_strategy": "simple"}})
    check(st == 200 and same(json.loads(body), cli_json("ner", ner, "--aggregation", "simple", text)[0]),
          "ner: %r" % body)
    st, body, _ = request(port, "POST", "/qa",
                          {"inputs": {"question": "Where do I live?", "context": text}})
    exp = cli_json("qa", qa, "--question", "Where do I live?", "--context", text)[0]
    check(st == 200 and same(json.loads(body), exp), "qa: %r" % body)
    st, body, _ = request(port, "POST", "/embed", {"inputs": ["Hello world.", "x"]})
    vec = json.loads(body) if st == 200 else None
    check(vec and len(vec) == 2 and abs(sum(v * v for v in vec[0]) - 1) < 1e-4,
          "embed (TEI, normalised): %r" % body[:200])
    st, body, _ = request(port, "POST", "/v1/embeddings", {"input": "Hello world.", "model": "m"})
    j = json.loads(body) if st == 200 else {}
    check(j.get("object") == "list" and j["data"][0]["index"] == 0 and j["model"] == "m" and
          j["usage"]["prompt_tokens"] > 0 and same(j["data"][0]["embedding"], vec[0] if vec else None),
          "v1/embeddings: %r" % body[:200])
    st, body, _ = request(port, "POST", "/keywords",
                          {"inputs": "The quick brown fox.", "parameters": {"top_k": 2}})
    check(st == 200 and same(json.loads(body),
                             cli_json("keywords", MODELS + "/tiny-bert", "--top-k", "2",
                                      "The quick brown fox.")[0]),
          "keywords (a plugin task): %r" % body)
    st, body, r = request(port, "GET", "/")
    check(st == 200 and b"<html" in body and r.getheader("Content-Type").startswith("text/html"),
          "page at /")
    node = shutil.which("node")
    if node:   # the page's script, against this server
        r = subprocess.run([node, os.path.join(os.path.dirname(__file__), "serve_page.mjs"),
                            str(port)], capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "page script: " + r.stdout + r.stderr)
    st, body, r = request(port, "GET", "/metrics")
    check(st == 200 and b'nlp_serve_requests_total{route="/sentiment",code="200"}' in body and
          b"nlp_serve_request_duration_seconds_bucket" in body, "metrics: %r" % body[:300])
    st, body, _ = request(port, "GET", "/info")
    served = {"sentiment", "ner", "qa", "embed", "keywords"}
    check(st == 200 and {t["task"] for t in json.loads(body)["tasks"]} == served,
          "info: %r" % body)


def errors(port):
    st, body, _ = request(port, "POST", "/sentiment", b'{"inputs": ')
    error_shape(st, body, 400, "malformed JSON")
    st, body, _ = request(port, "POST", "/sentiment", {"inputs": 7})
    error_shape(st, body, 422, "wrong type")
    st, body, _ = request(port, "POST", "/sentiment", {"inputs": "x", "parameters": {"topk": 1}})
    error_shape(st, body, 422, "unknown parameter")
    st, body, _ = request(port, "POST", "/sentiment", {"inputs": "word " * 100})
    error_shape(st, body, 422, "input over --max-input-length")
    check(b"max_input_length" in body, "the 422 names the limit: %r" % body)
    st, body, _ = request(port, "POST", "/sentiment", b'{"inputs": "' + b"a" * 5000 + b'"}')
    error_shape(st, body, 413, "body over --max-body-size")
    check(b"max_body_size" in body, "the 413 names the limit: %r" % body)
    st, body, _ = request(port, "GET", "/nothing")
    error_shape(st, body, 404, "unknown route")
    st, body, _ = request(port, "GET", "/sentiment")
    error_shape(st, body, 405, "wrong method")


def disconnects(port):
    # leave halfway through the body
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /sentiment HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"inputs\": \"ab")
    s.close()
    # leave before the reply, many times
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        body = json.dumps({"inputs": ["some words here"] * 8}).encode()
        s.sendall(b"POST /sentiment HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        s.close()
    # garbage that is not HTTP
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"\x00\x01\x02 nonsense\r\n\r\n")
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
    st, body, _ = request(port, "GET", "/health")
    check(st == 200, "health after disconnects: %d" % st)


def many_clients(port, n=32):
    results = [None] * n

    def one(i):
        try:
            results[i] = request(port, "POST", "/sentiment", {"inputs": "client %d says hi" % i})[0]
        except Exception as e:  # noqa: BLE001 - any failure is a failed request
            results[i] = repr(e)
    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    for t in th:
        t.join(120)
    check(results == [200] * n, "%d clients at once: %r" % (n, results))


def auth():
    p, port = start("--task", "sentiment=" + MODELS + "/tiny-bert-sst2", "--api-key", "s3cret")
    try:
        st, body, r = request(port, "POST", "/sentiment", {"inputs": "x"})
        error_shape(st, body, 401, "no key")
        st, body, _ = request(port, "POST", "/sentiment", {"inputs": "x"},
                              {"Authorization": "Bearer s3cre"})
        error_shape(st, body, 401, "wrong key")
        st, body, _ = request(port, "POST", "/sentiment", {"inputs": "x"},
                              {"Authorization": "Bearer s3cret"})
        check(st == 200, "right key: %d %r" % (st, body))
        check(request(port, "GET", "/health")[0] == 200, "health needs no key")
    finally:
        os.kill(p.server_pid, signal.SIGTERM)
        check(p.wait(30) == 0, "exit status after SIGTERM")


def lone_model():
    """--model alone serves the task its config.json names."""
    p, port = start("--model", MODELS + "/qa-bert")
    try:
        st, body, _ = request(port, "GET", "/info")
        check(st == 200 and [t["task"] for t in json.loads(body)["tasks"]] == ["qa"],
              "--model qa-bert serves qa: %r" % body)
    finally:
        os.kill(p.server_pid, signal.SIGINT)
        check(p.wait(30) == 0, "exit status after SIGINT")


def sigterm_mid_load(p, port):
    results = []

    def one(i):
        try:
            results.append(request(port, "POST", "/sentiment",
                                   {"inputs": ["request %d text %d" % (i, k) for k in range(16)]})[0])
        except Exception as e:  # noqa: BLE001
            results.append(repr(e))
    th = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in th:
        t.start()
    time.sleep(0.05)
    os.kill(p.server_pid, signal.SIGTERM)
    for t in th:
        t.join(120)
    rc = p.wait(60)
    check(rc == 0, "exit status after SIGTERM under load: %s" % rc)
    # every request sent before the signal is answered; later ones are
    # refused (503) or find the port closed
    bad = [r for r in results if r not in (200, 503) and "Connection refused" not in str(r)]
    check(not bad, "requests during SIGTERM: %r" % results)


def sbert_routes():
    """The built-in embed, similarity and rerank tasks behind /embed,
    /v1/embeddings, /rerank and their own routes, against the PyTorch
    references of tests/gen/gen_sbert.py (data/expected/sbert)."""
    exp = os.path.join(MODELS, "..", "expected", "sbert")
    emb = json.load(open(os.path.join(exp, "embed.json"), encoding="utf-8"))
    rr = json.load(open(os.path.join(exp, "rerank.json"), encoding="utf-8"))
    sim = json.load(open(os.path.join(exp, "similarity.json"), encoding="utf-8"))
    case = {" ".join(c["args"]): c["embeddings"] for c in emb["cases"]}
    env = {k: v for k, v in os.environ.items() if k != "NLP_PLUGIN_PATH"}
    p, port = start("--task", "embed=" + MODELS + "/minilm-embed",
                    "--task", "similarity=" + MODELS + "/minilm-embed",
                    "--task", "rerank=" + MODELS + "/minilm-rerank", env=env)
    tol = 1e-4
    try:
        texts = emb["texts"]
        st, body, _ = request(port, "POST", "/embed", {"inputs": texts})
        check(st == 200 and same(json.loads(body), case[""], tol),
              "sbert /embed (the folder's mean + Normalize): %s %r" % (st, body[:200]))
        st, body, _ = request(port, "POST", "/embed", {"inputs": texts, "normalize": False})
        check(st == 200 and same(json.loads(body), case["--pooling mean --no-normalize"], tol),
              "sbert /embed normalize false: %s %r" % (st, body[:200]))
        st, body, _ = request(port, "POST", "/v1/embeddings", {"input": texts[:2], "model": "m"})
        j = json.loads(body) if st == 200 else {}
        check(st == 200 and [d["index"] for d in j["data"]] == [0, 1] and
              same([d["embedding"] for d in j["data"]], case[""][:2], tol),
              "sbert /v1/embeddings: %s %r" % (st, body[:200]))
        st, body, _ = request(port, "POST", "/rerank", {"query": rr["query"], "texts": rr["texts"],
                                                        "return_text": True})
        got = json.loads(body) if st == 200 else []
        want = sorted(range(len(rr["scores"])), key=lambda i: -rr["scores"][i])
        check(st == 200 and [g["index"] for g in got] == want and
              all(abs(g["score"] - rr["scores"][g["index"]]) <= tol and
                  g["text"] == rr["texts"][g["index"]] for g in got),
              "sbert /rerank: %s %r" % (st, body[:300]))
        st, body, _ = request(port, "POST", "/rerank", {"query": rr["query"], "texts": rr["texts"],
                                                        "raw_scores": True})
        got = json.loads(body) if st == 200 else []
        check(st == 200 and len(got) == len(rr["logits"]) and
              all(abs(g["score"] - rr["logits"][g["index"]]) <= tol and "text" not in g
                  for g in got), "sbert /rerank raw_scores: %s %r" % (st, body[:300]))
        st, body, _ = request(port, "POST", "/similarity",
                              {"inputs": sim["texts"], "parameters": {"query": sim["query"]}})
        got = json.loads(body) if st == 200 else []
        check(st == 200 and len(got) == len(sim["texts"]) and
              all(abs(g["score"] - s) <= tol for g, s in
                  zip(got, sim["cases"][0]["query_scores"])),
              "sbert /similarity: %s %r" % (st, body[:300]))
        st, body, _ = request(port, "POST", "/rerank", {"query": 3, "texts": ["x"]})
        error_shape(st, body, 422, "sbert /rerank with a number for the query")
    finally:
        p.kill()
        p.wait(60)


def main():
    env = dict(os.environ, NLP_PLUGIN_PATH=PLUGINS)
    p, port = start("--task", "sentiment=" + MODELS + "/tiny-bert-sst2",
                    "--task", "ner=" + MODELS + "/ner-bert", "--task", "qa=" + MODELS + "/qa-bert",
                    "--task", "embed=" + MODELS + "/tiny-bert",
                    "--task", "keywords=" + MODELS + "/tiny-bert", "--max-input-length", "40",
                    "--max-body-size", "4096", env=env)
    try:
        routes(port)
        errors(port)
        disconnects(port)
        many_clients(port)
        sigterm_mid_load(p, port)
    finally:
        if p.poll() is None:
            p.kill()
    auth()
    lone_model()
    sbert_routes()
    print("serve_http: %s" % ("ok" if not fails else "%d failures" % fails))
    return 1 if fails else 0


sys.exit(main())
