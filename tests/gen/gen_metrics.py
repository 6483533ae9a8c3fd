#!/usr/bin/env python3
"""gen_metrics.py - expected values for tests/check_metrics (nlp/metrics.h).

An independent Python port (standard library only) of the reference
evaluation code, written the way those scripts are written:

  * classification: scikit-learn's precision_recall_fscore_support with
    labels=range(num_labels), zero_division=0 (per label, macro, micro)
    and accuracy_score (subset accuracy for multi-label);
  * named entities: seqeval's get_entities (default, non-strict mode; the
    chunk rules of conlleval) and its precision_recall_fscore_support /
    classification_report, plus token accuracy (conlleval's "accuracy");
  * SQuAD v1.1: normalize_answer, f1_score, exact_match_score,
    metric_max_over_ground_truths and evaluate from evaluate-v1.1.py.

Inputs come from a fixed seed plus hand-written edge cases; inputs and
expected numbers go to data/expected/metrics/*.json.  Every float is
written as [value, "%.2f" % value].

Usage: python3 tests/gen/gen_metrics.py [OUT_DIR]
"""
import json
import os
import random
import re
import string
import sys
from collections import Counter, defaultdict


# ------------------------------------------------------------ sklearn

def _prf_divide(numerator, denominator, zero_division=0.0):
    """numerator / denominator element-wise; zero_division where the
    denominator is 0."""
    return [zero_division if d == 0 else n / d
            for n, d in zip(numerator, denominator)]


def _mean(values):
    if not values:
        return 0.0  # numpy gives nan for an empty average; the C API says 0
    return sum(values) / len(values)


def multilabel_sums(y_true, y_pred, labels):
    """tp_sum, pred_sum, true_sum per label; y_true/y_pred are lists of
    label sets (a single label is a one-element set)."""
    tp_sum = [0] * len(labels)
    pred_sum = [0] * len(labels)
    true_sum = [0] * len(labels)
    for t, p in zip(y_true, y_pred):
        for i, label in enumerate(labels):
            if label in t and label in p:
                tp_sum[i] += 1
            if label in p:
                pred_sum[i] += 1
            if label in t:
                true_sum[i] += 1
    return tp_sum, pred_sum, true_sum


def precision_recall_fscore_support(y_true, y_pred, labels, average=None,
                                    beta=1.0, zero_division=0.0):
    tp_sum, pred_sum, true_sum = multilabel_sums(y_true, y_pred, labels)
    if average == 'micro':
        tp_sum = [sum(tp_sum)]
        pred_sum = [sum(pred_sum)]
        true_sum = [sum(true_sum)]
    beta2 = beta ** 2
    precision = _prf_divide(tp_sum, pred_sum, zero_division)
    recall = _prf_divide(tp_sum, true_sum, zero_division)
    # scikit-learn >= 1.3: F from the confusion counts,
    # (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)
    denom = [beta2 * t + p for t, p in zip(true_sum, pred_sum)]
    f_score = _prf_divide([(1 + beta2) * tp for tp in tp_sum], denom,
                          zero_division)
    if average is not None:
        return _mean(precision), _mean(recall), _mean(f_score), None
    return precision, recall, f_score, true_sum


def accuracy_score(y_true, y_pred):
    if not y_true:
        return 0.0
    return sum(1 for t, p in zip(y_true, y_pred) if t == p) / len(y_true)


# ------------------------------------------------------------ seqeval

def get_entities(seq, suffix=False):
    """Gets entities from sequence (seqeval 1.2, default mode).
    >>> get_entities(['B-PER', 'I-PER', 'O', 'B-LOC'])
    [('PER', 0, 1), ('LOC', 3, 3)]
    """
    # for nested list
    if any(isinstance(s, list) for s in seq):
        seq = [item for sublist in seq for item in sublist + ['O']]

    prev_tag = 'O'
    prev_type = ''
    begin_offset = 0
    chunks = []
    for i, chunk in enumerate(seq + ['O']):
        if suffix:
            tag = chunk[-1]
            type_ = chunk[:-1].rsplit('-', maxsplit=1)[0] or '_'
        else:
            tag = chunk[0]
            type_ = chunk[1:].split('-', maxsplit=1)[-1] or '_'

        if end_of_chunk(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, begin_offset, i - 1))
        if start_of_chunk(prev_tag, tag, prev_type, type_):
            begin_offset = i
        prev_tag = tag
        prev_type = type_

    return chunks


def end_of_chunk(prev_tag, tag, prev_type, type_):
    chunk_end = False

    if prev_tag == 'E':
        chunk_end = True
    if prev_tag == 'S':
        chunk_end = True

    if prev_tag == 'B' and tag == 'B':
        chunk_end = True
    if prev_tag == 'B' and tag == 'S':
        chunk_end = True
    if prev_tag == 'B' and tag == 'O':
        chunk_end = True
    if prev_tag == 'I' and tag == 'B':
        chunk_end = True
    if prev_tag == 'I' and tag == 'S':
        chunk_end = True
    if prev_tag == 'I' and tag == 'O':
        chunk_end = True

    if prev_tag != 'O' and prev_tag != '.' and prev_type != type_:
        chunk_end = True

    return chunk_end


def start_of_chunk(prev_tag, tag, prev_type, type_):
    chunk_start = False

    if tag == 'B':
        chunk_start = True
    if tag == 'S':
        chunk_start = True

    if prev_tag == 'E' and tag == 'E':
        chunk_start = True
    if prev_tag == 'E' and tag == 'I':
        chunk_start = True
    if prev_tag == 'S' and tag == 'E':
        chunk_start = True
    if prev_tag == 'S' and tag == 'I':
        chunk_start = True
    if prev_tag == 'O' and tag == 'E':
        chunk_start = True
    if prev_tag == 'O' and tag == 'I':
        chunk_start = True

    if tag != 'O' and tag != '.' and prev_type != type_:
        chunk_start = True

    return chunk_start


def extract_tp_actual_correct(y_true, y_pred, suffix=False):
    entities_true = defaultdict(set)
    entities_pred = defaultdict(set)
    for type_name, start, end in get_entities(y_true, suffix):
        entities_true[type_name].add((start, end))
    for type_name, start, end in get_entities(y_pred, suffix):
        entities_pred[type_name].add((start, end))

    target_names = sorted(set(entities_true.keys()) | set(entities_pred.keys()))

    tp_sum, pred_sum, true_sum = [], [], []
    for type_name in target_names:
        entities_true_type = entities_true.get(type_name, set())
        entities_pred_type = entities_pred.get(type_name, set())
        tp_sum.append(len(entities_true_type & entities_pred_type))
        pred_sum.append(len(entities_pred_type))
        true_sum.append(len(entities_true_type))

    return target_names, pred_sum, tp_sum, true_sum


def seqeval_prfs(pred_sum, tp_sum, true_sum, average=None, beta=1.0):
    if average == 'micro':
        tp_sum = [sum(tp_sum)]
        pred_sum = [sum(pred_sum)]
        true_sum = [sum(true_sum)]
    beta2 = beta ** 2
    precision = _prf_divide(tp_sum, pred_sum)
    recall = _prf_divide(tp_sum, true_sum)
    # seqeval: F from P and R, 0 where both are 0
    f_score = []
    for p, r in zip(precision, recall):
        denom = beta2 * p + r
        if denom == 0.:
            denom = 1
        f_score.append((1 + beta2) * p * r / denom)
    if average is not None:
        return _mean(precision), _mean(recall), _mean(f_score), sum(true_sum)
    return precision, recall, f_score, true_sum


def seqeval_accuracy(y_true, y_pred):
    flat_true = [t for s in y_true for t in s]
    flat_pred = [t for s in y_pred for t in s]
    if not flat_true:
        return 0, 0, 0.0
    nb_correct = sum(y_t == y_p for y_t, y_p in zip(flat_true, flat_pred))
    return nb_correct, len(flat_true), nb_correct / len(flat_true)


# ------------------------------------------------------------ SQuAD v1.1

def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


def evaluate(examples):
    """examples: (prediction, ground_truths) pairs, in order."""
    f1 = exact_match = total = 0
    for prediction, ground_truths in examples:
        total += 1
        exact_match += metric_max_over_ground_truths(
            exact_match_score, prediction, ground_truths)
        f1 += metric_max_over_ground_truths(
            f1_score, prediction, ground_truths)

    exact_match = 100.0 * exact_match / total if total else 0.0
    f1 = 100.0 * f1 / total if total else 0.0

    return {'exact_match': exact_match, 'f1': f1}


# ------------------------------------------------------------ output

def num(v):
    v = float(v)
    return [v, "%.2f" % v]


def cls_case(name, gold, pred, num_labels):
    labels = list(range(num_labels))
    y_true = [{g} for g in gold]
    y_pred = [{p} for p in pred]
    return cls_report(name, y_true, y_pred, labels,
                      accuracy_score(gold, pred),
                      {"gold": gold, "pred": pred})


def multilabel_case(name, gold, pred, num_labels):
    labels = list(range(num_labels))
    y_true = [{c for c in labels if row[c]} for row in gold]
    y_pred = [{c for c in labels if row[c]} for row in pred]
    return cls_report(name, y_true, y_pred, labels,
                      accuracy_score([sorted(t) for t in y_true],
                                     [sorted(p) for p in y_pred]),
                      {"gold": gold, "pred": pred})


def cls_report(name, y_true, y_pred, labels, accuracy, inputs):
    tp_sum, pred_sum, true_sum = multilabel_sums(y_true, y_pred, labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels)
    mp, mr, mf, _ = precision_recall_fscore_support(y_true, y_pred, labels, 'macro')
    up, ur, uf, _ = precision_recall_fscore_support(y_true, y_pred, labels, 'micro')
    case = {"name": name, "num_labels": len(labels), "n": len(y_true)}
    case.update(inputs)
    case.update({
        "accuracy": num(accuracy),
        "macro": [num(mp), num(mr), num(mf)],
        "micro": [num(up), num(ur), num(uf)],
        "labels": [{"precision": num(p[i]), "recall": num(r[i]), "f1": num(f[i]),
                    "support": s[i], "predicted": pred_sum[i], "correct": tp_sum[i]}
                   for i in range(len(labels))],
    })
    return case


def ner_case(name, gold, pred):
    names, pred_sum, tp_sum, true_sum = extract_tp_actual_correct(gold, pred)
    p, r, f, s = seqeval_prfs(pred_sum, tp_sum, true_sum)
    up, ur, uf, us = seqeval_prfs(pred_sum, tp_sum, true_sum, 'micro')
    mp, mr, mf, _ = seqeval_prfs(pred_sum, tp_sum, true_sum, 'macro')
    correct_tokens, tokens, acc = seqeval_accuracy(gold, pred)
    return {
        "name": name, "gold": gold, "pred": pred,
        "types": [{"name": names[i], "precision": num(p[i]), "recall": num(r[i]),
                   "f1": num(f[i]), "support": s[i], "predicted": pred_sum[i],
                   "correct": tp_sum[i]} for i in range(len(names))],
        "micro": [num(up), num(ur), num(uf)],
        "macro": [num(mp), num(mr), num(mf)],
        "support": us, "predicted": sum(pred_sum), "correct": sum(tp_sum),
        "tokens": tokens, "correct_tokens": correct_tokens, "accuracy": num(acc),
    }


# ------------------------------------------------------------ inputs

def gen_classification(rng):
    cases = [
        cls_case("hand: all correct", [0, 1, 2, 1], [0, 1, 2, 1], 3),
        cls_case("hand: label 3 never seen", [0, 1, 2, 0], [1, 1, 2, 0], 4),
        cls_case("hand: one item", [2], [0], 3),
        cls_case("hand: empty", [], [], 2),
        cls_case("hand: predicted only", [0, 0, 0], [0, 1, 2], 3),
    ]
    for k in range(10):
        num_labels = rng.randint(2, 7)
        n = rng.randint(1, 60)
        gold = [rng.randrange(num_labels) for _ in range(n)]
        never = rng.randrange(num_labels)   # a label never predicted
        pred = [g if rng.random() < 0.5 else rng.randrange(num_labels) for g in gold]
        pred = [p if p != never else (p + 1) % num_labels for p in pred]
        cases.append(cls_case("random %d" % k, gold, pred, num_labels))
    return cases


def gen_multilabel(rng):
    cases = [
        multilabel_case("hand: exact", [[1, 0, 1], [0, 1, 0]], [[1, 0, 1], [0, 1, 0]], 3),
        multilabel_case("hand: nothing on", [[0, 0], [0, 0]], [[0, 0], [0, 0]], 2),
        multilabel_case("hand: empty", [], [], 3),
        multilabel_case("hand: mixed", [[1, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]],
                        [[1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]], 4),
    ]
    for k in range(8):
        c = rng.randint(1, 6)
        n = rng.randint(1, 40)
        gold = [[int(rng.random() < 0.35) for _ in range(c)] for _ in range(n)]
        pred = [[g if rng.random() < 0.7 else int(rng.random() < 0.3) for g in row]
                for row in gold]
        cases.append(multilabel_case("random %d" % k, gold, pred, c))
    return cases


NER_TYPES = ["PER", "LOC", "ORG", "MISC", "A-B", "É"]


def random_tags(rng, n, scheme):
    tags = []
    for _ in range(n):
        if rng.random() < 0.4:
            tags.append("O")
            continue
        t = rng.choice(NER_TYPES[:4] if rng.random() < 0.9 else NER_TYPES)
        if scheme == "io":
            letter = "I"
        elif scheme == "iob2":
            letter = rng.choice("BII")
        else:
            letter = rng.choice("BIES")
        tags.append(letter if rng.random() < 0.03 else letter + "-" + t)
    return tags


def perturb(rng, tags, scheme):
    out = []
    for t in tags:
        r = rng.random()
        if r < 0.15:
            out.append(random_tags(rng, 1, scheme)[0])
        elif r < 0.22 and t != "O":
            out.append("I" + t[1:])          # B-X -> I-X: IOB1-style starts
        elif r < 0.27:
            out.append("O")
        else:
            out.append(t)
    return out


def gen_ner(rng):
    cases = [
        ner_case("hand: iob2", [["B-PER", "I-PER", "O", "B-LOC"]],
                 [["B-PER", "I-PER", "O", "B-ORG"]]),
        ner_case("hand: I after O and after another type",
                 [["O", "I-PER", "I-PER", "B-LOC", "I-PER"], ["I-ORG"]],
                 [["O", "I-PER", "I-PER", "I-LOC", "I-PER"], ["B-ORG"]]),
        ner_case("hand: type absent from predictions",
                 [["B-MISC", "O", "B-PER"], []], [["O", "O", "B-PER"], []]),
        ner_case("hand: all O", [["O", "O"], ["O"]], [["O", "O"], ["O"]]),
        ner_case("hand: empty sentences", [[], [], []], [[], [], []]),
        ner_case("hand: no sentences", [], []),
        ner_case("hand: iobes", [["S-PER", "B-LOC", "I-LOC", "E-LOC", "E-LOC", "S-PER"]],
                 [["S-PER", "B-LOC", "E-LOC", "I-LOC", "E-LOC", "B-PER"]]),
        ner_case("hand: bare letters and dashed types",
                 [["B", "I", "O", "B-A-B", "I-A-B", "B-", "I-"]],
                 [["B", "B", "O", "B-A-B", "I-A", "B-", "I-"]]),
    ]
    for k, scheme in enumerate(["iob2", "iob2", "iob2", "io", "io", "iobes", "iobes", "iob2"]):
        gold, pred = [], []
        for _ in range(rng.randint(1, 25)):
            n = rng.choice([0, 1, 2, 5, 8, 12, 20])
            g = random_tags(rng, n, scheme)
            gold.append(g)
            pred.append(perturb(rng, g, scheme))
        cases.append(ner_case("random %d (%s)" % (k, scheme), gold, pred))
    return cases


SQUAD_HAND = [
    ("The Eiffel Tower", ["Eiffel Tower", "the tower"]),
    ("an apple a day", ["An Apple, a Day!"]),
    ("", ["something"]),
    ("", ["the"]),                      # both normalize to "": EM 1, F1 0
    ("the", ["a"]),
    ("theatre", ["the atre"]),
    ("a-b", ["ab"]),
    ("Ångström’s law", ["ångström's law", "Angstrom"]),
    ("ÉCOLE Normale", ["école normale"]),
    ("İstanbul", ["istanbul", "i\u0307stanbul"]),
    ("ΟΔΟΣ", ["οδος", "οδοσ"]),
    ("ΑΣ.Β", ["ας β", "ασβ", "ασ.β"]),
    ("ΣΑ Σ", ["σα σ"]),
    ("word\u00a0other\u2003third\u3000x", ["word other third x"]),
    ("a\u200bb", ["a b", "a\u200bb"]),   # U+200B is not whitespace to split()
    ("x\u0301the\u0301y", ["x\u0301 \u0301y"]),
    ("über the top", ["Über top", "uber top"]),
    ("100 %", ["100"]),
    ("1,000", ["1000"]),
    ("the the the", ["the"]),
    ("red red blue", ["red blue blue", "red"]),
    ("naïve café", ["naive cafe", "NAÏVE CAFÉ"]),
    ("_under_score_", ["underscore"]),
    ("«quoted» text", ["quoted text"]),
    ("Ⅻ Ⓐ", ["ⅻ ⓐ"]),
    ("🄰Σ ǅΣ ʰΣ Σʰ", ["🄰ς ǆς ʰσ σʰ"]),   # Other_Uppercase, Lt, Lm (case-ignorable)
    ("ΑΣ́ ΑΣ'Β", ["ας́ ασβ"]),
]

SQUAD_WORDS = ["the", "a", "an", "The", "A", "AN", "Paris", "paris", "tower",
               "1889", "Gustave", "Eiffel", "naïve", "Ωmega", "ΣΟΦΙΑ", "straße",
               "İzmir", "ﬁle", "x", "an-", "(the)", "don't", "U.S.", "—", "...",
               "Ærø", "日本", "東京"]
SQUAD_SPACES = [" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u2009", "\u3000", "\u2028", "\x85"]
SQUAD_PUNCT = ["", "", "", ",", ".", "!", "?", "'", '"', "-", ";", ":", ")", "’"]


def random_answer(rng):
    n = rng.randint(0, 6)
    out = ""
    for i in range(n):
        if i:
            out += rng.choice(SQUAD_SPACES)
        out += rng.choice(SQUAD_WORDS) + rng.choice(SQUAD_PUNCT)
    if rng.random() < 0.2:
        out = rng.choice(SQUAD_SPACES) + out + rng.choice(SQUAD_SPACES)
    return out


def gen_squad(rng):
    examples = list(SQUAD_HAND)
    for _ in range(120):
        golds = [random_answer(rng) for _ in range(rng.randint(1, 3))]
        r = rng.random()
        if r < 0.3:
            pred = rng.choice(golds)
        elif r < 0.6:
            words = rng.choice(golds).split()
            pred = " ".join(w.upper() if rng.random() < 0.3 else w for w in words
                            if rng.random() < 0.8)
        else:
            pred = random_answer(rng)
        examples.append((pred, golds))
    items = []
    for prediction, golds in examples:
        items.append({
            "prediction": prediction, "answers": golds,
            "normalized": [normalize_answer(prediction)] + [normalize_answer(g) for g in golds],
            "exact_match": num(metric_max_over_ground_truths(exact_match_score, prediction, golds)),
            "f1": num(metric_max_over_ground_truths(f1_score, prediction, golds)),
        })
    totals = []
    for first in (0, 1, len(SQUAD_HAND), 77, len(examples)):
        t = evaluate(examples[:first])
        totals.append({"count": first, "exact_match": num(t["exact_match"]), "f1": num(t["f1"])})
    return {"examples": items, "totals": totals}


def write(out_dir, name, obj):
    path = os.path.join(out_dir, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "expected", "metrics")
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(20261204)
    write(out_dir, "classification.json",
          {"single": gen_classification(rng), "multi": gen_multilabel(rng)})
    write(out_dir, "ner.json", gen_ner(rng))
    write(out_dir, "squad.json", gen_squad(rng))


if __name__ == "__main__":
    main()
