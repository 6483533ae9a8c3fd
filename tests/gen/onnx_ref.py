#!/usr/bin/python3
"""
onnx_ref.py - export the torch_ref reference modules to ONNX so that
Transformers.js (tests/ref/node_modules) can run the very same random
weights through its own pipelines, as an independent reference for the task
plugins.  Run generators with /usr/bin/python3 (the interpreter with torch).

    import onnx_ref
    onnx_ref.export_model(dirpath, config, state, vocab, head)

writes, under dirpath, what Transformers.js loads from a local folder:
    config.json            (with id2label / label2id)
    tokenizer.json         (BertNormalizer, BertPreTokenizer, WordPiece,
                            BERT template, WordPiece decoder)
    tokenizer_config.json  (special tokens, model_max_length, cleanup)
    onnx/model.onnx        (inputs input_ids, attention_mask and, for BERT,
                            token_type_ids; outputs named as HF's:
                            logits, or start_logits / end_logits, or
                            last_hidden_state)
head is one of "mlm", "seq_cls", "token_cls", "qa", "base".  The graph is a
trace of torch_ref's functional forward with the weights baked in, so the
ONNX model computes exactly what torch_ref computes.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref  # noqa: E402

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class _Ref(torch.nn.Module):
    """torch_ref's forward for one head, as a module to trace."""

    def __init__(self, config, state, head):
        super().__init__()
        self.config = config
        self.state = state
        self.head = head

    def _run(self, input_ids, attention_mask, token_type_ids):
        h = torch_ref.encoder_forward(self.state, self.config, input_ids,
                                      token_type_ids, attention_mask)
        if self.head == "mlm":
            return torch_ref.mlm_logits(self.state, self.config, h)
        if self.head == "seq_cls":
            return torch_ref.seq_cls_logits(self.state, self.config, h)
        if self.head == "token_cls":
            return torch_ref.token_cls_logits(self.state, self.config, h)
        if self.head == "qa":
            return torch_ref.qa_logits(self.state, self.config, h)
        return h


class _RefBert(_Ref):
    def forward(self, input_ids, attention_mask, token_type_ids):
        return self._run(input_ids, attention_mask, token_type_ids)


class _RefDistil(_Ref):
    def forward(self, input_ids, attention_mask):
        return self._run(input_ids, attention_mask, None)


def output_names(head):
    if head == "qa":
        return ["start_logits", "end_logits"]
    if head == "base":
        return ["last_hidden_state"]
    return ["logits"]


def export_onnx(path, config, state, head, opset=14):
    """Trace torch_ref's forward for head and write it to path."""
    distil = config["model_type"] == "distilbert"
    mod = (_RefDistil if distil else _RefBert)(config, state, head)
    ids = torch.tensor([[2, 7, 8, 9, 3], [2, 10, 11, 3, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    args = (ids, mask) if distil else (ids, mask, torch.zeros_like(ids))
    names = ["input_ids", "attention_mask"] + ([] if distil else ["token_type_ids"])
    outs = output_names(head)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    for o in outs:
        axes[o] = {0: "batch"} if head == "seq_cls" else {0: "batch", 1: "sequence"}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(mod, args, path, input_names=names, output_names=outs,
                          dynamic_axes=axes, opset_version=opset,
                          do_constant_folding=True)


def tokenizer_json(vocab, lowercase=True, max_len=512):
    """A tokenizer.json for BertTokenizerFast over vocab (list of str)."""
    ids = {t: i for i, t in enumerate(vocab)}
    added = [{"id": ids[t], "content": t, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for t in SPECIALS if t in ids]
    cls, sep = ids["[CLS]"], ids["[SEP]"]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True,
                       "handle_chinese_chars": True, "strip_accents": None,
                       "lowercase": lowercase},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]",
                  "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def export_model(directory, config, state, vocab, head):
    """Write a folder Transformers.js loads with env.localModelPath set to
    its parent: config.json, tokenizer files and onnx/model.onnx."""
    os.makedirs(directory, exist_ok=True)
    cfg = dict(config)
    if "id2label" in cfg and "label2id" not in cfg:
        cfg["label2id"] = {v: int(k) for k, v in cfg["id2label"].items()}
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    max_len = config["max_position_embeddings"]
    with open(os.path.join(directory, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(vocab, True, max_len), f)
    tc = {"clean_up_tokenization_spaces": True, "cls_token": "[CLS]",
          "do_lower_case": True, "mask_token": "[MASK]",
          "model_max_length": max_len, "pad_token": "[PAD]",
          "sep_token": "[SEP]", "strip_accents": None,
          "tokenize_chinese_chars": True,
          "tokenizer_class": ("DistilBertTokenizer" if config["model_type"] == "distilbert"
                              else "BertTokenizer"),
          "unk_token": "[UNK]"}
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2, sort_keys=True)
    export_onnx(os.path.join(directory, "onnx", "model.onnx"), config, state, head)
