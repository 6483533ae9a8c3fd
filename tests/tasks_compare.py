#!/usr/bin/env python3
"""
tests/tasks_compare.py - compare JSON Lines from `nlp TASK --json` with
the expected lines under data/expected/ (standard library only).

    tasks_compare.py EXPECTED.jsonl ACTUAL.jsonl [TOLERANCE]

Line i of each file is one input's result.  Objects must have the same
keys, arrays the same length, strings / integers / booleans equal exactly;
fields named "score" may differ by TOLERANCE (default 1e-4) in absolute
value.  Prints the first difference with its path and exits 1, else 0.
"""
import json
import sys


def diff(exp, act, path, tol):
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return "%s: expected an object, got %r" % (path, act)
        if set(exp) != set(act):
            return "%s: keys %s, expected %s" % (path, sorted(act), sorted(exp))
        for k in exp:
            d = diff(exp[k], act[k], "%s.%s" % (path, k), tol)
            if d:
                return d
        return None
    if isinstance(exp, list):
        if not isinstance(act, list):
            return "%s: expected an array, got %r" % (path, act)
        if len(exp) != len(act):
            return "%s: %d items, expected %d" % (path, len(act), len(exp))
        for i, (e, a) in enumerate(zip(exp, act)):
            d = diff(e, a, "%s[%d]" % (path, i), tol)
            if d:
                return d
        return None
    if path.endswith(".score") or (isinstance(exp, float) and not isinstance(exp, bool)):
        if not isinstance(act, (int, float)) or isinstance(act, bool):
            return "%s: expected a number, got %r" % (path, act)
        if abs(float(exp) - float(act)) > tol:
            return "%s: %r, expected %r (tolerance %g)" % (path, act, exp, tol)
        return None
    if type(exp) is not type(act) or exp != act:
        return "%s: %r, expected %r" % (path, act, exp)
    return None


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: tasks_compare.py EXPECTED ACTUAL [TOLERANCE]\n")
        return 2
    tol = float(sys.argv[3]) if len(sys.argv) == 4 else 1e-4
    with open(sys.argv[1], encoding="utf-8") as f:
        exp = [json.loads(l) for l in f if l.strip()]
    with open(sys.argv[2], encoding="utf-8") as f:
        act = [json.loads(l) for l in f if l.strip()]
    if len(exp) != len(act):
        print("%s: %d lines, expected %d" % (sys.argv[2], len(act), len(exp)))
        return 1
    for i, (e, a) in enumerate(zip(exp, act)):
        d = diff(e, a, "line %d" % (i + 1), tol)
        if d:
            print("%s: %s" % (sys.argv[1], d))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
