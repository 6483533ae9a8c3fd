#!/usr/bin/env python3
"""serve_load.py - a bounded load test of `nlp serve` on loopback.

Usage: serve_load.py PORT TSV [--clients 1,8,64,256] [--seconds 20]
                     [--warmup 3] [--route /sentiment] [--faults]

For each level, that many clients (threads, one keep-alive connection
each) send single sentences from TSV (text<TAB>label with a header, e.g.
SST-2 dev) as {"inputs": sentence}, one request at a time, for --seconds
after --warmup seconds; then they stop.  Prints per level: requests
answered per second, p50 / p99 latency, failed requests (anything but a
200 with a JSON body; a 503 or a refused connection, once the server
stops, is counted apart).  With --faults, one more client sends malformed
bodies, oversized inputs and connections dropped early all along; its
requests must get their 4xx (or nothing, for the dropped ones) and are
not counted.  Exit status 1 when any request failed.
"""
import argparse
import http.client
import json
import socket
import threading
import time


def load_sentences(path):
    with open(path, encoding="utf-8") as f:
        next(f)
        return [line.split("\t")[0].strip() for line in f if line.strip()]


def client(port, sentences, start, stop, out, k):
    """Send requests until stop; record (latency, ok) of those after start."""
    conn = None
    i = k
    while True:
        now = time.time()
        if now >= stop:
            break
        body = json.dumps({"inputs": sentences[i % len(sentences)]})
        i += 7
        t0 = time.time()
        ok = False
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", out["route"], body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            ok = r.status == 200 and data[:1] in (b"{", b"[")
            if r.status == 503:   # turned away (overload, shutting down): not a failure
                out["refused"] += 1
                ok = None
        except ConnectionRefusedError:
            out["refused"] += 1   # the server has stopped listening: this client is done
            break
        except (OSError, http.client.HTTPException) as e:
            conn = None
            out.setdefault("why", {}).setdefault(type(e).__name__, 0)
            out["why"][type(e).__name__] += 1
        t1 = time.time()
        if t0 >= start and ok is not None:
            out["lat"].append(t1 - t0) if ok else out["fail"].append(t1 - t0)
    if conn:
        conn.close()


def faults(port, stop, out):
    """Malformed bodies, oversized inputs, early disconnects."""
    bad = [b'{"inputs": ', b'{"inputs": 5}', b'{"inputs": "x", "parameters": {"nope": 1}}',
           json.dumps({"inputs": "word " * 5000}).encode()]
    n = 0
    while time.time() < stop:
        n += 1
        try:
            if n % 3 == 0:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(b"POST /sentiment HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n{\"in")
                s.close()
                continue
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("POST", out["route"], bad[n % len(bad)])
            r = c.getresponse()
            r.read()
            c.close()
            if not 400 <= r.status < 500:
                out["fault_bad"] += 1
        except (OSError, http.client.HTTPException):
            out["fault_bad"] += 1
        time.sleep(0.01)


def run_level(port, sentences, n, seconds, warmup, route, with_faults):
    out = {"lat": [], "fail": [], "route": route, "fault_bad": 0, "refused": 0}
    start = time.time() + warmup
    stop = start + seconds
    th = [threading.Thread(target=client, args=(port, sentences, start, stop, out, k))
          for k in range(n)]
    if with_faults:
        th.append(threading.Thread(target=faults, args=(port, stop, out)))
    for t in th:
        t.start()
    for t in th:
        t.join(seconds + warmup + 180)
    if out.get("why"):
        print("  failures by kind:", out["why"], flush=True)
    lat = sorted(out["lat"])
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
    return {"clients": n, "requests": len(lat), "req_per_s": len(lat) / seconds,
            "p50_ms": q(0.50), "p99_ms": q(0.99), "failed": len(out["fail"]) + out["fault_bad"],
            "refused": out["refused"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("tsv")
    ap.add_argument("--clients", default="1,8,64,256")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--route", default="/sentiment")
    ap.add_argument("--faults", action="store_true")
    a = ap.parse_args()
    sentences = load_sentences(a.tsv)
    failed = 0
    print("clients  requests  req/s    p50 ms   p99 ms  failed  503/refused")
    for n in [int(x) for x in a.clients.split(",")]:
        r = run_level(a.port, sentences, n, a.seconds, a.warmup, a.route, a.faults)
        failed += r["failed"]
        print("%7d  %8d  %6.2f  %7.1f  %7.1f  %6d  %11d" % (
            r["clients"], r["requests"], r["req_per_s"], r["p50_ms"], r["p99_ms"], r["failed"],
            r["refused"]), flush=True)
    return 1 if failed else 0


raise SystemExit(main())
