#!/usr/bin/python3
"""
tests/gen/gen_tasks_tok.py - fixtures and expected outputs for the ner and
qa task plugins.

Run from the project root with the Debian interpreter (it has torch):

    /usr/bin/python3 tests/gen/gen_tasks_tok.py

It writes four random-weight checkpoints with 64 positions, so modest
inputs already need several windows:

    data/models/ner-bert        BertForTokenClassification, cased
    data/models/ner-distilbert  DistilBertForTokenClassification, uncased
    data/models/qa-bert         BertForQuestionAnswering, uncased
    data/models/qa-distilbert   DistilBertForQuestionAnswering, cased

and the expected outputs under data/expected/{ner,qa}/ (one JSON document
per input line, in input order).

The post-processing below is a Python port of Hugging Face's
TokenClassificationPipeline (gather_pre_entities, aggregate,
aggregate_word(s), group_sub_entities, group_entities, the overlapping
window merge) and QuestionAnsweringPipeline (only_second truncation with a
stride, p_mask, select_starts_ends, decode_spans, get_indices with
align_to_words, top_k across windows, handle_impossible_answer), written
from the published algorithm.  Logits come from the PyTorch reference
(torch_ref.py), token ids / offsets / word ids from ref_tokenizer.py; none
of it runs the C code under test.

One deliberate extension is mirrored here: the ner task runs long texts in
overlapping windows by default (Hugging Face only does with stride=), with
stride min(128, window / 2) where window = max_length - 2.  For a text that
fits one window this is exactly Hugging Face's output.  With
aggregation "none" (which Hugging Face refuses to combine with stride) the
windows are merged by the same overlap rule and "index" is the token's
position in the whole encoding ([CLS] = 0).
"""
import json
import os
import re
import sys
from collections import Counter

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_tokenizer as rt  # noqa: E402
import torch_ref as tr  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(ROOT, "..", "shared", "data")
MODELS = os.path.join(ROOT, "data", "models")
EXPECTED = os.path.join(ROOT, "data", "expected")

NER_LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG",
              "B-LOC", "I-LOC"]
MAX_POS = 64

# ---------------------------------------------------------------- vocab


def build_vocab(cased):
    """Specials, printable ASCII, "##" + alphanumerics, then the most
    frequent ASCII tokens of bert-base-uncased (words and pieces), and for
    a cased vocab the most frequent capitalised CoNLL words.  Small on
    purpose: most words split into several pieces."""
    full = rt.load_vocab(os.path.join(SHARED, "vocab", "bert-base-uncased", "vocab.txt"))
    out = list(tr.SPECIALS)
    seen = set(out)

    def add(t):
        if t not in seen:
            seen.add(t)
            out.append(t)

    for c in range(33, 127):
        add(chr(c))
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    if cased:
        alnum += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for c in alnum:
        add("##" + c)
    n = 0
    for t in full[1996:]:
        if n >= 1500:
            break
        if all(32 < ord(ch) < 127 for ch in t) and not t.startswith("["):
            add(t)
            n += 1
    if cased:
        cnt = Counter()
        with open(os.path.join(SHARED, "conll2003", "train.txt"), encoding="utf-8") as f:
            for line in f:
                w = line.split(" ", 1)[0]
                if re.fullmatch(r"[A-Z][a-z]+", w):
                    cnt[w] += 1
        for w, _ in cnt.most_common(160):
            add(w)
    return out

# ---------------------------------------------------------------- models


def make_model(name, arch, cased, seed, labels=None):
    vocab = build_vocab(cased)
    distil = arch.startswith("DistilBert")
    if distil:
        cfg = tr.distilbert_config(len(vocab), dim=32, layers=2, heads=2,
                                   hidden_dim=64, max_pos=MAX_POS,
                                   architectures=(arch,), labels=labels)
    else:
        cfg = tr.bert_config(len(vocab), hidden=32, layers=2, heads=2,
                             intermediate=64, max_pos=MAX_POS,
                             architectures=(arch,), labels=labels)
    state = tr.random_state(cfg, arch, seed)
    # Peaked, varied predictions: scale the head up; make "O" common.
    if "classifier.weight" in state:
        state["classifier.weight"] = state["classifier.weight"] * 4.0
        state["classifier.bias"] = state["classifier.bias"].clone()
        state["classifier.bias"][0] += 2.5
    if "qa_outputs.weight" in state:
        state["qa_outputs.weight"] = state["qa_outputs.weight"] * 3.0
    tc = {"do_lower_case": not cased, "model_max_length": MAX_POS}
    tr.write_checkpoint(os.path.join(MODELS, name), cfg, state, vocab,
                        tokenizer_config=tc)
    return {"name": name, "config": cfg, "state": state, "vocab": vocab,
            "lower": not cased}


def forward(m, ids, type_ids):
    with torch.no_grad():
        h = tr.encoder_forward(m["state"], m["config"], [ids], [type_ids])
        return h


def tok(m, text):
    """Tokens of one text without template tokens.  m["tok_opts"], when
    present, adds keyword arguments of rt.encode (strip_accents, ...)."""
    return rt.encode(m["vocab"], text, lowercase=m["lower"], add_special_tokens=False,
                     **m.get("tok_opts", {}))


def max_len(m):
    """The model's maximum length in tokens: m["max_len"] (for a checkpoint,
    model_max_length capped by max_position_embeddings, as the C tasks take
    it), else the fixtures' MAX_POS."""
    return m.get("max_len", MAX_POS)

# ---------------------------------------------------------------- helpers


def wordpiece_decode(tokens):
    """BertTokenizerFast.convert_tokens_to_string: the WordPiece decoder
    with cleanup (continuations glued, a space before other tokens, then
    the per-token clean-up replacements)."""
    out = []
    for i, t in enumerate(tokens):
        if i != 0:
            if t.startswith("##"):
                t = t.replace("##", "", 1)
            else:
                t = " " + t
        out.append(rt._cleanup(t))
    return "".join(out)


def softmax_rows(x):
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def overflow_ranges(n, width, stride):
    """The slices tokenizers' truncation with overflow produces: [start,
    stop) windows of width tokens, each starting width - stride after the
    previous, until one reaches the end."""
    if n <= width:
        return [(0, n)]
    assert stride < width
    out = []
    start = 0
    while True:
        stop = min(start + width, n)
        out.append((start, stop))
        if stop == n:
            return out
        start += width - stride

# ---------------------------------------------------------------- NER


def get_tag(name):
    if name.startswith("B-"):
        return "B", name[2:]
    if name.startswith("I-"):
        return "I", name[2:]
    return "I", name


def gather_pre_entities(m, sentence, enc, base, scores):
    """enc: one window's tokens (no template tokens), base: the global
    index of its first token in [CLS] + tokens.  m may set "unk_token",
    "specials" and "word_aware" (False: a tokenizer without a
    continuing_subword_prefix, for which the pipeline falls back to
    looking for a space before or at the token's start)."""
    unk = m["vocab"].index(m.get("unk_token", "[UNK]"))
    specials = m.get("specials", rt.SPECIALS_DEFAULT)
    pre = []
    for j, (tid, token, (s, e)) in enumerate(zip(enc["ids"], enc["tokens"], enc["offsets"])):
        word = token
        word_ref = sentence[s:e]
        if token in specials and word_ref == token:
            continue  # a special token written in the text: special_tokens_mask 1
        if m.get("word_aware", True):
            is_subword = len(word) != len(word_ref)
        else:
            is_subword = s > 0 and " " not in sentence[s - 1:s + 1]
        if tid == unk:
            word = word_ref
            is_subword = False
        pre.append({"word": word, "scores": scores[j], "start": s, "end": e,
                    "index": base + j, "is_subword": is_subword})
    return pre


def aggregate_word(m, entities, strategy):
    labels = m["config"]["id2label"]
    word = m.get("decode", wordpiece_decode)([e["word"] for e in entities])
    if strategy == "first":
        sc = entities[0]["scores"]
        idx = int(sc.argmax())
        score = sc[idx]
    elif strategy == "max":
        best = max(entities, key=lambda e: e["scores"].max())
        sc = best["scores"]
        idx = int(sc.argmax())
        score = sc[idx]
    elif strategy == "average":
        avg = np.nanmean(np.stack([e["scores"] for e in entities]), axis=0)
        idx = int(avg.argmax())
        score = avg[idx]
    else:
        raise ValueError(strategy)
    return {"entity": labels[str(idx)], "score": score, "word": word,
            "start": entities[0]["start"], "end": entities[-1]["end"]}


def aggregate_words(m, pre, strategy):
    out = []
    group = None
    for e in pre:
        if group is None:
            group = [e]
        elif e["is_subword"]:
            group.append(e)
        else:
            out.append(aggregate_word(m, group, strategy))
            group = [e]
    if group is not None:
        out.append(aggregate_word(m, group, strategy))
    return out


def join_words(entities):
    """The ner task's documented difference from the pipeline for
    tokenizers without a continuation mark: words (already text) of a group
    are concatenated, with a space before a word that follows a gap and
    does not start with one, instead of being decoded a second time."""
    out = entities[0]["word"]
    for prev, e in zip(entities, entities[1:]):
        out += (" " if e["start"] > prev["end"] and not e["word"].startswith(" ") else "") + e["word"]
    return out


def group_sub_entities(m, entities, words=False):
    tag = entities[0]["entity"].split("-", 1)[-1]
    scores = np.nanmean([e["score"] for e in entities])
    if words and not m.get("word_aware", True):
        word = join_words(entities)
    else:
        word = m.get("decode", wordpiece_decode)([e["word"] for e in entities])
    return {"entity_group": tag, "score": np.mean(scores),
            "word": word,
            "start": entities[0]["start"], "end": entities[-1]["end"]}


def group_entities(m, entities, words=False):
    groups = []
    disagg = []
    for e in entities:
        if not disagg:
            disagg.append(e)
            continue
        bi, tag = get_tag(e["entity"])
        _, last_tag = get_tag(disagg[-1]["entity"])
        if tag == last_tag and bi != "B":
            disagg.append(e)
        else:
            groups.append(group_sub_entities(m, disagg, words))
            disagg = [e]
    if disagg:
        groups.append(group_sub_entities(m, disagg, words))
    return groups


def aggregate(m, pre, strategy):
    labels = m["config"]["id2label"]
    if strategy in ("none", "simple"):
        ents = []
        for p in pre:
            idx = int(p["scores"].argmax())
            ents.append({"entity": labels[str(idx)], "score": p["scores"][idx],
                         "index": p["index"], "word": p["word"],
                         "start": p["start"], "end": p["end"]})
    else:
        ents = aggregate_words(m, pre, strategy)
    if strategy == "none":
        return ents
    return group_entities(m, ents, strategy not in ("none", "simple"))


def aggregate_overlapping(entities):
    if not entities:
        return entities
    entities = sorted(entities, key=lambda x: x["start"])
    out = []
    prev = entities[0]
    for e in entities:
        if prev["start"] <= e["start"] < prev["end"]:
            cur_len = e["end"] - e["start"]
            prev_len = prev["end"] - prev["start"]
            if cur_len > prev_len or (cur_len == prev_len and e["score"] > prev["score"]):
                prev = e
        else:
            out.append(prev)
            prev = e
    out.append(prev)
    return out


def ner(m, text, strategy, ignore=("O",), stride=None):
    enc = tok(m, text)
    n = len(enc["ids"])
    width = max_len(m) - 2
    if stride is None:
        stride = min(128, width // 2)
    cls, sep = m["vocab"].index("[CLS]"), m["vocab"].index("[SEP]")
    windows = overflow_ranges(n, width, stride)
    all_ents = []
    for a, b in windows:
        ids = [cls] + enc["ids"][a:b] + [sep]
        h = forward(m, ids, [0] * len(ids))
        logits = tr.token_cls_logits(m["state"], m["config"], h)[0].numpy()
        scores = softmax_rows(logits)[1:-1]
        sub = {k: enc[k][a:b] for k in ("ids", "tokens", "offsets")}
        pre = gather_pre_entities(m, text, sub, a + 1, scores)
        ents = aggregate(m, pre, strategy)
        all_ents += [e for e in ents if e.get("entity") not in ignore
                     and e.get("entity_group") not in ignore]
    if len(windows) > 1:
        all_ents = aggregate_overlapping(all_ents)
    out = []
    for e in all_ents:
        d = {}
        for k in ("entity_group", "entity", "score", "index", "word", "start", "end"):
            if k in e:
                d[k] = float(e[k]) if k == "score" else e[k]
        out.append(d)
    return out, len(windows)

# ---------------------------------------------------------------- QA


def qa(m, question, context, top_k=1, handle_impossible=False,
       max_answer_len=15, max_seq_len=None, doc_stride=None, trace=None,
       max_question_len=None):
    """Hugging Face's answer(s) for one question / context.  trace, when a
    list, receives (score, token ids of the span) of every kept span."""
    if max_seq_len is None:
        max_seq_len = min(max_len(m), 384)
    if doc_stride is None:
        doc_stride = min(max_seq_len // 2, 128)
    q = tok(m, question)
    if max_question_len is not None:
        # the question's first tokens, as the slow-tokenizer path keeps
        # them (the fast path ignores max_question_len)
        q = {k: v[:max_question_len] if isinstance(v, list) else v for k, v in q.items()}
    c = tok(m, context)
    nq, nc = len(q["ids"]), len(c["ids"])
    width = max_seq_len - 3 - nq
    if nq + nc + 3 > max_seq_len:
        assert width > doc_stride, "context window not longer than the stride"
    cls, sep = m["vocab"].index("[CLS]"), m["vocab"].index("[SEP]")
    min_null = 1000000.0
    answers = []
    windows = overflow_ranges(nc, max(width, 1), doc_stride)
    for a, b in windows:
        ids = [cls] + q["ids"] + [sep] + c["ids"][a:b] + [sep]
        types = [0] * (nq + 2) + [1] * (b - a + 1)
        seq_ids = [None] + [0] * nq + [None] + [1] * (b - a) + [None]
        offsets = [(0, 0)] + q["offsets"] + [(0, 0)] + c["offsets"][a:b] + [(0, 0)]
        words = [None] + q["word_ids"] + [None] + c["word_ids"][a:b] + [None]
        h = forward(m, ids, types)
        st, en = tr.qa_logits(m["state"], m["config"], h)
        start = st.numpy()
        end = en.numpy()
        T = len(ids)
        p_mask = np.array([s != 1 for s in seq_ids], dtype=np.int64)
        p_mask[0] = 0  # [CLS] stays unmasked
        undesired = np.abs(p_mask - 1)
        mask = undesired == 0
        start = np.where(mask, -10000.0, start).astype(np.float32)
        end = np.where(mask, -10000.0, end).astype(np.float32)
        start = np.exp(start - start.max(axis=-1, keepdims=True))
        start = start / start.sum()
        end = np.exp(end - end.max(axis=-1, keepdims=True))
        end = end / end.sum()
        if handle_impossible:
            min_null = min(min_null, float(start[0, 0] * end[0, 0]))
        start[0, 0] = end[0, 0] = 0.0
        outer = np.matmul(start[:, :, None], end[:, None, :])
        cand = np.tril(np.triu(outer), max_answer_len - 1)
        flat = cand.flatten()
        if top_k == 1:
            order = [int(np.argmax(flat))]
        else:
            order = list(np.argsort(-flat, kind="stable")[:top_k])
        ok = set(np.nonzero(undesired)[0].tolist())
        for f in order:
            s, e = divmod(int(f), T)
            if s not in ok or e not in ok:
                continue
            score = float(cand[0, s, e])
            # align_to_words: whole words of the window's context tokens
            if words[s] is None or words[e] is None:
                si, ei = offsets[s][0], offsets[e][1]
            else:
                ws = [i for i in range(T) if seq_ids[i] == 1 and words[i] == words[s]]
                we = [i for i in range(T) if seq_ids[i] == 1 and words[i] == words[e]]
                si, ei = offsets[ws[0]][0], offsets[we[-1]][1]
            answers.append({"score": score, "start": si, "end": ei,
                            "answer": context[si:ei]})
            if trace is not None:
                trace.append((score, ids[s:e + 1]))
        assert T <= max_seq_len
    if handle_impossible:
        answers.append({"score": min_null, "start": 0, "end": 0, "answer": ""})
    answers = sorted(answers, key=lambda x: x["score"], reverse=True)[:top_k]
    return (answers[0] if len(answers) == 1 else answers), len(windows)

# ---------------------------------------------------------------- inputs


def conll_sentences():
    sents, cur = [], []
    with open(os.path.join(SHARED, "conll2003", "valid.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                if cur:
                    sents.append(" ".join(cur))
                cur = []
                continue
            w = line.split(" ")[0]
            if w != "-DOCSTART-":
                cur.append(w)
    return sents


NER_EXTRA = [
    "My name is Wolfgang and I live in Berlin.",
    "Hugging Face Inc. is a company based in New York City; its headquarters are in DUMBO.",
    "Ren\u00e9e Zellweger flew from Z\u00fcrich to S\u00e3o Paulo \u2013 twice!",
    "Apple's CEO met Microsoft executives in Redmond, Washington.",
    "Send the [MASK] to Par[SEP]is and Lon[UNK]don, not [unused] Rome.",
]

# ---------------------------------------------------------------- Transformers.js


def cross_check(models, texts, items):
    """Run Transformers.js's pipelines on ONNX exports of the same weights
    and check the port agrees where Transformers.js implements the
    algorithm: token-level NER (entity, score, index, word; it skips
    [UNK]) and one-window QA without an answer-length limit (scores and
    the decoded answer tokens).  Skipped when node or the ONNX exporter is
    unavailable."""
    import shutil
    import subprocess
    import tempfile
    try:
        import onnx_ref
    except Exception as e:  # pragma: no cover
        print("cross-check skipped (onnx_ref: %s)" % e)
        return
    node = shutil.which("node")
    if not node:
        print("cross-check skipped (no node)")
        return
    tmp = tempfile.mkdtemp(prefix="nlp-tok-xc-")
    try:
        jobs = []
        short = [t for t in texts if len(tok(models["ner-bert"], t)["ids"]) <= MAX_POS - 2
                 and len(tok(models["ner-distilbert"], t)["ids"]) <= MAX_POS - 2]
        # Transformers.js also masks [UNK] in the context (Hugging Face does
        # not), so only contexts without [UNK] are comparable.
        qshort = [it for it in items
                  if all(len(tok(models[n], it["question"])["ids"]) +
                         len(tok(models[n], it["context"])["ids"]) + 3 <= MAX_POS and
                         "[UNK]" not in tok(models[n], it["context"])["tokens"]
                         for n in ("qa-bert", "qa-distilbert"))]
        assert short and qshort
        for name, m in models.items():
            head = "token_cls" if name.startswith("ner") else "qa"
            d = os.path.join(tmp, name)
            onnx_ref.export_model(d, m["config"], m["state"], m["vocab"], head)
            with open(os.path.join(d, "tokenizer.json"), "w") as f:
                json.dump(onnx_ref.tokenizer_json(m["vocab"], m["lower"], MAX_POS), f)
            with open(os.path.join(d, "tokenizer_config.json")) as f:
                tc = json.load(f)
            tc["do_lower_case"] = m["lower"]
            with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
                json.dump(tc, f)
            if head == "token_cls":
                jobs.append({"pipeline": "token-classification", "model": name,
                             "inputs": short, "options": {"ignore_labels": []}})
            else:
                jobs.append({"pipeline": "question-answering", "model": name,
                             "inputs": qshort, "options": {"top_k": 3}})
        with open(os.path.join(tmp, "jobs.json"), "w") as f:
            json.dump(jobs, f)
        res = subprocess.run([node, os.path.join(HERE, "gen_tasks_tok.mjs"), tmp,
                              os.path.join(tmp, "jobs.json")],
                             check=True, capture_output=True, text=True)
        out = json.loads(res.stdout)
        checked = 0
        for job, results in zip(jobs, out):
            m = models[job["model"]]
            unk = m["vocab"].index("[UNK]")
            if job["pipeline"] == "token-classification":
                for text, got in zip(job["inputs"], results):
                    mine, _ = ner(m, text, "none", ignore=())
                    enc = tok(m, text)
                    by_index = {e["index"]: e for e in mine}
                    known = [e for e in mine if enc["ids"][e["index"] - 1] != unk]
                    assert len(known) == len(got), (job["model"], text)
                    for g in got:
                        e = by_index[g["index"]]
                        assert e["entity"] == g["entity"], (e, g)
                        assert e["word"] == g["word"], (e, g)
                        assert abs(e["score"] - g["score"]) < 1e-4, (e, g)
                        checked += 1
            else:
                for it, got in zip(job["inputs"], results):
                    trace = []
                    qa(m, it["question"], it["context"], top_k=3,
                       max_answer_len=10 ** 6, trace=trace)
                    trace.sort(key=lambda x: -x[0])
                    assert len(trace) == len(got) == 3, (trace, got)
                    for (score, span), g in zip(trace, got):
                        assert abs(score - g["score"]) < 1e-4, (score, g)
                        text = rt.decode(m["vocab"], span, skip_special_tokens=True)
                        assert text == g["answer"], (text, g)
                        checked += 1
        print("Transformers.js agrees with the port on %d results" % checked)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    os.makedirs(os.path.join(EXPECTED, "ner"), exist_ok=True)
    os.makedirs(os.path.join(EXPECTED, "qa"), exist_ok=True)
    models = {
        "ner-bert": make_model("ner-bert", "BertForTokenClassification", True, 101, NER_LABELS),
        "ner-distilbert": make_model("ner-distilbert", "DistilBertForTokenClassification", False, 102, NER_LABELS),
        "qa-bert": make_model("qa-bert", "BertForQuestionAnswering", False, 103),
        "qa-distilbert": make_model("qa-distilbert", "DistilBertForQuestionAnswering", True, 104),
    }

    # NER inputs: a few CoNLL-2003 validation sentences, hand-written ones,
    # and one long text (several sentences) that needs several windows.
    sents = conll_sentences()
    picks = [s for s in sents if 8 <= len(s.split()) <= 30][:40:8]
    texts = picks + NER_EXTRA
    long_text = " ".join(s for s in sents[100:140] if len(s.split()) > 6)[:900]
    long_text = long_text[: long_text.rfind(" ")]
    with open(os.path.join(EXPECTED, "ner", "inputs.txt"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(t + "\n")
    with open(os.path.join(EXPECTED, "ner", "long.txt"), "w", encoding="utf-8") as f:
        f.write(long_text + "\n")

    def dump(path, rows):
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    for name in ("ner-bert", "ner-distilbert"):
        m = models[name]
        for strat in ("none", "simple", "first", "average", "max"):
            rows = [ner(m, t, strat)[0] for t in texts]
            dump(os.path.join(EXPECTED, "ner", "%s-%s.jsonl" % (name, strat)), rows)
            res, nw = ner(m, long_text, strat)
            assert nw >= 3, nw
            dump(os.path.join(EXPECTED, "ner", "%s-%s-long.jsonl" % (name, strat)), [res])
        # explicit stride, and nothing ignored
        dump(os.path.join(EXPECTED, "ner", "%s-simple-long-stride10.jsonl" % name),
             [ner(m, long_text, "simple", stride=10)[0]])
        dump(os.path.join(EXPECTED, "ner", "%s-first-ignore-none.jsonl" % name),
             [ner(m, t, "first", ignore=())[0] for t in texts])
        dump(os.path.join(EXPECTED, "ner", "%s-simple-ignore-per-o.jsonl" % name),
             [ner(m, t, "simple", ignore=("PER", "O"))[0] for t in texts])

    # QA inputs: SQuAD questions on their paragraphs (long: several
    # windows) and a short hand-written one (one window).
    with open(os.path.join(SHARED, "squad", "dev-a-v1.1.json"), encoding="utf-8") as f:
        squad = json.load(f)
    items = []
    for art in squad["data"][:6]:
        p = art["paragraphs"][0]
        ctx = p["context"]
        if len(ctx) > 700:
            continue
        items.append({"question": p["qas"][0]["question"], "context": ctx})
        if len(items) == 3:
            break
    items.append({"question": "Where does Wolfgang live?",
                  "context": "My name is Wolfgang and I live in Berlin."})
    items.append({"question": "What did the committee decide?",
                  "context": "After a long debate, the committee decided to postpone "
                             "the vote until next spring."})
    items.append({"question": "Who flew to S\u00e3o Paulo?",
                  "context": "Ren\u00e9e Zellweger flew from Z\u00fcrich to S\u00e3o Paulo \u2013 twice, in 2019 and 2021."})
    dump(os.path.join(EXPECTED, "qa", "inputs.jsonl"), items)
    variants = {
        "default": {},
        "topk3": {"top_k": 3},
        "impossible": {"handle_impossible": True},
        "maxans3": {"max_answer_len": 3},
        "seq48-stride8": {"max_seq_len": 48, "doc_stride": 8},
        "maxq4": {"max_question_len": 4},
    }
    for name in ("qa-bert", "qa-distilbert"):
        m = models[name]
        for vname, kw in variants.items():
            rows = []
            for it in items:
                r, nw = qa(m, it["question"], it["context"], **kw)
                rows.append(r)
            dump(os.path.join(EXPECTED, "qa", "%s-%s.jsonl" % (name, vname)), rows)
        print(name, "windows of the first input:",
              qa(m, items[0]["question"], items[0]["context"])[1])
    cross_check(models, texts, items)


if __name__ == "__main__":
    main()
