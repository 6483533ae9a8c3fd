#!/usr/bin/python3
"""
gen_tasks_cls.py - fixtures and expected outputs for the fill-mask,
sentiment and classify tasks.

    /usr/bin/python3 tests/gen/gen_tasks_cls.py [--no-node]

(run from the project root; needs PyTorch; node + tests/ref/node_modules
for the cross-check).  Writes:

  data/models/tiny-{bert,distilbert}-mlm/        masked-LM checkpoints
  data/models/tiny-{bert,distilbert}-sst2/       2-label sequence classifiers
  data/models/tiny-bert-multilabel/              problem_type multi-label, 3 labels
  data/models/tiny-distilbert-1label/            one output (regression-style)
  data/models/tiny-distilbert-mnli/              NLI, ENTAILMENT first (typeform layout)
  data/models/tiny-bert-mnli/                    NLI, entailment last (roberta-mnli layout)
  data/expected/{fill-mask,sentiment,classify}/<case>.json

Each case file holds the command (task, model, extra args), the inputs fed
on stdin and, per input, the expected result or the expected error:
  {"task", "model", "args", "inputs", "expected": [value | {"error": msg}],
   "exit": status, "stderr": [substrings]}

Expected values come from PyTorch (tests/gen/torch_ref.py) for the logits,
the reference tokenizer (tests/gen/ref_tokenizer.py) for ids and decoding,
and a port of Hugging Face's pipeline post-processing written below
(FillMaskPipeline.postprocess / get_target_ids,
TextClassificationPipeline.postprocess, ZeroShotClassificationPipeline).
Every case that Transformers.js' own pipelines implement identically
(fill-mask with one mask and no targets, text classification with softmax,
zero-shot without truncation) is also run through Transformers.js on an
ONNX export of the same weights (tests/gen/onnx_ref.py), and the generator
fails unless both references agree.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnx_ref  # noqa: E402
import ref_tokenizer as rt  # noqa: E402
import torch_ref as tr  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED_VOCAB = os.path.join(ROOT, "..", "shared", "data", "vocab",
                            "bert-base-uncased", "vocab.txt")
VOCAB_SIZE = 2000
DIMS = dict(layers=2, heads=2, max_pos=64)

MASK, PAD = "[MASK]", "[PAD]"

# ---------------------------------------------------------------- fixtures


def fixture_specs():
    """name -> (arch, config kwargs, seed, head)."""
    return {
        "tiny-bert-mlm": ("BertForMaskedLM", {}, 101, "mlm"),
        "tiny-distilbert-mlm": ("DistilBertForMaskedLM", {}, 102, "mlm"),
        "tiny-bert-sst2": ("BertForSequenceClassification",
                           {"labels": ["NEGATIVE", "POSITIVE"]}, 103, "seq_cls"),
        "tiny-distilbert-sst2": ("DistilBertForSequenceClassification",
                                 {"labels": ["NEGATIVE", "POSITIVE"]}, 104, "seq_cls"),
        "tiny-bert-multilabel": ("BertForSequenceClassification",
                                 {"labels": ["toxic", "insult", "threat"],
                                  "problem_type": "multi_label_classification"}, 105, "seq_cls"),
        "tiny-distilbert-1label": ("DistilBertForSequenceClassification",
                                   {"labels": ["LABEL_0"]}, 106, "seq_cls"),
        "tiny-distilbert-mnli": ("DistilBertForSequenceClassification",
                                 {"labels": ["ENTAILMENT", "NEUTRAL", "CONTRADICTION"]}, 107,
                                 "seq_cls"),
        "tiny-bert-mnli": ("BertForSequenceClassification",
                           {"labels": ["contradiction", "neutral", "entailment"]}, 108,
                           "seq_cls"),
    }


class Model:
    """A model as the post-processing ports below use it: name, config,
    state (HF tensor names -> float32), vocab (list of tokens), id2label
    (list), problem_type, tok_opts (keyword arguments of rt.encode for the
    model's tokenizer: lowercase, strip_accents, ...) and max_length (the
    truncation length: tokenizer_config.json's model_max_length, capped by
    max_position_embeddings, as the C tasks take it)."""

    def __init__(self, name, config, state, vocab, head=None, tok_opts=None,
                 max_length=None):
        self.name, self.config, self.state, self.vocab = name, config, state, vocab
        self.head = head
        self.arch = (config.get("architectures") or [None])[0]
        self.distil = config["model_type"] == "distilbert"
        i2l = config.get("id2label")
        self.id2label = ([i2l[str(i)] for i in range(len(i2l))] if i2l
                         else ["LABEL_0", "LABEL_1"])
        self.problem_type = config.get("problem_type")
        self.tok_opts = dict(tok_opts or {})
        self.max_length = max_length or config["max_position_embeddings"]

    @classmethod
    def random(cls, name, arch, kw, seed, head, vocab):
        """A random-weight fixture of fixture_specs()."""
        if arch.startswith("DistilBert"):
            config = tr.distilbert_config(len(vocab), dim=32, hidden_dim=64,
                                          layers=DIMS["layers"], heads=DIMS["heads"],
                                          max_pos=DIMS["max_pos"], architectures=(arch,),
                                          **kw)
        else:
            config = tr.bert_config(len(vocab), hidden=32, intermediate=64,
                                    layers=DIMS["layers"], heads=DIMS["heads"],
                                    max_pos=DIMS["max_pos"], architectures=(arch,), **kw)
        return cls(name, config, tr.random_state(config, arch, seed), vocab, head)

    def encode(self, text, **kw):
        """rt.encode with this model's tokenizer options."""
        return rt.encode(self.vocab, text, **dict(self.tok_opts, **kw))

    def hidden(self, enc):
        ids = torch.tensor([enc["ids"]])
        tt = torch.tensor([enc["type_ids"]])
        with torch.no_grad():
            return tr.encoder_forward(self.state, self.config, ids, tt, torch.ones_like(ids))

    def mlm(self, enc):
        with torch.no_grad():
            return tr.mlm_logits(self.state, self.config, self.hidden(enc))[0]  # [T][V]

    def seq_cls(self, enc):
        with torch.no_grad():
            return tr.seq_cls_logits(self.state, self.config, self.hidden(enc))[0]  # [L]


# ---------------------------------------------------------------- HF post-processing ports


class InputError(Exception):
    pass


def hf_target_ids(m, targets, warnings):
    """FillMaskPipeline.get_target_ids: vocabulary entry as written, else the
    first id of its encoding (warned), else dropped (warned); then set()."""
    vmap = {t: i for i, t in enumerate(m.vocab)}
    out = []
    for t in targets:
        i = vmap.get(t)
        if i is None:
            ids = m.encode(t, add_special_tokens=False)["ids"]
            if not ids:
                warnings.append(t)
                continue
            i = ids[0]
            warnings.append(t)
        out.append(i)
    out = list(set(out))
    if not out:
        raise ValueError("no usable target")
    return np.array(out)


def hf_fill_mask(m, text, top_k=5, targets=None):
    enc = m.encode(text)
    ids = np.array(enc["ids"])
    mask_id = m.vocab.index(MASK)
    pad_id = m.vocab.index(PAD)
    masked = np.nonzero(ids == mask_id)[0]
    if len(masked) == 0:
        raise InputError("no [MASK] token in the input")
    target_ids = None
    if targets is not None:
        target_ids = hf_target_ids(m, targets, [])
        if target_ids.shape[0] < top_k:
            top_k = target_ids.shape[0]
    logits = m.mlm(enc)[torch.tensor(masked)]
    probs = logits.softmax(dim=-1)
    if target_ids is not None:
        probs = probs[..., torch.tensor(target_ids)]
    values, predictions = probs.topk(top_k)
    single = values.shape[0] == 1
    result = []
    for i, (vs, ps) in enumerate(zip(values.tolist(), predictions.tolist())):
        row = []
        for v, p in zip(vs, ps):
            tokens = ids.copy()
            if target_ids is not None:
                p = int(target_ids[p])
            tokens[masked[i]] = p
            tokens = tokens[np.where(tokens != pad_id)]
            row.append({"score": v, "token": p,
                        "token_str": rt.decode(m.vocab, [p]),
                        "sequence": rt.decode(m.vocab, tokens.tolist(),
                                              skip_special_tokens=single)})
        result.append(row)
    return result[0] if single else result


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def hf_text_classification(m, text, function=None, top_k="legacy", pair=None):
    """TextClassificationPipeline.postprocess; top_k "legacy" = not given,
    None = all (non-legacy), int = that many; pair = text_pair."""
    enc = m.encode(text, pair=pair)
    out = m.seq_cls(enc).float().numpy()
    n = len(m.id2label)
    if function is None:
        if m.problem_type == "multi_label_classification" or n == 1:
            function = "sigmoid"
        else:
            function = "softmax"
    scores = {"sigmoid": _sigmoid, "softmax": _softmax, "none": lambda x: x}[function](out)
    if top_k == "legacy":
        return {"label": m.id2label[int(scores.argmax())], "score": float(scores.max())}
    d = [{"label": m.id2label[i], "score": float(s)} for i, s in enumerate(scores)]
    d.sort(key=lambda x: x["score"], reverse=True)
    if top_k is not None:
        d = d[:top_k]
    return d


def hf_zero_shot(m, text, labels, template="This example is {}.", multi_label=False):
    """ZeroShotClassificationPipeline: one (text, hypothesis) pair per label,
    only_first truncation to model_max_length, entailment id from label2id."""
    entail = -1
    for i, l in enumerate(m.id2label):
        if l.lower().startswith("entail"):
            entail = i
            break
    if entail < 0:
        raise ValueError("no entailment label")
    rows = []
    for l in labels:
        enc = m.encode(text, pair=template.format(l), max_length=m.max_length,
                       truncation="only_first")
        rows.append(m.seq_cls(enc).float().numpy())
    logits = np.stack(rows)[None]  # [1][n][L]
    if multi_label or len(labels) == 1:
        contra = -1 if entail == 0 else 0
        ec = logits[..., [contra, entail]]
        scores = np.exp(ec) / np.exp(ec).sum(-1, keepdims=True)
        scores = scores[..., 1]
    else:
        el = logits[..., entail]
        scores = np.exp(el) / np.exp(el).sum(-1, keepdims=True)
    top = list(reversed(scores[0].argsort()))
    return {"sequence": text, "labels": [labels[i] for i in top],
            "scores": [float(scores[0, i]) for i in top]}


# ---------------------------------------------------------------- cases

FM_INPUTS = [
    "the [MASK] of the world.",
    "it was the best [MASK] of my life!",
    "[MASK] is a good idea, isn't it?",
    "she said that it's not the right [MASK].",
    "this is a [MASK] and that is a [MASK].",
]
CLS_INPUTS = [
    "this film was great, i loved it.",
    "what a terrible waste of time.",
    "the story is about a man and his family in the city.",
    "Not bad at all!",
    "the food was cold and the service was very slow",
]
ZS_INPUTS = [
    "the team won the game in the last minute.",
    "the new law was passed by the government today.",
    "we are going to see a film tonight, who wants to come?",
]
ZS_LONG = ("the president of the united states said in a long speech today that "
           "the new plan for the state will take more than four years and that the "
           "people of the country will have to work together on it, as the old "
           "system is no longer good enough for the world of today.")


def fm_cases(models):
    cases = {}
    for arch in ("bert", "distilbert"):
        m = models["tiny-%s-mlm" % arch]
        rel = "data/models/" + m.name
        cases["%s-default" % arch] = dict(
            task="fill-mask", model=rel, args=[], inputs=FM_INPUTS,
            expected=[hf_fill_mask(m, t) for t in FM_INPUTS])
        cases["%s-top1" % arch] = dict(
            task="fill-mask", model=rel, args=["--top-k", "1"], inputs=FM_INPUTS,
            expected=[hf_fill_mask(m, t, top_k=1) for t in FM_INPUTS])
        tg = ["world", "time", "life", "Good", "zq"]
        warn = []
        hf_target_ids(m, tg, warn)
        cases["%s-targets" % arch] = dict(
            task="fill-mask", model=rel, args=["--top-k", "3", "--targets", ",".join(tg)],
            inputs=FM_INPUTS, expected=[hf_fill_mask(m, t, 3, tg) for t in FM_INPUTS],
            stderr=["target '%s' is not in the vocabulary" % w for w in warn])
        # top-k above the number of targets is capped
        cases["%s-targets-cap" % arch] = dict(
            task="fill-mask", model=rel, args=["--top-k", "10", "--targets", "world,life"],
            inputs=FM_INPUTS[:2], expected=[hf_fill_mask(m, t, 10, ["world", "life"])
                                            for t in FM_INPUTS[:2]])
    # per-input error: the other lines still produce results, exit status 1
    m = models["tiny-bert-mlm"]
    mixed = ["the [MASK] of the world.", "no mask here.", "a [MASK] day."]
    exp = []
    for t in mixed:
        try:
            exp.append(hf_fill_mask(m, t))
        except InputError as e:
            exp.append({"error": str(e)})
    cases["error-no-mask"] = dict(task="fill-mask", model="data/models/" + m.name, args=[],
                                  inputs=mixed, expected=exp, exit=1,
                                  stderr=["no [MASK] token in the input"])
    return cases


def cls_cases(models):
    cases = {}
    for name in ("tiny-bert-sst2", "tiny-distilbert-sst2"):
        m = models[name]
        rel = "data/models/" + name
        short = name.replace("tiny-", "")
        cases[short + "-default"] = dict(
            task="sentiment", model=rel, args=[], inputs=CLS_INPUTS,
            expected=[hf_text_classification(m, t) for t in CLS_INPUTS])
        cases[short + "-all"] = dict(
            task="sentiment", model=rel, args=["--top-k", "all"], inputs=CLS_INPUTS,
            expected=[hf_text_classification(m, t, top_k=None) for t in CLS_INPUTS])
        cases[short + "-top1"] = dict(
            task="sentiment", model=rel, args=["--top-k", "1"], inputs=CLS_INPUTS,
            expected=[hf_text_classification(m, t, top_k=1) for t in CLS_INPUTS])
        for fn in ("sigmoid", "none"):
            cases[short + "-" + fn] = dict(
                task="sentiment", model=rel, args=["--function", fn, "--top-k", "all"],
                inputs=CLS_INPUTS,
                expected=[hf_text_classification(m, t, function=fn, top_k=None)
                          for t in CLS_INPUTS])
    for name in ("tiny-bert-sst2", "tiny-distilbert-sst2"):
        m = models[name]
        pair = "but the end was too long."
        cases[name.replace("tiny-", "") + "-pair"] = dict(
            task="sentiment", model="data/models/" + name, args=["--text-pair", pair],
            inputs=CLS_INPUTS, expected=[hf_text_classification(m, t, pair=pair)
                                         for t in CLS_INPUTS])
    m = models["tiny-bert-multilabel"]
    cases["multilabel-all"] = dict(
        task="sentiment", model="data/models/" + m.name, args=["--top-k", "all"],
        inputs=CLS_INPUTS, expected=[hf_text_classification(m, t, top_k=None) for t in CLS_INPUTS])
    cases["multilabel-softmax"] = dict(
        task="sentiment", model="data/models/" + m.name, args=["--function", "softmax", "--top-k", "2"],
        inputs=CLS_INPUTS,
        expected=[hf_text_classification(m, t, function="softmax", top_k=2) for t in CLS_INPUTS])
    m = models["tiny-distilbert-1label"]
    cases["1label-default"] = dict(
        task="sentiment", model="data/models/" + m.name, args=[], inputs=CLS_INPUTS,
        expected=[hf_text_classification(m, t) for t in CLS_INPUTS])
    return cases


def zs_cases(models):
    cases = {}
    labels = ["sports", "politics", "film"]
    for name in ("tiny-distilbert-mnli", "tiny-bert-mnli"):
        m = models[name]
        rel = "data/models/" + name
        short = name.replace("tiny-", "")
        cases[short + "-zs"] = dict(
            task="classify", model=rel, args=["--labels", "sports, politics,film"],
            inputs=ZS_INPUTS, expected=[hf_zero_shot(m, t, labels) for t in ZS_INPUTS])
        cases[short + "-zs-multi"] = dict(
            task="classify", model=rel, args=["--labels", ",".join(labels), "--multi-label"],
            inputs=ZS_INPUTS,
            expected=[hf_zero_shot(m, t, labels, multi_label=True) for t in ZS_INPUTS])
        cases[short + "-zs-one"] = dict(
            task="classify", model=rel, args=["--labels", "sports"], inputs=ZS_INPUTS,
            expected=[hf_zero_shot(m, t, ["sports"]) for t in ZS_INPUTS])
        cases[short + "-zs-template"] = dict(
            task="classify", model=rel,
            args=["--labels", ",".join(labels), "--template", "the topic of this is {}."],
            inputs=ZS_INPUTS,
            expected=[hf_zero_shot(m, t, labels, template="the topic of this is {}.")
                      for t in ZS_INPUTS])
        cases[short + "-zs-long"] = dict(
            task="classify", model=rel, args=["--labels", ",".join(labels)],
            inputs=[ZS_LONG, ZS_INPUTS[0]],
            expected=[hf_zero_shot(m, t, labels) for t in (ZS_LONG, ZS_INPUTS[0])])
        cases[short + "-plain"] = dict(
            task="classify", model=rel, args=["--top-k", "all"], inputs=ZS_INPUTS,
            expected=[hf_text_classification(m, t, top_k=None) for t in ZS_INPUTS])
    m = models["tiny-bert-sst2"]
    cases["sst2-plain"] = dict(
        task="classify", model="data/models/" + m.name, args=[], inputs=CLS_INPUTS,
        expected=[hf_text_classification(m, t) for t in CLS_INPUTS])
    return cases


# ---------------------------------------------------------------- Transformers.js cross-check


def node_jobs(fm, cls, zs):
    """(job, case name, how to compare) for every case Transformers.js
    implements the same way as Hugging Face's Python pipelines."""
    jobs = []
    for arch in ("bert", "distilbert"):
        for case, k in (("%s-default" % arch, 5), ("%s-top1" % arch, 1)):
            c = fm[case]
            single = [t for t in c["inputs"] if t.count(MASK) == 1]
            jobs.append(({"pipeline": "fill-mask", "model": c["model"].split("/")[-1],
                          "inputs": single, "options": {"top_k": k}},
                         [c["expected"][c["inputs"].index(t)] for t in single]))
    for short in ("bert-sst2", "distilbert-sst2"):
        c = cls[short + "-default"]
        jobs.append(({"pipeline": "text-classification", "model": c["model"].split("/")[-1],
                      "inputs": c["inputs"], "options": {"top_k": 1}},
                     [[e] for e in c["expected"]]))
        c = cls[short + "-all"]
        jobs.append(({"pipeline": "text-classification", "model": c["model"].split("/")[-1],
                      "inputs": c["inputs"], "options": {"top_k": 2}}, c["expected"]))
    for short in ("distilbert-mnli", "bert-mnli"):
        for case, opts in (("-zs", {}), ("-zs-multi", {"multi_label": True}),
                           ("-zs-one", {}),
                           ("-zs-template", {"hypothesis_template": "the topic of this is {}."})):
            c = zs[short + case]
            labels = [l.strip() for l in c["args"][1].split(",") if l.strip()]
            jobs.append(({"pipeline": "zero-shot-classification",
                          "model": c["model"].split("/")[-1], "inputs": c["inputs"],
                          "candidate_labels": labels, "options": opts}, c["expected"]))
    return jobs


def same(a, b, tol, where):
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            same(a[k], b[k], tol, where + "." + k)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), "%s: %r vs %r" % (where, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, tol, "%s[%d]" % (where, i))
    elif isinstance(a, float) or isinstance(b, float):
        assert abs(a - b) <= tol, "%s: %r vs %r" % (where, a, b)
    else:
        assert a == b, "%s: %r vs %r" % (where, a, b)


def cross_check(models, fm, cls, zs):
    tmp = tempfile.mkdtemp(prefix="nlp-tasks-cls-")
    try:
        for m in models.values():
            onnx_ref.export_model(os.path.join(tmp, m.name), m.config, m.state, m.vocab, m.head)
        jobs = node_jobs(fm, cls, zs)
        with open(os.path.join(tmp, "jobs.json"), "w") as f:
            json.dump([j for j, _ in jobs], f)
        out = subprocess.run(["node", os.path.join(HERE, "gen_tasks_cls.mjs"), tmp,
                              os.path.join(tmp, "jobs.json")],
                             cwd=os.path.join(ROOT, "tests"), check=True,
                             stdout=subprocess.PIPE).stdout
        results = json.loads(out)
        for (job, expected), got in zip(jobs, results):
            same(expected, got, 2e-5, "%s %s" % (job["pipeline"], job["model"]))
        print("Transformers.js agrees on %d jobs" % len(jobs))
    finally:
        shutil.rmtree(tmp)


# ---------------------------------------------------------------- main


def main():
    vocab = tr.make_vocab(SHARED_VOCAB, VOCAB_SIZE)
    models = {}
    for name, (arch, kw, seed, head) in fixture_specs().items():
        m = Model.random(name, arch, kw, seed, head, vocab)
        models[name] = m
        d = os.path.join(ROOT, "data", "models", name)
        if os.path.isdir(d):
            shutil.rmtree(d)
        tr.write_checkpoint(d, m.config, m.state, vocab)
    fm, cls, zs = fm_cases(models), cls_cases(models), zs_cases(models)
    if "--no-node" not in sys.argv:
        cross_check(models, fm, cls, zs)
    for task, cases in (("fill-mask", fm), ("sentiment", cls), ("classify", zs)):
        d = os.path.join(ROOT, "data", "expected", task)
        os.makedirs(d, exist_ok=True)
        for name, c in cases.items():
            c = dict(c)
            c.setdefault("exit", 0)
            c.setdefault("stderr", [])
            with open(os.path.join(d, name + ".json"), "w") as f:
                json.dump(c, f, indent=1, ensure_ascii=False)
                f.write("\n")
    print("wrote %d fixtures, %d cases" % (len(models), len(fm) + len(cls) + len(zs)))


if __name__ == "__main__":
    main()
