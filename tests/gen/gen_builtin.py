#!/usr/bin/python3
"""
gen_builtin.py - expected outputs of the built-in models (models/NAME/)
for tests/builtin.sh.

Run from the project root with the Debian interpreter (it has torch):

    /usr/bin/python3 tests/gen/gen_builtin.py [--models DIR] [--out DIR]
                                              [--explicit-model] [--tol T]

  --models DIR       where the model folders are (default models/)
  --out DIR          where the case files go (default data/expected/builtin/);
                     its *.json files are replaced
  --explicit-model   write each case with "model": the folder's absolute
                     path, for trying stand-in models on a branch whose
                     tasks do not default to the built-ins yet (such files
                     are not to be committed); without it "model" is null:
                     the command has no --model option and the task must
                     pick its built-in model itself
  --tol T            the score tolerance of the int8-kernel cases (0.02)

Each folder of BUILTINS found under DIR (one with a config.json) gives the
cases of its task; a missing one is reported and skipped.  The case files
have the format of data/expected/<task>/ read by tests/task_cases.py:
  {"task", "model", "args", "inputs", "expected", "exit", "stderr"[, "tol"]}

Expected values are computed as in tests/gen/gen_tasks_cls.py (fill-mask,
sentiment, zero-shot classify) and tests/gen/gen_tasks_tok.py (ner, qa):
logits from the PyTorch reference (torch_ref.py) on the folder's weights,
ids and offsets from ref_tokenizer.py with the options of the folder's
tokenizer_config.json, then those scripts' ports of Hugging Face's pipeline
post-processing, imported from them.  Nothing runs the C code.

An int8 checkpoint (I8 tensors with a NAME_scale companion, as written by
`nlp quantize --dtype int8`) is read dequantized (int8 * scale per row, in
float32).  That is what `--dtype fp32` runs, so every case of such a model
carries `--dtype fp32` and is compared within task_cases.py's 1e-4; one
more case per int8 model, named *-int8, runs without --dtype (the int8
kernels) and is compared with labels exact and scores within --tol.
"""
import argparse
import glob
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_tasks_cls as gc  # noqa: E402
import gen_tasks_tok as gt  # noqa: E402
import ref_tokenizer as rt  # noqa: E402
import torch_ref as tr  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))

# folder -> the task that uses it as its built-in model
BUILTINS = {
    "nlp-mini": "fill-mask",
    "nlp-mini-sst2": "sentiment",
    "nlp-mini-ner": "ner",
    "nlp-mini-squad": "qa",
    "nlp-mini-nli": "classify",
}

# ---------------------------------------------------------------- inputs

FILL_MASK = [
    "The movie had an [MASK] storyline.",
    "Paris is the [MASK] of France.",
    "She poured herself a cup of [MASK] and sat down to read.",
    "The children were playing in the [MASK] all afternoon.",
    "He opened the door and [MASK] into the room.",
]
SENTIMENT = [
    "A gripping, beautifully acted film that stayed with me for days.",
    "The plot was predictable and the jokes fell flat.",
    "An absolute waste of two hours.",
    "I loved every minute of it, and the soundtrack is wonderful.",
    "The acting is wooden and the dialogue is painful to sit through.",
]
NER = [
    "Barack Obama was born in Hawaii and later worked in Washington.",
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "Apple opened a new office in London and hired engineers from Google.",
    "The United Nations held a meeting in Geneva last week.",
]
QA = [
    {"question": "Where was Marie Curie born?",
     "context": "Marie Curie was a physicist and chemist who was born in Warsaw in 1867. "
                "She later moved to Paris, where she carried out pioneering research "
                "on radioactivity."},
    {"question": "What does the mitochondrion produce?",
     "context": "The mitochondrion is an organelle found in most cells. It produces most "
                "of the chemical energy needed to power the cell's biochemical "
                "reactions, stored in a molecule called ATP."},
    {"question": "When did Apollo 11 land on the Moon?",
     "context": "Apollo 11 was the American spaceflight that first landed humans on the "
                "Moon. Commander Neil Armstrong and pilot Buzz Aldrin landed the lunar "
                "module Eagle on July 20, 1969."},
]
ZERO_SHOT = [
    "The striker scored twice in the final minutes of the match.",
    "Parliament voted on the new budget after a long debate.",
    "The company released a faster smartphone with a new chip.",
    "Who will win the election is anyone's guess.",
]
ZS_LABELS = ["sports", "politics", "technology"]
ZS_TEMPLATE = "The topic of this text is {}."

# ---------------------------------------------------------------- models


class Builtin:
    """One model folder: its weights (int8 dequantized), config and
    tokenizer options, in the two shapes the post-processing ports take."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        self.name = os.path.basename(self.dir.rstrip("/"))
        with open(os.path.join(self.dir, "config.json"), encoding="utf-8") as f:
            self.config = json.load(f)
        tc = {}
        p = os.path.join(self.dir, "tokenizer_config.json")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                tc = json.load(f)
        self.vocab = rt.load_vocab(os.path.join(self.dir, "vocab.txt"))
        lower = tc.get("do_lower_case", True)
        self.tok_opts = {"lowercase": lower, "strip_accents": tc.get("strip_accents"),
                         "tokenize_chinese_chars": tc.get("tokenize_chinese_chars", True)}
        # the C tasks' length: model_max_length capped by the positions
        limit = self.config["max_position_embeddings"]
        mml = tc.get("model_max_length")
        self.max_length = limit if not mml or mml > limit else int(mml)
        st = os.path.join(self.dir, "model.safetensors")
        self.int8 = "I8" in tr.safetensors_dtypes(st).values()
        self.state = tr.read_safetensors(st)

    def cls_model(self, head):
        """For gen_tasks_cls's hf_fill_mask / hf_text_classification / hf_zero_shot."""
        return gc.Model(self.name, self.config, self.state, self.vocab, head,
                        tok_opts=self.tok_opts, max_length=self.max_length)

    def tok_model(self):
        """For gen_tasks_tok's ner / qa."""
        opts = dict(self.tok_opts)
        return {"name": self.name, "config": self.config, "state": self.state,
                "vocab": self.vocab, "lower": opts.pop("lowercase"), "tok_opts": opts,
                "max_len": self.max_length}


# ---------------------------------------------------------------- cases
# Each task gives [(case name, args, inputs, fn)], fn(input) -> expected.
# The first case of an int8 model is also run on the int8 kernels.


def fill_mask_cases(b):
    m = b.cls_model("mlm")
    return [
        ("fill-mask", [], FILL_MASK, lambda t: gc.hf_fill_mask(m, t)),
        ("fill-mask-top2", ["--top-k", "2"], FILL_MASK, lambda t: gc.hf_fill_mask(m, t, top_k=2)),
    ]


def sentiment_cases(b):
    m = b.cls_model("seq_cls")
    return [
        ("sentiment", [], SENTIMENT, lambda t: gc.hf_text_classification(m, t)),
        ("sentiment-all", ["--top-k", "all"], SENTIMENT,
         lambda t: gc.hf_text_classification(m, t, top_k=None)),
    ]


def ner_cases(b):
    m = b.tok_model()
    return [
        ("ner-simple", ["--aggregation", "simple"], NER, lambda t: gt.ner(m, t, "simple")[0]),
        ("ner-none", ["--aggregation", "none"], NER, lambda t: gt.ner(m, t, "none")[0]),
    ]


def qa_cases(b):
    m = b.tok_model()
    lines = [json.dumps(x, ensure_ascii=False) for x in QA]

    def run(line, **kw):
        x = json.loads(line)
        return gt.qa(m, x["question"], x["context"], **kw)[0]

    return [
        ("qa", [], lines, run),
        ("qa-top3", ["--top-k", "3"], lines, lambda t: run(t, top_k=3)),
    ]


def classify_cases(b):
    m = b.cls_model("seq_cls")
    labels = ",".join(ZS_LABELS)
    return [
        ("classify-zs", ["--labels", labels], ZERO_SHOT,
         lambda t: gc.hf_zero_shot(m, t, ZS_LABELS)),
        ("classify-zs-template", ["--labels", labels, "--template", ZS_TEMPLATE], ZERO_SHOT,
         lambda t: gc.hf_zero_shot(m, t, ZS_LABELS, template=ZS_TEMPLATE)),
        ("classify-zs-multi", ["--labels", labels, "--multi-label"], ZERO_SHOT,
         lambda t: gc.hf_zero_shot(m, t, ZS_LABELS, multi_label=True)),
    ]


TASK_CASES = {
    "fill-mask": fill_mask_cases,
    "sentiment": sentiment_cases,
    "ner": ner_cases,
    "qa": qa_cases,
    "classify": classify_cases,
}


def model_cases(b, task, explicit, tol):
    """name -> case dict for one model folder."""
    model = b.dir if explicit else None
    out = {}
    with torch.no_grad():
        specs = TASK_CASES[task](b)
        for k, (name, args, inputs, fn) in enumerate(specs):
            expected = [fn(t) for t in inputs]
            case = {"task": task, "model": model,
                    "args": args + (["--dtype", "fp32"] if b.int8 else []),
                    "inputs": inputs, "expected": expected, "exit": 0, "stderr": []}
            out[name] = case
            if b.int8 and k == 0:
                out[name + "-int8"] = dict(case, args=list(args), tol=tol)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "expected", "builtin"))
    ap.add_argument("--explicit-model", action="store_true")
    ap.add_argument("--tol", type=float, default=0.02)
    a = ap.parse_args()
    cases = {}
    missing = []
    for name, task in BUILTINS.items():
        d = os.path.join(a.models, name)
        if not os.path.exists(os.path.join(d, "config.json")):
            missing.append(name)
            continue
        b = Builtin(d)
        got = model_cases(b, task, a.explicit_model, a.tol)
        print("%s (%s%s): %d cases" % (name, task, ", int8" if b.int8 else "", len(got)))
        cases.update(got)
    if missing:
        print("not found under %s: %s" % (a.models, ", ".join(missing)))
    if not cases:
        print("no built-in model found, nothing written", file=sys.stderr)
        return 1
    os.makedirs(a.out, exist_ok=True)
    for old in glob.glob(os.path.join(a.out, "*.json")):
        os.remove(old)
    for name, c in sorted(cases.items()):
        with open(os.path.join(a.out, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(c, f, indent=1, ensure_ascii=False)
            f.write("\n")
    print("wrote %d cases to %s" % (len(cases), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
