#!/usr/bin/python3
"""
tests/gen/gen_tokenizer_expected.py - expected outputs for the tokenizer
tests (tests/check_tokenizer.c, tests/tokenize_cli.sh).

    cd /work/main && /usr/bin/python3 tests/gen/gen_tokenizer_expected.py [SHARED_DATA]

SHARED_DATA defaults to ../shared/data.  Expected ids, type ids and
code-point offsets come from tests/gen/ref_tokenizer.py; every ids / type
ids list is cross-checked against Transformers.js (tests/gen/gen_tokenizer.mjs
run on a tokenizer.json written by make_bert_tokenizer_json.py) and the
script reports each disagreement.  Writes under data/expected/tokenizer/:

  parity.jsonl      11,700+ real sentences, bert-base-uncased vocab: each line
                    {"src", "i", "nb", "ids", "doff"} - the source file and
                    index of the sentence (re-extracted by the test, never
                    committed), its byte length, ids and delta-coded offsets
                    [s0 - 0, e0 - s0, s1 - e0, e1 - s1, ...]; plus the hard
                    cases (src "hard", with "type_ids").
  hard_inputs.jsonl the hand-made hard cases: {"text", "pair"?}
  hard_cases.jsonl  expected output of each hard case under each
                    configuration, with the small committed vocabulary
                    mini/vocab.txt: {"case", "cfg", "ids", "type_ids", "off",
                    "words"}
  truncation.jsonl  pairs under max_length / strategies: {"case", "max_length",
                    "strategy", "ids", "type_ids", "off", "n_truncated"} or
                    {"error": true}
  decode.jsonl      {"ids", "skip_special", "text"}
  added_tokens.jsonl  texts with extra added tokens (tokenizer.json
                    added_tokens, normalized false): {"added", "text", "ids",
                    "off", "words"}
  added_normalized.jsonl  the same with added tokens marked "normalized"
                    (ref_tokenizer.py only: Transformers.js ignores the flag)
  mini/vocab.txt    vocabulary used by the hard cases (a subset of
                    bert-base-uncased: specials, single characters, "##"
                    single characters, and every token the hard cases need)
  mini-json/tokenizer.json  the same vocabulary as a BertTokenizerFast file

Truncation is not cross-checked: Transformers.js cuts the finished sequence
(dropping the last [SEP]) instead of following tokenizers' truncate_encodings,
which ref_tokenizer.truncate implements.

Known disagreement: Transformers.js 3.8 spaces CJK ideographs per UTF-16
code unit, so astral ones (U+20000 and up, the "astral CJK" hard case) are
not split; Hugging Face tokenizers split per code point, as ref_tokenizer.py
does (and take U+2B920, not U+2B820, as the start of that CJK range).
Transformers.js also lets WordPiece use added tokens as pieces (its vocabulary
merges them), so "COVID19" lower-cased to an added token's text becomes that
token there; in tokenizers the model's vocabulary excludes added tokens.
Every other input agrees.

Sentence extraction (the C test repeats it exactly):
  sst2/train.tsv   file lines 2..5001, text = field before the first TAB
  sst2/dev.tsv     every line from 2, same field
  conll2003/valid.txt  sentences = runs of non-empty lines, first
                   space-separated field of each line joined with " ",
                   sentences starting with -DOCSTART- skipped; index counts
                   kept sentences; all of them
  squad/dev-a-v1.1.json  the first 600 paragraph contexts, in file order
  agnews/test-a.csv  rows 0..1999 (RFC 4180 quoting), title + " " + description
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import ref_tokenizer as rt  # noqa: E402
import make_bert_tokenizer_json as mk  # noqa: E402

OUT = os.path.join(TOP, "data", "expected", "tokenizer")
NODE_PATH = os.path.join(TOP, "tests", "ref", "node_modules")

HARD = [
    {"text": "Hello, World!"},
    {"text": "Héllo wörld, naïve café CRÈME brûlée Ångström"},
    {"text": "cafe\u0301 re\u0301sume\u0301 (decomposed accents)"},
    {"text": "東京は日本の首都です。北京欢迎你！"},
    {"text": "한국어 텍스트와 ひらがな カタカナ mixed 中文text"},
    {"text": "emoji 😀👍🏽 and ❤️ plus 🤖robots"},
    {"text": "Привет, мир! Ёлка и ЁЖИК. Ελληνικά ΣΟΦΙΑ σοφία"},
    {"text": "ctrl\x01chars\x07here\x1b[0m and\u200bzero\u200dwidth\ufeffbom"},
    {"text": "  runs   of\t\tspaces\n\nand\r\nnewlines\u00a0nbsp\u3000ideo  "},
    {"text": "a" * 99 + " " + "b" * 100 + " " + "c" * 101 + " end"},
    {"text": "supercalifragilisticexpialidocious antidisestablishmentarianism"},
    {"text": "The [MASK] sat on the mat. [SEP] Then [CLS] and [PAD] [UNK]."},
    {"text": "[MASK][MASK]x[MASK] [mask] [ MASK ] [MASK"},
    {"text": "don't can't won't I'm you're it's we've"},
    {"text": "$100 + 5% = ~ ^_^ `code` <tag> |pipe| @user #hash & a/b\\c"},
    {"text": "“Smart quotes” — em–dash … ‘single’ «guillemets» ¿qué? ¡sí!"},
    {"text": "İstanbul ıiİI ß ẞ ﬁ ligature Ⅻ ① ２０２４"},
    {"text": "\ufffdreplacement\ufffd char and \x7f del \x1f unit\x1fsep"},  # NUL: in check_tokenizer.c
    {"text": "unassigned\u0378kept private\ue000use\U0010fffddropped soft\u00adhyphen rtl\u200fmark"},
    {"text": "e-mail: john.doe@example.com, url: https://example.org/a?b=c&d=e"},
    {"text": "numbers 3.14159 1,000,000 2nd 10th -42 +7 1e-9"},
    {"text": ""},
    {"text": "   \t\n  "},
    {"text": "\u0301\u0301 leading combining marks"},
    {"text": "Tab\tseparated\tvalues\u2028line\u2029para\u0085nel\u000bvt\u000cff"},
    {"text": "Cased Words With CAPITALS and MiXeD cAsE"},
    {"text": "unicode 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁 astral CJK \U0002B820\U0002B821 ext-E \U0002B920\U0002B921"},
    {"text": "What is the capital of France?", "pair": "Paris is the capital and most populous city of France."},
    {"text": "Short.", "pair": "A much longer second sequence with [MASK] inside and accents: é à ü."},
    {"text": "", "pair": "only the second"},
]

TRUNC = [
    # (case text, pair, max_length, strategy)
    ("one two three four five six seven eight", None, 6, "longest_first"),
    ("one two three four five six seven eight", None, 6, "only_first"),
    ("one two three four five six seven eight", "nine ten", 8, "longest_first"),
    ("one two", "three four five six seven eight nine ten", 8, "longest_first"),
    ("one two three four five", "six seven eight nine ten", 8, "longest_first"),
    ("one two three four five", "six seven eight nine ten", 9, "longest_first"),
    ("one two three four five six", "seven eight nine ten", 9, "longest_first"),
    ("one two three four five six", "seven eight nine ten", 9, "only_first"),
    ("one two three four five six", "seven eight nine ten", 9, "only_second"),
    ("one two", "three four five six seven eight", 7, "only_first"),
    ("one two three", "four", 5, "only_second"),
    ("one two three four five six", "seven", 4, "longest_first"),
    ("one two three four five six", "seven eight nine ten", 3, "longest_first"),
    ("un deux trois", None, 2, "longest_first"),
    ("one two three", None, 100, "longest_first"),
    ("one two three", "four five", 3, "only_first"),
    ("one two three", None, 2, "only_second"),
    ("one two three", None, 3, "only_second"),
]

CFGS = {
    "uncased": dict(lowercase=True, strip_accents=None, tokenize_chinese_chars=True),
    "cased": dict(lowercase=False, strip_accents=None, tokenize_chinese_chars=True),
    "cased_strip": dict(lowercase=False, strip_accents=True, tokenize_chinese_chars=True),
    "uncased_nostrip": dict(lowercase=True, strip_accents=False, tokenize_chinese_chars=True),
    "nochinese": dict(lowercase=True, strip_accents=None, tokenize_chinese_chars=False),
}


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l[:-1] if l.endswith("\r") else l for l in lines]


def extract(shared):
    out = []
    lines = read_lines(os.path.join(shared, "sst2/train.tsv"))
    for ln in range(2, 5002):
        out.append(("sst2/train.tsv", ln, lines[ln - 1].split("\t")[0]))
    lines = read_lines(os.path.join(shared, "sst2/dev.tsv"))
    for ln in range(2, len(lines) + 1):
        out.append(("sst2/dev.tsv", ln, lines[ln - 1].split("\t")[0]))
    lines = read_lines(os.path.join(shared, "conll2003/valid.txt"))
    sent, k = [], 0
    for l in lines + [""]:
        if l.strip() == "":
            if sent:
                if sent[0] != "-DOCSTART-":
                    out.append(("conll2003/valid.txt", k, " ".join(sent)))
                    k += 1
                sent = []
            continue
        sent.append(l.split(" ")[0])
    with open(os.path.join(shared, "squad/dev-a-v1.1.json"), encoding="utf-8") as f:
        sq = json.load(f)
    k = 0
    for art in sq["data"]:
        for p in art["paragraphs"]:
            if k < 600:
                out.append(("squad/dev-a-v1.1.json", k, p["context"]))
            k += 1
    with open(os.path.join(shared, "agnews/test-a.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for k in range(2000):
        out.append(("agnews/test-a.csv", k, rows[k][1] + " " + rows[k][2]))
    return out


def run_tjs(model_dir, queries):
    with tempfile.TemporaryDirectory() as td:
        qi = os.path.join(td, "in.jsonl")
        qo = os.path.join(td, "out.jsonl")
        with open(qi, "w", encoding="utf-8") as f:
            for q in queries:
                f.write(json.dumps(q, ensure_ascii=False) + "\n")
        env = dict(os.environ, NODE_PATH=NODE_PATH)
        subprocess.run(["node", os.path.join(HERE, "gen_tokenizer.mjs"), model_dir, qi, qo],
                       check=True, env=env, cwd=TOP)
        return [json.loads(l) for l in open(qo, encoding="utf-8") if l.strip()]


def flat(offsets):
    return [x for se in offsets for x in se]


def delta(offsets):
    """[(s, e), ...] -> [s0 - 0, e0 - s0, s1 - e0, e1 - s1, ...] (compact)."""
    out, prev = [], 0
    for s, e in offsets:
        out += [s - prev, e - s]
        prev = e
    return out


def compare(label, queries, refs, tjs):
    bad = 0
    for q, r, t in zip(queries, refs, tjs):
        if r["ids"] != t["ids"] or r["type_ids"] != t["type_ids"]:
            bad += 1
            if bad <= 8:
                print("  DIFF %s: %r\n    ref %s\n    tjs %s" % (label, q["text"][:80], r["ids"][:40], t["ids"][:40]))
    print("%s: %d inputs, %d agree with Transformers.js, %d differ" % (label, len(queries), len(queries) - bad, bad))
    return bad


def dump(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "..", "shared", "data")
    full = rt.load_vocab(os.path.join(shared, "vocab/bert-base-uncased/vocab.txt"))
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tokgen-")

    # ---- parity over real sentences + hard cases, full vocabulary
    sents = extract(shared)
    queries, rows = [], []
    for src, i, text in sents:
        e = rt.encode(full, text)
        queries.append({"text": text})
        rows.append(({"src": src, "i": i, "nb": len(text.encode("utf-8")),
                      "ids": e["ids"], "doff": delta(e["offsets"])}, e))
    for k, h in enumerate(HARD):
        e = rt.encode(full, h["text"], pair=h.get("pair"))
        queries.append(h)
        rows.append(({"src": "hard", "i": k, "nb": len(h["text"].encode("utf-8")),
                      "ids": e["ids"], "type_ids": e["type_ids"],
                      "doff": delta(e["offsets"])}, e))
    fdir = os.path.join(tmp, "bert-base-uncased")
    mk.build(os.path.join(shared, "vocab/bert-base-uncased/vocab.txt"), fdir)
    tjs = run_tjs(fdir, queries)
    compare("parity (bert-base-uncased)", queries, [r[1] for r in rows], tjs)
    dump(os.path.join(OUT, "parity.jsonl"), [r[0] for r in rows])

    # ---- the small vocabulary for the always-run hard cases
    need = set(full[:1996])
    need.update(t for t in full if t.startswith("##") and len(t) == 3)
    need.update(full[1996:3000])
    for h in HARD:
        for cfg in CFGS.values():
            for txt in (h["text"], h.get("pair")):
                if txt is not None:
                    need.update(t for t, *_ in rt.tokenize(full, txt, **cfg))
    for t, p, _, _ in TRUNC:
        for txt in (t, p):
            if txt is not None:
                need.update(x for x, *_ in rt.tokenize(full, txt))
    mini = [t for t in full if t in need]
    os.makedirs(os.path.join(OUT, "mini"), exist_ok=True)
    with open(os.path.join(OUT, "mini", "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(mini) + "\n")
    mk.build(os.path.join(OUT, "mini", "vocab.txt"), os.path.join(OUT, "mini-json"))
    os.remove(os.path.join(OUT, "mini-json", "vocab.txt"))
    dump(os.path.join(OUT, "hard_inputs.jsonl"), HARD)

    hard_rows = []
    for name, cfg in CFGS.items():
        refs = []
        for k, h in enumerate(HARD):
            e = rt.encode(mini, h["text"], pair=h.get("pair"), **cfg)
            refs.append(e)
            hard_rows.append({"case": k, "cfg": name, "ids": e["ids"], "type_ids": e["type_ids"],
                              "off": flat(e["offsets"]),
                              "words": [-1 if w is None else w for w in e["word_ids"]]})
        cdir = os.path.join(tmp, "mini-" + name)
        mk.build(os.path.join(OUT, "mini", "vocab.txt"), cdir, cfg["lowercase"],
                 cfg["strip_accents"], cfg["tokenize_chinese_chars"])
        compare("hard cases [%s]" % name, HARD, refs, run_tjs(cdir, HARD))
    dump(os.path.join(OUT, "hard_cases.jsonl"), hard_rows)

    # added tokens from tokenizer.json: one plain (matched in raw text, not
    # special), one special; ids after the vocabulary
    added = [{"id": len(mini), "content": "covid19", "special": False},
             {"id": len(mini) + 1, "content": "<ent>", "special": True}]
    adir = os.path.join(tmp, "mini-added")
    mk.build(os.path.join(OUT, "mini", "vocab.txt"), adir)
    with open(os.path.join(adir, "tokenizer.json"), encoding="utf-8") as f:
        tjson = json.load(f)
    for a in added:
        tjson["added_tokens"].append({"id": a["id"], "content": a["content"], "single_word": False,
                                      "lstrip": False, "rstrip": False, "normalized": False,
                                      "special": a["special"]})
    with open(os.path.join(adir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tjson, f, ensure_ascii=False)
    atexts = ["covid19 cases rose", "COVID19 and Covid19 differ from covid19",
              "the<ent>Paris<ent> is big", "xcovid19x <ent><ent> covid1 [MASK]covid19"]
    amap = {a["content"]: a["id"] for a in added}
    arows, arefs = [], []
    for t in atexts:
        e = rt.encode(mini, t, added_tokens=amap)
        arefs.append(e)
        arows.append({"added": added, "text": t, "ids": e["ids"], "off": flat(e["offsets"]),
                      "words": [-1 if w is None else w for w in e["word_ids"]]})
    compare("added tokens", [{"text": t} for t in atexts], arefs,
            run_tjs(adir, [{"text": t} for t in atexts]))
    dump(os.path.join(OUT, "added_tokens.jsonl"), arows)

    # added tokens marked "normalized": matched in the normalised text.
    # Transformers.js matches every added token in the raw text, so it is no
    # reference here (its disagreements are printed for information only).
    nadded = [{"id": len(mini), "content": "Covid19", "special": False, "normalized": True},
              {"id": len(mini) + 1, "content": "hello world", "special": False, "normalized": True},
              {"id": len(mini) + 2, "content": "NAÏVE", "special": False, "normalized": True},
              {"id": len(mini) + 3, "content": "<ent>", "special": True, "normalized": False}]
    ndir = os.path.join(tmp, "mini-added-norm")
    mk.build(os.path.join(OUT, "mini", "vocab.txt"), ndir)
    with open(os.path.join(ndir, "tokenizer.json"), encoding="utf-8") as f:
        tjson = json.load(f)
    for a in nadded:
        tjson["added_tokens"].append({"id": a["id"], "content": a["content"], "single_word": False,
                                      "lstrip": False, "rstrip": False,
                                      "normalized": a["normalized"], "special": a["special"]})
    with open(os.path.join(ndir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tjson, f, ensure_ascii=False)
    ntexts = ["COVID19 cases rose", "Hello   World! hello\tworld, HELLO WORLD",
              "a naïve NAIVE Naïve approach", "xcovid19y<ent>covid19 [MASK]hello world",
              "hello worldly covid190"]
    raw_map = {a["content"]: a["id"] for a in nadded if not a["normalized"]}
    norm_map = {a["content"]: a["id"] for a in nadded if a["normalized"]}
    nrows, nrefs = [], []
    for t in ntexts:
        e = rt.encode(mini, t, added_tokens=raw_map, added_normalized=norm_map)
        nrefs.append(e)
        nrows.append({"added": nadded, "text": t, "ids": e["ids"], "off": flat(e["offsets"]),
                      "words": [-1 if w is None else w for w in e["word_ids"]]})
    compare("normalized added tokens (information only)", [{"text": t} for t in ntexts], nrefs,
            run_tjs(ndir, [{"text": t} for t in ntexts]))
    dump(os.path.join(OUT, "added_normalized.jsonl"), nrows)

    trows = []
    for k, (a, b, ml, st) in enumerate(TRUNC):
        try:
            e = rt.encode(mini, a, pair=b, max_length=ml, truncation=st)
            trows.append({"case": k, "text": a, "pair": b, "max_length": ml, "strategy": st,
                          "ids": e["ids"], "type_ids": e["type_ids"], "off": flat(e["offsets"]),
                          "n_truncated": e["n_truncated"]})
        except ValueError:
            trows.append({"case": k, "text": a, "pair": b, "max_length": ml, "strategy": st,
                          "error": True})
    dump(os.path.join(OUT, "truncation.jsonl"), trows)

    drows = []
    for k, h in enumerate(HARD[:20] + [{"text": "i do not think it 's here , is n't it ?"}]):
        e = rt.encode(mini, h["text"], pair=h.get("pair"))
        for skip in (False, True):
            drows.append({"ids": e["ids"], "skip_special": skip,
                          "text": rt.decode(mini, e["ids"], skip_special_tokens=skip)})
    tj = run_tjs(os.path.join(tmp, "mini-uncased"),
                 [{"decode": r["ids"], "skip_special": r["skip_special"]} for r in drows])
    bad = [(r, t) for r, t in zip(drows, tj) if r["text"] != t["text"]]
    for r, t in bad[:5]:
        print("  DIFF decode: ref %r tjs %r" % (r["text"], t["text"]))
    print("decode: %d cases, %d agree with Transformers.js" % (len(drows), len(drows) - len(bad)))
    dump(os.path.join(OUT, "decode.jsonl"), drows)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
