"""
tfjs.py - runs Transformers.js (tests/gen/gen_tokenizer.mjs, offline, on a
local tokenizer folder) over a list of requests, for the tokenizer
expected-output generators.  A request is {"text"[, "pair"]} to encode or
{"decode": ids, "skip_special": bool} to decode; the result is one dict
per request, in order.  Needs node and NODE_PATH as gen_tokenizer.mjs says.
"""
import json
import os
import subprocess
import tempfile


def run(tok_dir, requests):
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(inp, "w", encoding="utf-8") as f:
            for r in requests:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "gen_tokenizer.mjs"), tok_dir, inp, outp], check=True)
        with open(outp, encoding="utf-8") as f:
            return [json.loads(l) for l in f]
