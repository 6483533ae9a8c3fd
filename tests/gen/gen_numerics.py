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

manifest.json lists, per case (RoBERTa, ELECTRA and ModernBERT models
carry every head and list seq_cls [B][labels], token_cls [B][T][labels]
and qa [B][T][2] logits too): the model, B, T, lengths, ids / type_ids
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
import gen_modernbert as MB  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
VOCAB = os.path.join(SHARED, "vocab", "bert-base-uncased", "vocab.txt")
MODELS = os.path.join(ROOT, "data", "models")
EXPECTED = os.path.join(ROOT, "data", "expected", "numerics")

ROBERTA_ARCHS = ("RobertaForMaskedLM", "RobertaForSequenceClassification",
                 "RobertaForTokenClassification", "RobertaForQuestionAnswering")
ELECTRA_ARCHS = ("ElectraForMaskedLM", "ElectraForSequenceClassification",
                 "ElectraForTokenClassification", "ElectraForQuestionAnswering")
DEBERTA_ARCHS = ("DebertaV2ForMaskedLM", "DebertaV2ForSequenceClassification",
                 "DebertaV2ForTokenClassification", "DebertaV2ForQuestionAnswering")
MODERNBERT_ARCHS = ("ModernBertForMaskedLM", "ModernBertForSequenceClassification",
                    "ModernBertForTokenClassification", "ModernBertForQuestionAnswering")
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
    # DeBERTa-v3 from deberta-v3-large's config.json (relative attention
    # with c2p and p2c through query_proj / key_proj, rel_embeddings
    # normalised, no absolute positions, no token types), log-bucketed
    # positions (8 buckets over 64 positions: distances past 4 share
    # buckets), every head, a Unigram tokenizer (tests/gen/gen_families.py)
    ("tiny-deberta", "deberta-v2", DEBERTA_ARCHS, "F32", None,
     dict(hidden=32, layers=2, heads=4, intermediate=64, max_pos=64, position_buckets=8), 18),
    # DeBERTa-v2 the older way: pos_key_proj / pos_query_proj, no buckets
    # (distances clamped at max_relative_positions 16), absolute positions,
    # token types, embeddings 24 wide through embed_proj, pos_att_type as a
    # string, no rel LayerNorm, a ReLU pooler
    ("tiny-deberta-v2", "deberta-v2", DEBERTA_ARCHS, "F32", None,
     dict(hidden=32, layers=2, heads=4, intermediate=64, max_pos=64, embedding_size=24,
          position_buckets=-1, max_relative_positions=16, share_att_key=False,
          pos_att_type="p2c|c2p", norm_rel_ebd="none", position_biased_input=True,
          type_vocab_size=2, pooler_hidden_act="relu"), 19),
    # DeBERTa-v2 without relative attention: plain attention whose scores
    # are still divided by sqrt(dh * 3) (pos_att_type counts), and the
    # masked-LM head in the newer lm_predictions.lm_head layout
    ("tiny-deberta-norel", "deberta-v2", "DebertaV2ForMaskedLM", "F32", None,
     dict(hidden=32, layers=2, heads=4, intermediate=64, max_pos=64, relative_attention=False,
          pos_att_type=["c2p", "p2c"], position_biased_input=True, legacy=False), 20),
    # ModernBERT from ModernBERT-large's config.json (no biases, mean
    # pooling, GELU): 4 layers, global on layers 0 and 3, a local window
    # of 8 (|i - j| <= 4), every head (a two-label classifier serves the
    # sequence, token and QA heads), byte-level BPE (gen_modernbert.py)
    ("tiny-modernbert", "modernbert", MODERNBERT_ARCHS, "F32", None,
     dict(hidden=32, layers=4, heads=4, intermediate=48, local_attention=8), 18),
    # every bias switched on, first-token pooling, tanh GELU in the
    # layers and ReLU in the head, global on layer 0 of 2, window 6
    ("tiny-modernbert-cls", "modernbert", MODERNBERT_ARCHS, "F32", None,
     dict(hidden=16, layers=2, heads=2, intermediate=24, local_attention=6, global_every=2,
          norm_bias=True, attention_bias=True, mlp_bias=True, classifier_bias=True,
          classifier_pooling="cls", hidden_activation="gelu_pytorch_tanh",
          classifier_activation="relu"), 19),
]
NLI_LABELS = ["entailment", "neutral", "contradiction"]


def make_config(family, arch, V, over, tok=None):
    if family == "modernbert":
        return MB.fixture_config(tok, architectures=arch, labels=["NEGATIVE", "POSITIVE"], **over)
    if family == "roberta":
        return R.roberta_config(F.real_config("roberta"), V, architectures=arch, **over)
    if family == "mpnet":
        return M.tiny_config()
    if family == "electra":
        return R.electra_config(F.real_config("electra"), V, architectures=arch,
                                labels=["NEGATIVE", "POSITIVE"], **over)
    if family == "deberta-v2":
        return R.deberta_config(F.real_config("deberta"), V,
                                architectures=arch if isinstance(arch, tuple) else (arch,),
                                labels=NLI_LABELS, **over)
    if family == "bert":
        return R.bert_config(V, architectures=(arch,), **over)
    return R.distilbert_config(V, architectures=(arch,), **over)


def typed_of(family, cfg):
    """1 when the model takes token type ids."""
    return family in ("bert", "electra") or (family == "deberta-v2" and
                                              cfg.get("type_vocab_size", 0) > 0)


def cases_for(V, max_pos, family, g, cfg):
    """(case name, ids [B][T], type_ids [B][T], lengths [B], mlm rows)."""
    out = []
    # length 1
    roberta_like = family in ("roberta", "mpnet")   # <s> </s>, positions after padding_idx
    bos, eos = {"roberta": (0, 2), "mpnet": (0, 2), "deberta-v2": (1, 2)}.get(family, (2, 3))
    if family == "modernbert":
        bos, eos = cfg["cls_token_id"], cfg["sep_token_id"]
    typed = typed_of(family, cfg)
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
    if family == "modernbert":
        T = 512     # of its 8192 positions: attention is quadratic in T
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
        tok = None
        if family == "roberta":
            tok = F.bpe_fixture_tokenizer()
            V = len(tok["model"]["vocab"])
        elif family == "deberta-v2":
            tok = F.unigram_fixture_tokenizer()
            V = len(tok["model"]["vocab"])
        if family == "modernbert":
            tok = MB.fixture_tokenizer()
        cfg = make_config(family, arch, V, over, tok)
        V = cfg["vocab_size"]
        vocab = M.fixture_vocab() if family == "mpnet" else R.make_vocab(VOCAB, V)
        multi = isinstance(arch, tuple)
        if family == "modernbert":
            state = R.modernbert_random_state(cfg, seed)
        else:
            # (the MPNet fixture carries mpnet.pooler as well, as MPNetModel has it)
            state = R.random_state(cfg, family if multi else arch, seed,
                                   heads=(HEADS + (("pooler",) if family == "mpnet" else ()))
                                   if multi else None)
        R.write_checkpoint(os.path.join(MODELS, name), cfg, state, vocab, dtype=dtype)
        if family == "roberta":
            F.write_bpe_tokenizer(os.path.join(MODELS, name), tok)
        if family == "mpnet":
            M.write_tokenizer(os.path.join(MODELS, name), vocab)
        elif family == "deberta-v2":
            F.write_unigram_tokenizer(os.path.join(MODELS, name), tok,
                                      cfg["max_position_embeddings"])
        if family == "modernbert":
            MB.write_tokenizer(os.path.join(MODELS, name), tok)
        ref = R.round_state(state, dtype)        # what the loader sees
        g = torch.Generator().manual_seed(seed + 100)
        # (DeBERTa's pooler.dense belongs to its sequence head)
        has_pooler = family != "deberta-v2" and any(k.endswith("pooler.dense.weight")
                                                    for k in state)
        max_pos = cfg["max_position_embeddings"]
        H = cfg.get("hidden_size", cfg.get("dim"))
        for case, ids, tt, lengths, rows in cases_for(V, max_pos, family, g, cfg):
            B, T = ids.shape
            mask = torch.zeros(B, T, dtype=torch.long)
            for b, L in enumerate(lengths):
                mask[b, :L] = 1
            with torch.no_grad():
                typed = typed_of(family, cfg)
                if family == "modernbert":
                    hid = R.modernbert_forward(ref, cfg, ids, mask)
                else:
                    hid = R.encoder_forward(ref, cfg, ids, tt if typed else None, mask)
                sel = torch.stack([hid[b, t] for b, t in rows])
                pool = R.pooler(ref, cfg, hid) if has_pooler else None
                heads = {}
                if family == "modernbert":
                    mlm = R.modernbert_mlm_logits(ref, cfg, sel)
                    heads["seq_cls"] = R.modernbert_seq_cls_logits(ref, cfg, hid, mask)
                    heads["token_cls"] = R.modernbert_token_logits(ref, cfg, hid)
                    heads["qa"] = R.modernbert_token_logits(ref, cfg, hid)
                else:
                    mlm = R.mlm_logits(ref, cfg, sel)
                if multi and family != "modernbert":
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
