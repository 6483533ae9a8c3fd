#!/usr/bin/python3
"""
gen_numerics.py - fixture checkpoints and PyTorch reference outputs for the
encoder forward pass (tests/check_encoder.c).

Run from the project root with Debian's python3 (it has torch):
    /usr/bin/python3 tests/gen/gen_numerics.py [shared_data_dir]

Writes
  data/models/<name>/          checkpoints in Hugging Face's exact layout
  data/expected/numerics/manifest.json
  data/expected/numerics/<name>.<case>.{hidden,mlm,pooler}.bin
                               raw little-endian float32 arrays

manifest.json lists, per case (RoBERTa and ELECTRA models carry every
head and list seq_cls [B][labels], token_cls [B][T][labels] and qa
[B][T][2] logits too): the model, B, T, lengths, ids / type_ids
([B][T], padding is id 0), the files of hidden states [B][T][H] (padded
positions hold PyTorch's values there and are not compared), MLM logits for
the selected rows mlm_rows [[b, t], ...] -> [n][V], and pooler [B][H] where
the model has one.  Everything is deterministic (fixed seeds).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref as R  # noqa: E402
import gen_families as F  # noqa: E402
import gen_mpnet as M  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
VOCAB = os.path.join(SHARED, "vocab", "bert-base-uncased", "vocab.txt")
MODELS = os.path.join(ROOT, "data", "models")
EXPECTED = os.path.join(ROOT, "data", "expected", "numerics")

ROBERTA_ARCHS = ("RobertaForMaskedLM", "RobertaForSequenceClassification",
                 "RobertaForTokenClassification", "RobertaForQuestionAnswering")
ELECTRA_ARCHS = ("ElectraForMaskedLM", "ElectraForSequenceClassification",
                 "ElectraForTokenClassification", "ElectraForQuestionAnswering")
HEADS = ("mlm", "seq_cls", "token_cls", "qa")

# name, family, arch, dtype, vocab size, config overrides, seed
SPECS = [
    ("tiny-bert", "bert", "BertForMaskedLM", "F32", 2000,
     dict(hidden=48, layers=2, heads=3, intermediate=96, max_pos=512), 11),
    ("tiny-distilbert", "distilbert", "DistilBertForMaskedLM", "F32", 2000,
     dict(dim=48, layers=2, heads=3, hidden_dim=96, max_pos=512), 12),
    # 1 layer, tanh GELU, odd head size (36 / 4 = 9), with pooler
    ("tiny-bert-gelu-new", "bert", "BertForPreTraining", "F32", 1000,
     dict(hidden=36, layers=1, heads=4, intermediate=60, max_pos=64,
          act="gelu_new", type_vocab=3, eps=1e-5), 13),
    # ReLU, stored as F16
    ("tiny-bert-relu-f16", "bert", "BertForMaskedLM", "F16", 1000,
     dict(hidden=40, layers=2, heads=5, intermediate=72, max_pos=64,
          act="relu"), 14),
    # DistilBERT with sinusoidal positions, stored as BF16
    ("tiny-distilbert-bf16", "distilbert", "DistilBertForMaskedLM", "BF16", 1000,
     dict(dim=32, layers=1, heads=2, hidden_dim=64, max_pos=64,
          sinusoidal=True), 15),
    # RoBERTa from twitter-roberta-base-sentiment-latest's config.json
    # (positions from padding_idx + 1, one token type, eps 1e-5), every
    # head, byte-level BPE vocabulary (tests/gen/gen_families.py)
    ("tiny-roberta", "roberta", ROBERTA_ARCHS, "F32", None,
     dict(hidden=32, layers=2, heads=4, intermediate=64), 16),
    # ELECTRA from electra-small-discriminator's config.json, embeddings
    # narrower than the hidden size (embeddings_project), every head
    ("tiny-electra", "electra", ELECTRA_ARCHS, "F32", 1000,
     dict(embedding=24, hidden=32, layers=2, heads=4, intermediate=64), 17),
    # MPNet from microsoft/mpnet-base's config.json (tests/gen/gen_mpnet.py):
    # relative attention bias, RoBERTa's positions, no token types, every
    # head and the pooler, MPNet's WordPiece tokenizer.json
    ("tiny-mpnet", "mpnet", R.MPNET_ARCHS, "F32", M.V, {}, 18),
]


def make_config(family, arch, V, over):
    if family == "roberta":
        return R.roberta_config(F.real_config("roberta"), V, architectures=arch, **over)
    if family == "mpnet":
        return M.tiny_config()
    if family == "electra":
        return R.electra_config(F.real_config("electra"), V, architectures=arch,
                                labels=["NEGATIVE", "POSITIVE"], **over)
    if family == "bert":
        return R.bert_config(V, architectures=(arch,), **over)
    return R.distilbert_config(V, architectures=(arch,), **over)


def cases_for(V, max_pos, family, g, cfg):
    """(case name, ids [B][T], type_ids [B][T], lengths [B], mlm rows)."""
    out = []
    # length 1
    roberta_like = family in ("roberta", "mpnet")   # <s> </s>, positions after padding_idx
    bos, eos = (0, 2) if roberta_like else (2, 3)
    typed = family in ("bert", "electra")
    out.append(("len1", torch.tensor([[bos]]), torch.zeros(1, 1, dtype=torch.long),
                [1], [(0, 0)]))
    # a padded batch of 3 texts of different lengths
    lengths = [7, 19, 12] if max_pos >= 19 else [3, 5, 4]
    T = max(lengths)
    ids = torch.zeros(3, T, dtype=torch.long)
    tt = torch.zeros(3, T, dtype=torch.long)
    for b, L in enumerate(lengths):
        ids[b, :L] = torch.randint(5, V, (L,), generator=g)
        ids[b, 0] = bos                     # [CLS] / <s>
        ids[b, L - 1] = eos                 # [SEP] / </s>
        if typed and L > 4:
            tt[b, L // 2:L] = 1             # a second segment
    if roberta_like:
        ids[1, 3] = cfg["pad_token_id"]     # a padding id among real tokens
    out.append(("batch3", ids, tt, lengths,
                [(0, 0), (0, 6), (1, 3), (1, 18), (2, 11)] if T == 19 else
                [(0, 0), (1, 4), (2, 2)]))
    # the longest sequence the model takes
    T = max_pos - (cfg["pad_token_id"] + 1 if roberta_like else 0)
    ids = torch.randint(5, V, (1, T), generator=g)
    ids[0, 0] = bos
    ids[0, T - 1] = eos
    tt = torch.zeros(1, T, dtype=torch.long)
    if typed:
        tt[0, T // 2:] = 1
    out.append(("len%d" % T, ids, tt, [T], [(0, 0), (0, 1), (0, T // 2), (0, T - 1)]))
    return out


def main():
    os.makedirs(EXPECTED, exist_ok=True)
    manifest = {"generator": "tests/gen/gen_numerics.py", "cases": []}
    torch.manual_seed(0)
    for name, family, arch, dtype, V, over, seed in SPECS:
        if family == "roberta":
            tok = F.bpe_fixture_tokenizer()
            V = len(tok["model"]["vocab"])
        vocab = M.fixture_vocab() if family == "mpnet" else R.make_vocab(VOCAB, V)
        cfg = make_config(family, arch, V, over)
        multi = isinstance(arch, tuple)
        # (the MPNet fixture carries mpnet.pooler as well, as MPNetModel has it)
        state = R.random_state(cfg, family if multi else arch, seed,
                               heads=(HEADS + (("pooler",) if family == "mpnet" else ()))
                               if multi else None)
        R.write_checkpoint(os.path.join(MODELS, name), cfg, state, vocab, dtype=dtype)
        if family == "roberta":
            F.write_bpe_tokenizer(os.path.join(MODELS, name), tok)
        if family == "mpnet":
            M.write_tokenizer(os.path.join(MODELS, name), vocab)
        ref = R.round_state(state, dtype)        # what the loader sees
        g = torch.Generator().manual_seed(seed + 100)
        has_pooler = any(k.endswith("pooler.dense.weight") for k in state)
        max_pos = cfg["max_position_embeddings"]
        H = cfg.get("hidden_size", cfg.get("dim"))
        for case, ids, tt, lengths, rows in cases_for(V, max_pos, family, g, cfg):
            B, T = ids.shape
            mask = torch.zeros(B, T, dtype=torch.long)
            for b, L in enumerate(lengths):
                mask[b, :L] = 1
            with torch.no_grad():
                typed = family in ("bert", "electra")
                hid = R.encoder_forward(ref, cfg, ids, tt if typed else None, mask)
                sel = torch.stack([hid[b, t] for b, t in rows])
                mlm = R.mlm_logits(ref, cfg, sel)
                pool = R.pooler(ref, cfg, hid) if has_pooler else None
                heads = {}
                if multi:
                    heads["seq_cls"] = R.seq_cls_logits(ref, cfg, hid)
                    heads["token_cls"] = R.token_cls_logits(ref, cfg, hid)
                    heads["qa"] = torch.stack(R.qa_logits(ref, cfg, hid), dim=-1)
            stem = "%s.%s" % (name, case)
            R.write_f32(os.path.join(EXPECTED, stem + ".hidden.bin"), hid)
            R.write_f32(os.path.join(EXPECTED, stem + ".mlm.bin"), mlm)
            entry = {
                "model": name, "case": case, "family": family, "dtype": dtype,
                "B": B, "T": T, "H": H, "V": V, "lengths": lengths,
                "ids": ids.tolist(),
                "type_ids": tt.tolist() if typed else None,
                "hidden": stem + ".hidden.bin",
                "mlm_rows": [list(r) for r in rows],
                "mlm": stem + ".mlm.bin",
            }
            for k, v in heads.items():
                R.write_f32(os.path.join(EXPECTED, "%s.%s.bin" % (stem, k)), v)
                entry[k] = "%s.%s.bin" % (stem, k)
            if pool is not None:
                R.write_f32(os.path.join(EXPECTED, stem + ".pooler.bin"), pool)
                entry["pooler"] = stem + ".pooler.bin"
            manifest["cases"].append(entry)
    with open(os.path.join(EXPECTED, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
