#!/usr/bin/python3
"""gen_corpus.py - reference parses and writes for tests/check_corpus.c.

Python's csv module (newline='' reading, utf-8-sig decoding so a byte order
mark is dropped) and json module are the reference.  For each reading case
it records the input, the delimiter, and the records with the 1-based
physical line each starts on; for each writing case the rows and the exact
bytes csv.writer(lineterminator='\\n') and json.dumps(ensure_ascii=False,
separators=(',', ':')) produce.  Blank lines are not records (csv gives []
for them; the reader skips them).

Run: /usr/bin/python3 tests/gen/gen_corpus.py > data/expected/corpus/cases.json
"""
import csv
import io
import json

READ_CASES = [
    ("plain", ",", "a,b\n1,2\n3,4\n"),
    ("crlf", ",", "a,b\r\n1,2\r\n3,4\r\n"),
    ("no_final_newline", ",", "a,b\n1,2\n3,4"),
    ("bom", ",", "\ufefftext,label\nhello,1\n"),
    ("quoted", ",", 'a,b\n"x, y","z"\n"",q\n'),
    ("doubled_quotes", ",", 'a,b\n"say ""hi""",2\n"""",3\n'),
    ("embedded_newline", ",", 'id,text\n1,"line one\nline two"\n2,after\n'),
    ("embedded_crlf", ",", 'id,text\r\n1,"one\r\ntwo\r\nthree"\r\n2,x\r\n'),
    ("embedded_delimiter", ",", 'a,b\n"1,2,3",4\n'),
    ("empty_fields", ",", "a,b,c\n,,\n1,,3\n"),
    ("blank_lines", ",", "a,b\n\n1,2\n\r\n\n3,4\n"),
    ("quote_inside_unquoted", ",", 'a,b\nsix" tall,5\n'),
    ("text_after_closing_quote", ",", 'a,b\n"ab"cd,5\n'),
    ("utf8", ",", "text,n\ncaf\u00e9 \u65e5\u672c \U0001F600,1\n"),
    ("tsv", "\t", "text\tlabel\nit's \"fine\", really\t1\n\"q\tx\"\t0\n"),
    ("semicolon", ";", "a;b\n1,5;2\n"),
    ("pipe_quoted", "|", 'a|b\n"x|y"|z\n'),
    ("single_column", ",", "text\nfirst\nsecond\n"),
    ("trailing_spaces", ",", "a,b\n x , y \n"),
]

WRITE_ROWS = [
    ["text", "label", "score"],
    ["plain", "POSITIVE", "0.99"],
    ["with, comma", "x", "1"],
    ['say "hi"', "", "2"],
    ["multi\nline", "crlf\r\nin", "3"],
    ["tab\there", "caf\u00e9 \U0001F600", "-0.5"],
    [" spaced ", "\\back", "1e-07"],
]

JSON_ROWS = [
    {"text": "plain", "n": 1},
    {"text": 'quote " and \\ backslash', "n": 2.5},
    {"text": "ctrl \x01 \x1f \b \f \n \r \t", "n": None},
    {"text": "caf\u00e9 \U0001F600 \u2028", "n": True},
    {"text": "", "n": [1, {"a": "b"}]},
]


def read_case(name, delim, text):
    rows, lines = [], []
    data = text.encode("utf-8")
    f = io.StringIO(data.decode("utf-8-sig"), newline="")
    reader = csv.reader(f, delimiter=delim)
    prev_end = 0
    for rec in reader:
        start = prev_end + 1
        prev_end = reader.line_num
        if rec == []:
            continue
        rows.append(rec)
        lines.append(start)
    return {"name": name, "delimiter": delim, "input": text,
            "header": rows[0], "rows": rows[1:], "lines": lines[1:]}


def main():
    out = {"read": [read_case(*c) for c in READ_CASES]}
    for delim, key in ((",", "csv"), ("\t", "tsv")):
        s = io.StringIO()
        csv.writer(s, delimiter=delim, lineterminator="\n").writerows(WRITE_ROWS)
        out["write_" + key] = {"rows": WRITE_ROWS, "output": s.getvalue()}
    one = io.StringIO()
    csv.writer(one, lineterminator="\n").writerows([["text"], [""], ["a"]])
    out["write_single_column"] = {"rows": [["text"], [""], ["a"]], "output": one.getvalue()}
    out["jsonl"] = {
        "input": "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in JSON_ROWS),
        "columns": ["text", "n"],
        "texts": [o["text"] for o in JSON_ROWS],
        "literals": [json.dumps(o["n"], separators=(",", ":")) for o in JSON_ROWS],
        "output": "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n"
                          for o in JSON_ROWS),
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
