#!/usr/bin/env python3
"""
task_cases.py - run the `nlp TASK --json` cases of data/expected/<task>/
and compare them with the reference outputs stored there (made by
tests/gen/gen_tasks_cls.py from PyTorch and Hugging Face's post-processing,
cross-checked with Transformers.js).

    python3 tests/task_cases.py TASK [CASE...]

Environment (set by `make check`): NLP (the CLI), top_srcdir; optional
TASK_EXTRA_ARGS, more options for every command (e.g. --batch-size 2).  Each case
file gives task, model (relative to top_srcdir, or absolute; null: no
--model option, the task's default model), args, the inputs (fed on
stdin, one per line), the expected result per input or {"error": message}
(then that input's --json line is {"error": message, "error_type": ...}),
the expected exit status, substrings expected on stderr and optionally
"tol".  Scores are compared within tol (default 1e-4, absolute; a case
with a larger tol also prints the largest difference seen, and compares
zero-shot labels as a label -> score map, since labels whose scores lie
within tol of each other may come in either order), everything else
exactly.  Exits 0 when every case passes, 1 otherwise, 77 (skip)
when the CLI is missing.
"""
import json
import os
import subprocess
import sys

TOL = 1e-4


def compare(exp, got, where, errors, tol=TOL, diff=None):
    """Append to errors where got differs from exp; diff, a one-item list,
    keeps the largest score difference seen."""
    if isinstance(exp, dict):
        if not isinstance(got, dict) or set(exp) != set(got):
            errors.append("%s: expected keys %s, got %r" % (where, sorted(exp), got))
            return
        for k in exp:
            compare(exp[k], got[k], where + "." + k, errors, tol, diff)
    elif isinstance(exp, list):
        if not isinstance(got, list) or len(exp) != len(got):
            errors.append("%s: expected %d items, got %r" % (where, len(exp), got))
            return
        for i, (e, g) in enumerate(zip(exp, got)):
            compare(e, g, "%s[%d]" % (where, i), errors, tol, diff)
    elif isinstance(exp, float):
        if not isinstance(got, (int, float)) or isinstance(got, bool) or abs(exp - got) > tol:
            errors.append("%s: expected %.8g, got %r" % (where, exp, got))
        elif diff is not None:
            diff[0] = max(diff[0], abs(exp - got))
    elif exp != got or type(exp) is not type(got):
        errors.append("%s: expected %r, got %r" % (where, exp, got))


def by_label(x):
    """x with every {"labels": [...], "scores": [...]} reordered by label."""
    if isinstance(x, list):
        return [by_label(v) for v in x]
    if isinstance(x, dict):
        x = {k: by_label(v) for k, v in x.items()}
        lab, sc = x.get("labels"), x.get("scores")
        if isinstance(lab, list) and isinstance(sc, list) and len(lab) == len(sc):
            pairs = sorted(zip(lab, sc), key=lambda p: str(p[0]))
            x["labels"], x["scores"] = [p[0] for p in pairs], [p[1] for p in pairs]
    return x


def run_case(nlp, top, path):
    with open(path, encoding="utf-8") as f:
        case = json.load(f)
    name = os.path.basename(path)[:-5]
    cmd = [nlp, case["task"], "--json"]
    if case["model"] is not None:
        cmd += ["--model", os.path.join(top, case["model"])]
    cmd += case["args"]
    cmd += os.environ.get("TASK_EXTRA_ARGS", "").split()
    stdin = "".join(t + "\n" for t in case["inputs"])
    p = subprocess.run(cmd, input=stdin.encode("utf-8"), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    errors = []
    tol = case.get("tol", TOL)
    diff = [0.0]
    if p.returncode != case["exit"]:
        errors.append("exit status %d, expected %d" % (p.returncode, case["exit"]))
    # one line per input, in order; a failed input's line is an error object
    lines = [l for l in out.split("\n") if l]
    if len(lines) != len(case["expected"]):
        errors.append("%d result lines, expected %d" % (len(lines), len(case["expected"])))
    for i, exp in enumerate(case["expected"]):
        try:
            got = json.loads(lines[i]) if i < len(lines) else None
        except ValueError:
            errors.append("input %d: not JSON: %s" % (i + 1, lines[i]))
            got = None
        if isinstance(exp, dict) and "error" in exp:
            msg = "nlp %s: input %d: %s" % (case["task"], i + 1, exp["error"])
            if msg not in err:
                errors.append("stderr lacks '%s'" % msg)
            if not (isinstance(got, dict) and got.get("error") == exp["error"] and
                    isinstance(got.get("error_type"), str)):
                errors.append("input %d: expected an error object, got %r" % (i + 1, got))
            continue
        if got is not None and tol != TOL:
            exp, got = by_label(exp), by_label(got)
        if got is not None:
            compare(exp, got, "input %d" % (i + 1), errors, tol, diff)
    for s in case.get("stderr", []):
        if s not in err:
            errors.append("stderr lacks '%s'" % s)
    if errors:
        print("FAIL %s/%s: %s" % (case["task"], name, " ".join(cmd[1:])))
        for e in errors[:10]:
            print("    " + e)
        if err:
            print("    stderr: " + err.strip().replace("\n", "\n            "))
        return False
    if tol != TOL:
        print("PASS %s/%s (largest score difference %.3g, tol %g)" % (case["task"], name,
                                                                      diff[0], tol))
    else:
        print("PASS %s/%s" % (case["task"], name))
    return True


def main():
    if len(sys.argv) < 2:
        print("usage: task_cases.py TASK [CASE...]", file=sys.stderr)
        return 2
    task = sys.argv[1]
    top = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    nlp = os.environ.get("NLP")
    if not nlp or not os.access(nlp, os.X_OK):
        print("SKIP: the nlp CLI ($NLP) is not built")
        return 77
    d = os.path.join(top, "data", "expected", task)
    names = sys.argv[2:] or sorted(f[:-5] for f in os.listdir(d) if f.endswith(".json"))
    ok = True
    for n in names:
        ok &= run_case(nlp, top, os.path.join(d, n + ".json"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
