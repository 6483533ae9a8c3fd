#!/usr/bin/python3
"""
torch_ref.py - the PyTorch reference for nlp's test fixtures.

An importable module (run generators with /usr/bin/python3, the Debian
interpreter that has torch; there is no `transformers` package here):

  make_vocab(shared_vocab_path, size)        small WordPiece vocab (list of str)
  bert_config(...), distilbert_config(...)   config.json dicts in HF's form
  roberta_config(...), electra_config(...), mpnet_config(...), deberta_config(...)
  random_state(config, arch, seed, heads)    dict name -> torch tensor, HF names
  encoder_forward(state, config, ids, type_ids, mask) -> [B][T][H]
  pooler, mlm_logits, seq_cls_logits, token_cls_logits, qa_logits
  write_safetensors(path, tensors, metadata)  the safetensors file format
  read_safetensors(path)                     name -> float32 (I8 + NAME_scale dequantized)
  write_checkpoint(dir, config, state, vocab, dtype, tokenizer_config)
  modernbert_config, modernbert_random_state, modernbert_forward,
  modernbert_mlm_logits, modernbert_seq_cls_logits, modernbert_token_logits
                                             ModernBERT (pre-LN, RoPE, GeGLU,
                                             sliding-window attention; its own
                                             section at the end)

The forward math is written out with torch.nn.functional, following the
published structure of Hugging Face's BertModel / DistilBertModel /
RobertaModel / ElectraModel / MPNetModel (post-LN encoder, additive finfo.min padding
mask, exact or tanh GELU; RoBERTa's position ids from padding_idx + 1,
ELECTRA's embeddings_project; MPNet's relative attention bias, see
mpnet_position_bias; DeBERTa-v2's disentangled attention, written out
below from its equations) and their heads, so it is an
implementation independent of the C code it checks.  Computation runs in
float32 like HF; weights stored as F16/BF16 are rounded to that dtype first.
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# ---------------------------------------------------------------- vocab


def make_vocab(shared_vocab_path, size):
    """[PAD] [UNK] [CLS] [SEP] [MASK] then bert-base-uncased's tokens from
    id 999 on (punctuation, single characters, "##x" pieces, then words in
    frequency order) until `size` entries.  Returns the list of tokens."""
    with open(shared_vocab_path, encoding="utf-8") as f:
        full = [line.rstrip("\n") for line in f]
    if size < len(SPECIALS) + 1:
        raise ValueError("vocab size too small")
    rest = [t for t in full[999:] if t not in SPECIALS]
    return SPECIALS + rest[: size - len(SPECIALS)]


# ---------------------------------------------------------------- configs


def _labels(cfg, labels):
    if labels:
        cfg["id2label"] = {str(i): l for i, l in enumerate(labels)}
        cfg["label2id"] = {l: i for i, l in enumerate(labels)}


def bert_config(vocab_size, hidden=48, layers=2, heads=3, intermediate=96,
                max_pos=512, type_vocab=2, act="gelu", eps=1e-12,
                architectures=("BertForMaskedLM",), labels=None,
                problem_type=None):
    """A BERT config.json dict with the keys and defaults HF writes."""
    cfg = {
        "architectures": list(architectures),
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": act,
        "hidden_dropout_prob": 0.1,
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": intermediate,
        "layer_norm_eps": eps,
        "max_position_embeddings": max_pos,
        "model_type": "bert",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
        "type_vocab_size": type_vocab,
        "use_cache": True,
        "vocab_size": vocab_size,
    }
    _labels(cfg, labels)
    if problem_type:
        cfg["problem_type"] = problem_type
    return cfg


def distilbert_config(vocab_size, dim=48, layers=2, heads=3, hidden_dim=96,
                      max_pos=512, act="gelu", sinusoidal=False,
                      architectures=("DistilBertForMaskedLM",), labels=None,
                      problem_type=None):
    """A DistilBERT config.json dict with the keys and defaults HF writes."""
    cfg = {
        "activation": act,
        "architectures": list(architectures),
        "attention_dropout": 0.1,
        "dim": dim,
        "dropout": 0.1,
        "hidden_dim": hidden_dim,
        "initializer_range": 0.02,
        "max_position_embeddings": max_pos,
        "model_type": "distilbert",
        "n_heads": heads,
        "n_layers": layers,
        "pad_token_id": 0,
        "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2,
        "sinusoidal_pos_embds": sinusoidal,
        "tie_weights_": True,
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
        "vocab_size": vocab_size,
    }
    _labels(cfg, labels)
    if problem_type:
        cfg["problem_type"] = problem_type
    return cfg


def roberta_config(base, vocab_size, hidden=32, layers=2, heads=4, intermediate=64,
                   max_pos=None, architectures=None, labels=None, model_type=None):
    """A RoBERTa config.json dict: base (a real checkpoint's config.json
    dict) with the sizes shrunk; its other fields (layer_norm_eps,
    pad_token_id, type_vocab_size, max_position_embeddings, ...) kept."""
    cfg = dict(base)
    cfg.pop("_name_or_path", None)
    cfg.update(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
               num_attention_heads=heads, intermediate_size=intermediate)
    if max_pos:
        cfg["max_position_embeddings"] = max_pos
    if architectures:
        cfg["architectures"] = list(architectures)
    if model_type:
        cfg["model_type"] = model_type
    if labels:
        cfg.pop("id2label", None)
        cfg.pop("label2id", None)
        _labels(cfg, labels)
    return cfg


def electra_config(base, vocab_size, embedding=24, hidden=32, layers=2, heads=4,
                   intermediate=64, architectures=None, labels=None):
    """An ELECTRA config.json dict: base (a real config.json dict) with the
    sizes shrunk (embedding_size != hidden_size keeps embeddings_project)."""
    cfg = dict(base)
    cfg.update(vocab_size=vocab_size, embedding_size=embedding, hidden_size=hidden,
               num_hidden_layers=layers, num_attention_heads=heads,
               intermediate_size=intermediate)
    if architectures:
        cfg["architectures"] = list(architectures)
    _labels(cfg, labels)
    return cfg


def _family(config):
    return {"xlm-roberta": "roberta"}.get(config["model_type"], config["model_type"])


def _is_distil(config):
    return _family(config) == "distilbert"


def _emb_dim(config):
    """Width of the embeddings (ELECTRA's embedding_size, else hidden)."""
    if _family(config) == "electra":
        return config.get("embedding_size", 128)
    return _dims(config)[1]


def _prefix(config):
    if _family(config) == "deberta-v2":
        return "deberta."
    return _family(config) + "."


def _dims(config):
    """(V, H, L, heads, I, P, TV, eps, act) whatever the family."""
    if _is_distil(config):
        return (config["vocab_size"], config["dim"], config["n_layers"],
                config["n_heads"], config["hidden_dim"],
                config["max_position_embeddings"], 0, 1e-12,
                config["activation"])
    return (config["vocab_size"], config["hidden_size"],
            config["num_hidden_layers"], config["num_attention_heads"],
            config["intermediate_size"], config["max_position_embeddings"],
            config.get("type_vocab_size", 0), config["layer_norm_eps"],
            config["hidden_act"])


def _num_labels(config):
    return len(config.get("id2label", {})) or 2


# ---------------------------------------------------------------- weights

# HF class name -> (family, heads)
ARCHS = {
    "BertModel": ("bert", ("pooler",)),
    "BertForMaskedLM": ("bert", ("mlm",)),
    "BertForPreTraining": ("bert", ("pooler", "mlm", "nsp")),
    "BertForSequenceClassification": ("bert", ("pooler", "seq_cls")),
    "BertForTokenClassification": ("bert", ("token_cls",)),
    "BertForQuestionAnswering": ("bert", ("qa",)),
    "DistilBertModel": ("distilbert", ()),
    "DistilBertForMaskedLM": ("distilbert", ("mlm",)),
    "DistilBertForSequenceClassification": ("distilbert", ("seq_cls",)),
    "DistilBertForTokenClassification": ("distilbert", ("token_cls",)),
    "DistilBertForQuestionAnswering": ("distilbert", ("qa",)),
    "RobertaForMaskedLM": ("roberta", ("mlm",)),
    "RobertaForSequenceClassification": ("roberta", ("seq_cls",)),
    "RobertaForTokenClassification": ("roberta", ("token_cls",)),
    "RobertaForQuestionAnswering": ("roberta", ("qa",)),
    "ElectraForMaskedLM": ("electra", ("mlm",)),
    "ElectraForSequenceClassification": ("electra", ("seq_cls",)),
    "ElectraForTokenClassification": ("electra", ("token_cls",)),
    "ElectraForQuestionAnswering": ("electra", ("qa",)),
    "DebertaV2ForMaskedLM": ("deberta-v2", ("mlm",)),
    "DebertaV2ForSequenceClassification": ("deberta-v2", ("seq_cls",)),
    "DebertaV2ForTokenClassification": ("deberta-v2", ("token_cls",)),
    "DebertaV2ForQuestionAnswering": ("deberta-v2", ("qa",)),
}


def _sinusoidal(P, H):
    pos = torch.arange(P, dtype=torch.float64)[:, None]
    j = torch.arange(H, dtype=torch.float64)[None, :]
    angle = pos / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode="floor") / H)
    out = torch.zeros(P, H, dtype=torch.float64)
    out[:, 0::2] = torch.sin(angle[:, 0::2])
    out[:, 1::2] = torch.cos(angle[:, 1::2])
    return out.float()


def random_state(config, arch, seed, heads=None, prefixed=None):
    """Random weights with Hugging Face's exact tensor names and shapes.

    arch: an HF class name from ARCHS ("BertForMaskedLM", ...), which also
    fixes the heads, or a family "bert" / "distilbert" with heads a tuple
    from {"pooler", "mlm", "nsp", "seq_cls", "token_cls", "qa"}.  Names carry the
    "bert." / "distilbert." prefix when the model has a head (as HF's
    *For* classes save them), unless prefixed says otherwise.  Tied
    weights (MLM decoder = word embeddings) are stored once, like
    save_pretrained does.  Matrices ~ N(0, 0.02)-ish, LayerNorm gains near
    1, biases small but nonzero so wiring mistakes show up.
    Returns an insertion-ordered dict name -> float32 tensor."""
    if arch in ARCHS and ARCHS[arch][0] == "mpnet" or arch == "mpnet":
        return mpnet_random_state(config, arch, seed, heads, prefixed)
    if arch in ARCHS:
        family, arch_heads = ARCHS[arch]
        heads = arch_heads if heads is None else tuple(heads)
    else:
        family = arch
        heads = tuple(heads or ())
    distil = family == "distilbert"
    if family != _family(config):
        raise ValueError("arch and config disagree on the family")
    if family == "deberta-v2":
        return deberta_state(config, seed, heads)
    V, H, L, nh, I, P, TV, eps, act = _dims(config)
    g = torch.Generator().manual_seed(seed)

    def w(*shape, std=0.05):
        return torch.randn(*shape, generator=g) * std

    def bias(n):
        return torch.randn(n, generator=g) * 0.02

    def gain(n):
        return 1.0 + torch.randn(n, generator=g) * 0.1

    head_only = set(heads) - {"pooler"}
    if prefixed is None:
        prefixed = bool(head_only)
    pre = _prefix(config) if prefixed else ""
    E = _emb_dim(config)
    s = {}
    if distil:
        s[pre + "embeddings.word_embeddings.weight"] = w(V, H, std=0.5)
        if config.get("sinusoidal_pos_embds"):
            s[pre + "embeddings.position_embeddings.weight"] = _sinusoidal(P, H)
        else:
            s[pre + "embeddings.position_embeddings.weight"] = w(P, H, std=0.2)
        s[pre + "embeddings.LayerNorm.weight"] = gain(H)
        s[pre + "embeddings.LayerNorm.bias"] = bias(H)
        for i in range(L):
            p = pre + "transformer.layer.%d." % i
            for n in ("q_lin", "k_lin", "v_lin", "out_lin"):
                s[p + "attention.%s.weight" % n] = w(H, H, std=0.15)
                s[p + "attention.%s.bias" % n] = bias(H)
            s[p + "sa_layer_norm.weight"] = gain(H)
            s[p + "sa_layer_norm.bias"] = bias(H)
            s[p + "ffn.lin1.weight"] = w(I, H, std=0.15)
            s[p + "ffn.lin1.bias"] = bias(I)
            s[p + "ffn.lin2.weight"] = w(H, I, std=0.1)
            s[p + "ffn.lin2.bias"] = bias(H)
            s[p + "output_layer_norm.weight"] = gain(H)
            s[p + "output_layer_norm.bias"] = bias(H)
        if "mlm" in heads:
            s["vocab_transform.weight"] = w(H, H, std=0.15)
            s["vocab_transform.bias"] = bias(H)
            s["vocab_layer_norm.weight"] = gain(H)
            s["vocab_layer_norm.bias"] = bias(H)
            s["vocab_projector.bias"] = bias(V)
        if "seq_cls" in heads:
            s["pre_classifier.weight"] = w(H, H, std=0.15)
            s["pre_classifier.bias"] = bias(H)
            s["classifier.weight"] = w(_num_labels(config), H, std=0.15)
            s["classifier.bias"] = bias(_num_labels(config))
    else:
        s[pre + "embeddings.word_embeddings.weight"] = w(V, E, std=0.5)
        s[pre + "embeddings.position_embeddings.weight"] = w(P, E, std=0.2)
        s[pre + "embeddings.token_type_embeddings.weight"] = w(TV, E, std=0.2)
        s[pre + "embeddings.LayerNorm.weight"] = gain(E)
        s[pre + "embeddings.LayerNorm.bias"] = bias(E)
        if E != H:
            s[pre + "embeddings_project.weight"] = w(H, E, std=0.2)
            s[pre + "embeddings_project.bias"] = bias(H)
        for i in range(L):
            p = pre + "encoder.layer.%d." % i
            for n in ("query", "key", "value"):
                s[p + "attention.self.%s.weight" % n] = w(H, H, std=0.15)
                s[p + "attention.self.%s.bias" % n] = bias(H)
            s[p + "attention.output.dense.weight"] = w(H, H, std=0.15)
            s[p + "attention.output.dense.bias"] = bias(H)
            s[p + "attention.output.LayerNorm.weight"] = gain(H)
            s[p + "attention.output.LayerNorm.bias"] = bias(H)
            s[p + "intermediate.dense.weight"] = w(I, H, std=0.15)
            s[p + "intermediate.dense.bias"] = bias(I)
            s[p + "output.dense.weight"] = w(H, I, std=0.1)
            s[p + "output.dense.bias"] = bias(H)
            s[p + "output.LayerNorm.weight"] = gain(H)
            s[p + "output.LayerNorm.bias"] = bias(H)
        if "pooler" in heads:
            s[pre + "pooler.dense.weight"] = w(H, H, std=0.15)
            s[pre + "pooler.dense.bias"] = bias(H)
        if "mlm" in heads and family == "roberta":
            s["lm_head.dense.weight"] = w(H, H, std=0.15)
            s["lm_head.dense.bias"] = bias(H)
            s["lm_head.layer_norm.weight"] = gain(H)
            s["lm_head.layer_norm.bias"] = bias(H)
            s["lm_head.bias"] = bias(V)
        elif "mlm" in heads and family == "electra":
            s["generator_predictions.dense.weight"] = w(E, H, std=0.15)
            s["generator_predictions.dense.bias"] = bias(E)
            s["generator_predictions.LayerNorm.weight"] = gain(E)
            s["generator_predictions.LayerNorm.bias"] = bias(E)
            s["generator_lm_head.bias"] = bias(V)
        elif "mlm" in heads:
            s["cls.predictions.transform.dense.weight"] = w(H, H, std=0.15)
            s["cls.predictions.transform.dense.bias"] = bias(H)
            s["cls.predictions.transform.LayerNorm.weight"] = gain(H)
            s["cls.predictions.transform.LayerNorm.bias"] = bias(H)
            s["cls.predictions.bias"] = bias(V)
        if "nsp" in heads:
            s["cls.seq_relationship.weight"] = w(2, H, std=0.15)
            s["cls.seq_relationship.bias"] = bias(2)
        if "seq_cls" in heads and family in ("roberta", "electra"):
            s["classifier.dense.weight"] = w(H, H, std=0.15)
            s["classifier.dense.bias"] = bias(H)
            s["classifier.out_proj.weight"] = w(_num_labels(config), H, std=0.15)
            s["classifier.out_proj.bias"] = bias(_num_labels(config))
        elif "seq_cls" in heads:
            s["classifier.weight"] = w(_num_labels(config), H, std=0.15)
            s["classifier.bias"] = bias(_num_labels(config))
    if "token_cls" in heads:
        s["classifier.weight"] = w(_num_labels(config), H, std=0.15)
        s["classifier.bias"] = bias(_num_labels(config))
    if "qa" in heads:
        s["qa_outputs.weight"] = w(2, H, std=0.15)
        s["qa_outputs.bias"] = bias(2)
    return {k: v.float().contiguous() for k, v in s.items()}


def round_state(state, dtype):
    """The state as the C side sees it after storing it as dtype
    ("F32", "F16", "BF16") and converting back to float32."""
    td = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    return {k: v.to(td).float() for k, v in state.items()}


# ---------------------------------------------------------------- forward


def _get(state, config, name):
    """A weight by its unprefixed name, stored with or without prefix."""
    pre = _prefix(config)
    if pre + name in state:
        return state[pre + name]
    return state[name]


def _act(x, act):
    if act == "gelu":
        return F.gelu(x)
    if act in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        if act == "gelu_new":  # HF's NewGELUActivation formula
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) *
                                               (x + 0.044715 * torch.pow(x, 3.0))))
        return F.gelu(x, approximate="tanh")
    if act == "relu":
        return F.relu(x)
    raise ValueError("activation %r" % act)


def _as_tensor(x, dtype=torch.long):
    if isinstance(x, torch.Tensor):
        return x.to(dtype)
    return torch.tensor(x, dtype=dtype)


def encoder_forward(state, config, input_ids, token_type_ids=None,
                    attention_mask=None):
    """last_hidden_state [B][T][H] (float32) for ids [B][T]; token_type_ids
    and attention_mask default to zeros / ones like HF."""
    if _family(config) == "mpnet":
        return mpnet_encoder_forward(state, config, input_ids, attention_mask)
    if _family(config) == "deberta-v2":
        return deberta_forward(state, config, input_ids, token_type_ids, attention_mask)
    ids = _as_tensor(input_ids)
    B, T = ids.shape
    V, H, L, nh, I, P, TV, eps, act = _dims(config)
    dh = H // nh
    mask = (torch.ones(B, T, dtype=torch.long) if attention_mask is None
            else _as_tensor(attention_mask))
    G = lambda n: _get(state, config, n)
    E = _emb_dim(config)
    if _family(config) == "roberta":
        # create_position_ids_from_input_ids: padding keeps padding_idx,
        # other tokens count from padding_idx + 1
        pad = config["pad_token_id"]
        keep = ids.ne(pad).long()
        pos = torch.cumsum(keep, dim=1) * keep + pad
    else:
        pos = torch.arange(T)[None].expand(B, T)
    x = F.embedding(ids, G("embeddings.word_embeddings.weight"))
    x = x + F.embedding(pos, G("embeddings.position_embeddings.weight"))
    if not _is_distil(config):
        tt = (torch.zeros(B, T, dtype=torch.long) if token_type_ids is None
              else _as_tensor(token_type_ids))
        x = x + F.embedding(tt, G("embeddings.token_type_embeddings.weight"))
    x = F.layer_norm(x, (E,), G("embeddings.LayerNorm.weight"),
                     G("embeddings.LayerNorm.bias"), eps)
    if E != H:
        x = F.linear(x, G("embeddings_project.weight"), G("embeddings_project.bias"))
    minv = torch.finfo(torch.float32).min
    add_mask = (1.0 - mask[:, None, None, :].float()) * minv   # [B][1][1][T]

    def heads_of(t):  # [B][T][H] -> [B][nh][T][dh]
        return t.view(B, T, nh, dh).transpose(1, 2)

    for i in range(L):
        if _is_distil(config):
            p = "transformer.layer.%d." % i
            names = ("attention.q_lin", "attention.k_lin", "attention.v_lin",
                     "attention.out_lin", "sa_layer_norm", "ffn.lin1",
                     "ffn.lin2", "output_layer_norm")
        else:
            p = "encoder.layer.%d." % i
            names = ("attention.self.query", "attention.self.key",
                     "attention.self.value", "attention.output.dense",
                     "attention.output.LayerNorm", "intermediate.dense",
                     "output.dense", "output.LayerNorm")
        lin = lambda t, n: F.linear(t, G(p + n + ".weight"), G(p + n + ".bias"))
        q = heads_of(lin(x, names[0]))
        k = heads_of(lin(x, names[1]))
        v = heads_of(lin(x, names[2]))
        if _is_distil(config):
            q = q / math.sqrt(dh)
            scores = q @ k.transpose(-1, -2)
            scores = scores.masked_fill(mask[:, None, None, :] == 0, minv)
        else:
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh) + add_mask
        probs = torch.softmax(scores, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(B, T, H)
        a = F.layer_norm(lin(ctx, names[3]) + x, (H,),
                         G(p + names[4] + ".weight"), G(p + names[4] + ".bias"), eps)
        f = _act(lin(a, names[5]), act)
        x = F.layer_norm(lin(f, names[6]) + a, (H,),
                         G(p + names[7] + ".weight"), G(p + names[7] + ".bias"), eps)
    return x


def pooler(state, config, hidden):
    """BERT pooler: tanh(dense(hidden[:, 0])) -> [B][H]."""
    return torch.tanh(F.linear(hidden[:, 0], _get(state, config, "pooler.dense.weight"),
                               _get(state, config, "pooler.dense.bias")))


def mlm_logits(state, config, hidden):
    """MLM logits [..][V] for hidden states [..][H] (tied decoder)."""
    V, H, L, nh, I, P, TV, eps, act = _dims(config)
    word = _get(state, config, "embeddings.word_embeddings.weight")
    if _family(config) == "deberta-v2":
        return deberta_mlm_logits(state, config, hidden)
    if _family(config) in ("roberta", "mpnet"):   # RobertaLMHead, MPNetLMHead: exact GELU
        t = F.gelu(F.linear(hidden, state["lm_head.dense.weight"], state["lm_head.dense.bias"]))
        t = F.layer_norm(t, (H,), state["lm_head.layer_norm.weight"],
                         state["lm_head.layer_norm.bias"], eps)
        dec = state.get("lm_head.decoder.weight", word)
        return F.linear(t, dec, state["lm_head.bias"])
    if _family(config) == "electra":   # generator_predictions: exact GELU
        E = _emb_dim(config)
        t = F.gelu(F.linear(hidden, state["generator_predictions.dense.weight"],
                            state["generator_predictions.dense.bias"]))
        t = F.layer_norm(t, (E,), state["generator_predictions.LayerNorm.weight"],
                         state["generator_predictions.LayerNorm.bias"], eps)
        dec = state.get("generator_lm_head.weight", word)
        return F.linear(t, dec, state["generator_lm_head.bias"])
    if _is_distil(config):
        t = F.linear(hidden, state["vocab_transform.weight"], state["vocab_transform.bias"])
        t = _act(t, act)
        t = F.layer_norm(t, (H,), state["vocab_layer_norm.weight"],
                         state["vocab_layer_norm.bias"], 1e-12)
        dec = state.get("vocab_projector.weight", word)
        return F.linear(t, dec, state["vocab_projector.bias"])
    t = F.linear(hidden, state["cls.predictions.transform.dense.weight"],
                 state["cls.predictions.transform.dense.bias"])
    t = _act(t, act)
    t = F.layer_norm(t, (H,), state["cls.predictions.transform.LayerNorm.weight"],
                     state["cls.predictions.transform.LayerNorm.bias"], eps)
    dec = state.get("cls.predictions.decoder.weight", word)
    b = state.get("cls.predictions.bias", state.get("cls.predictions.decoder.bias"))
    return F.linear(t, dec, b)


def seq_cls_logits(state, config, hidden):
    """Sequence classification logits [B][num_labels]: BERT's classifier
    over the pooler output; DistilBERT's pre_classifier + ReLU +
    classifier over hidden[:, 0]; RoBERTa's classifier.dense + tanh +
    out_proj and ELECTRA's classifier.dense + GELU + out_proj over
    hidden[:, 0]; DeBERTa's ContextPooler + classifier."""
    if _family(config) == "deberta-v2":
        pooled = _act(F.linear(hidden[:, 0], state["pooler.dense.weight"],
                               state["pooler.dense.bias"]),
                      config.get("pooler_hidden_act", "gelu"))
        return F.linear(pooled, state["classifier.weight"], state["classifier.bias"])
    if _family(config) in ("roberta", "electra", "mpnet"):
        act = F.gelu if _family(config) == "electra" else torch.tanh
        h = act(F.linear(hidden[:, 0], state["classifier.dense.weight"],
                         state["classifier.dense.bias"]))
        return F.linear(h, state["classifier.out_proj.weight"], state["classifier.out_proj.bias"])
    if _is_distil(config):
        h = F.relu(F.linear(hidden[:, 0], state["pre_classifier.weight"],
                            state["pre_classifier.bias"]))
        return F.linear(h, state["classifier.weight"], state["classifier.bias"])
    return F.linear(pooler(state, config, hidden), state["classifier.weight"],
                    state["classifier.bias"])


def token_cls_logits(state, config, hidden):
    """Token classification logits [B][T][num_labels]."""
    return F.linear(hidden, state["classifier.weight"], state["classifier.bias"])


def qa_logits(state, config, hidden):
    """(start_logits [B][T], end_logits [B][T])."""
    out = F.linear(hidden, state["qa_outputs.weight"], state["qa_outputs.bias"])
    return out[..., 0].contiguous(), out[..., 1].contiguous()


# ---------------------------------------------------------------- files

# The safetensors dtype order (the library sorts tensors by dtype,
# largest alignment first, then by name).
_DT_RANK = {n: i for i, n in enumerate(
    ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
     "I32", "U32", "F32", "F64", "I64", "U64"])}
_TORCH_DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
             torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
             torch.bool: "BOOL"}


def _tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """Write tensors (name -> torch tensor) in the safetensors format: an
    8-byte little-endian header length, a compact JSON header
    ("__metadata__" first, then each tensor's dtype / shape / data_offsets
    in storage order), padded with spaces to a multiple of 8, then the raw
    little-endian data.  Tensors are stored sorted by dtype (descending)
    then name, as the reference library does."""
    if metadata is None:
        metadata = {"format": "pt"}
    items = sorted(tensors.items(),
                   key=lambda kv: (-_DT_RANK[_TORCH_DT[kv[1].dtype]], kv[0]))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    off = 0
    for name, t in items:
        b = _tensor_bytes(t)
        header[name] = {"dtype": _TORCH_DT[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hj = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """name -> float32 tensor for every F32 / F16 / BF16 tensor of a
    safetensors file, and every I8 tensor NAME that has a companion
    NAME_scale (F32, one scale per row, as `nlp quantize --dtype int8`
    writes them): NAME is dequantized to i8 * scale[row] computed in
    float32 (the C loader's --dtype fp32 view) and NAME_scale is not
    returned.  Any other dtype, or an I8 tensor without its scale, is an
    error."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    types = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
             "I8": torch.int8}
    raw = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in types:
            raise SystemExit(f"{path}: {name}: dtype {info['dtype']} is not a float or int8 type")
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + a:base + b]), dtype=types[info["dtype"]])
        raw[name] = t.reshape(info["shape"])
    out = {}
    scales = set()
    for name, t in raw.items():
        if t.dtype != torch.int8:
            continue
        sc = raw.get(name + "_scale")
        if sc is None or sc.dtype != torch.float32 or t.dim() != 2 or \
                list(sc.shape) != [t.shape[0]]:
            raise SystemExit(f"{path}: {name}: an I8 tensor needs {name}_scale as F32 [rows]")
        out[name] = t.float() * sc[:, None]
        scales.add(name + "_scale")
    for name, t in raw.items():
        if t.dtype != torch.int8 and name not in scales:
            out[name] = t.float()
    return {k: out[k] for k in raw if k in out}


def safetensors_dtypes(path):
    """name -> dtype string ("F32", "I8", ...) from a safetensors header."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}


def write_checkpoint(directory, config, state, vocab, dtype="F32",
                     tokenizer_config=None):
    """Write the files a user downloads from the Hub: config.json,
    vocab.txt, tokenizer_config.json, special_tokens_map.json and
    model.safetensors (tensors cast to dtype "F32" / "F16" / "BF16")."""
    os.makedirs(directory, exist_ok=True)
    td = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    cfg = dict(config)
    cfg["torch_dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(directory, "vocab.txt"), "w", encoding="utf-8") as f:
        for t in vocab:
            f.write(t + "\n")
    distil = _is_distil(config)
    tc = {
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "do_basic_tokenize": True,
        "do_lower_case": True,
        "mask_token": "[MASK]",
        "model_max_length": config["max_position_embeddings"],
        "never_split": None,
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "tokenizer_class": "DistilBertTokenizer" if distil else "BertTokenizer",
        "unk_token": "[UNK]",
    }
    if tokenizer_config:
        tc.update(tokenizer_config)
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2, sort_keys=True)
        f.write("\n")
    stm = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
           "sep_token": "[SEP]", "unk_token": "[UNK]"}
    with open(os.path.join(directory, "special_tokens_map.json"), "w") as f:
        json.dump(stm, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(directory, "model.safetensors"),
                      {k: v.to(td) for k, v in state.items()})


def write_f32(path, t):
    """Raw little-endian float32 values of t (any shape)."""
    with open(path, "wb") as f:
        f.write(_tensor_bytes(t.detach().float()))


def write_i32(path, t):
    """Raw little-endian int32 values of t (any shape)."""
    with open(path, "wb") as f:
        f.write(_tensor_bytes(_as_tensor(t).to(torch.int32)))


# ---------------------------------------------------------------- MPNet
#
# MPNetModel as the equations of its paper and Hugging Face's MPNetModel
# define it: embeddings = LayerNorm(word[id] + position[p]) with p counted
# as RoBERTa does around padding_idx 1 (no token types); every layer is
# BERT's post-LN block with the attention scores
#     Q K^T / sqrt(dh) + R_h[k - q] + padding mask,
# where R_h is one learned scalar per head and relative-position bucket,
# shared by all layers (mpnet.encoder.relative_attention_bias
# [buckets][heads]).  The bucket of a key that lies rel = k - q positions
# from its query follows T5's bidirectional scheme with 32 buckets and
# max distance 128: 16 buckets per side (rel > 0 on the upper side); in a
# side a distance d < 8 is bucket d, a larger one
# 8 + floor(ln(d / 8) / ln(128 / 8) * 8) in float32, at most 15.

MPNET_ARCHS = ("MPNetForMaskedLM", "MPNetForSequenceClassification",
               "MPNetForTokenClassification", "MPNetForQuestionAnswering")
ARCHS.update({
    "MPNetModel": ("mpnet", ("pooler",)),
    "MPNetForMaskedLM": ("mpnet", ("mlm",)),
    "MPNetForSequenceClassification": ("mpnet", ("seq_cls",)),
    "MPNetForTokenClassification": ("mpnet", ("token_cls",)),
    "MPNetForQuestionAnswering": ("mpnet", ("qa",)),
})
MPNET_PADDING_IDX = 1


def mpnet_config(base, vocab_size, hidden=32, layers=2, heads=4, intermediate=64,
                 architectures=None, labels=None):
    """An MPNet config.json dict: base (a real checkpoint's config.json
    dict) with the sizes shrunk; its other fields (layer_norm_eps,
    max_position_embeddings 514, relative_attention_num_buckets, ...)
    kept."""
    cfg = dict(base)
    cfg.pop("_name_or_path", None)
    cfg.update(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
               num_attention_heads=heads, intermediate_size=intermediate)
    if architectures:
        cfg["architectures"] = list(architectures)
    if labels:
        cfg.pop("id2label", None)
        cfg.pop("label2id", None)
        _labels(cfg, labels)
    return cfg


def mpnet_random_state(config, arch, seed, heads=None, prefixed=None):
    """random_state for MPNet: Hugging Face's MPNet tensor names (q / k /
    v / o under attention.attn, the shared relative_attention_bias, lm_head,
    classifier.dense / out_proj), same value scales as random_state."""
    heads = tuple(ARCHS[arch][1] if arch in ARCHS and heads is None else (heads or ()))
    V, H, L, nh, I, P, TV, eps, act = _dims(config)
    NB = config.get("relative_attention_num_buckets", 32)
    g = torch.Generator().manual_seed(seed)
    w = lambda *shape, std=0.05: torch.randn(*shape, generator=g) * std
    bias = lambda n: torch.randn(n, generator=g) * 0.02
    gain = lambda n: 1.0 + torch.randn(n, generator=g) * 0.1
    if prefixed is None:
        prefixed = bool(set(heads) - {"pooler"})
    pre = "mpnet." if prefixed else ""
    s = {}
    s[pre + "embeddings.word_embeddings.weight"] = w(V, H, std=0.5)
    s[pre + "embeddings.position_embeddings.weight"] = w(P, H, std=0.2)
    s[pre + "embeddings.LayerNorm.weight"] = gain(H)
    s[pre + "embeddings.LayerNorm.bias"] = bias(H)
    for i in range(L):
        p = pre + "encoder.layer.%d." % i
        for n in ("q", "k", "v", "o"):
            s[p + "attention.attn.%s.weight" % n] = w(H, H, std=0.15)
            s[p + "attention.attn.%s.bias" % n] = bias(H)
        s[p + "attention.LayerNorm.weight"] = gain(H)
        s[p + "attention.LayerNorm.bias"] = bias(H)
        s[p + "intermediate.dense.weight"] = w(I, H, std=0.15)
        s[p + "intermediate.dense.bias"] = bias(I)
        s[p + "output.dense.weight"] = w(H, I, std=0.1)
        s[p + "output.dense.bias"] = bias(H)
        s[p + "output.LayerNorm.weight"] = gain(H)
        s[p + "output.LayerNorm.bias"] = bias(H)
    # large enough that a wrong bucket moves the outputs well past 1e-4
    s[pre + "encoder.relative_attention_bias.weight"] = w(NB, nh, std=1.0)
    if "pooler" in heads:
        s[pre + "pooler.dense.weight"] = w(H, H, std=0.15)
        s[pre + "pooler.dense.bias"] = bias(H)
    if "mlm" in heads:
        s["lm_head.dense.weight"] = w(H, H, std=0.15)
        s["lm_head.dense.bias"] = bias(H)
        s["lm_head.layer_norm.weight"] = gain(H)
        s["lm_head.layer_norm.bias"] = bias(H)
        s["lm_head.bias"] = bias(V)
    if "seq_cls" in heads:
        s["classifier.dense.weight"] = w(H, H, std=0.15)
        s["classifier.dense.bias"] = bias(H)
        s["classifier.out_proj.weight"] = w(_num_labels(config), H, std=0.15)
        s["classifier.out_proj.bias"] = bias(_num_labels(config))
    if "token_cls" in heads:
        s["classifier.weight"] = w(_num_labels(config), H, std=0.15)
        s["classifier.bias"] = bias(_num_labels(config))
    if "qa" in heads:
        s["qa_outputs.weight"] = w(2, H, std=0.15)
        s["qa_outputs.bias"] = bias(2)
    return {k: v.float().contiguous() for k, v in s.items()}


def mpnet_bucket(rel):
    """Bucket of each relative position rel = key - query (long tensor)."""
    upper = (rel > 0).long() * 16
    d = rel.abs()
    logd = torch.log(d.clamp(min=1).float() / 8.0) / math.log(128.0 / 8.0) * 8.0
    far = torch.clamp(8 + logd.long(), max=15)
    return upper + torch.where(d < 8, d, far)


def mpnet_position_bias(state, config, T):
    """The additive scores [heads][T][T]: R_h[k - q] for query q, key k."""
    pos = torch.arange(T)
    rel = pos[None, :] - pos[:, None]                          # [q][k] = k - q
    table = _get(state, config, "encoder.relative_attention_bias.weight")
    return table[mpnet_bucket(rel)].permute(2, 0, 1)            # [nh][T][T]


def mpnet_encoder_forward(state, config, input_ids, attention_mask=None):
    """MPNet's last_hidden_state [B][T][H] for ids [B][T]."""
    ids = _as_tensor(input_ids)
    B, T = ids.shape
    V, H, L, nh, I, P, TV, eps, act = _dims(config)
    dh = H // nh
    mask = (torch.ones(B, T, dtype=torch.long) if attention_mask is None
            else _as_tensor(attention_mask))
    G = lambda n: _get(state, config, n)
    real = ids.ne(MPNET_PADDING_IDX).long()
    pos = torch.cumsum(real, dim=1) * real + MPNET_PADDING_IDX
    x = F.embedding(ids, G("embeddings.word_embeddings.weight")) + \
        F.embedding(pos, G("embeddings.position_embeddings.weight"))
    x = F.layer_norm(x, (H,), G("embeddings.LayerNorm.weight"),
                     G("embeddings.LayerNorm.bias"), eps)
    rel = mpnet_position_bias(state, config, T)[None]                        # [1][nh][T][T]
    pad = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    split = lambda t: t.view(B, T, nh, dh).transpose(1, 2)                   # [B][nh][T][dh]
    for i in range(L):
        p = "encoder.layer.%d." % i
        lin = lambda t, n: F.linear(t, G(p + n + ".weight"), G(p + n + ".bias"))
        q, k, v = (split(lin(x, "attention.attn." + n)) for n in ("q", "k", "v"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + rel + pad
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, H)
        a = F.layer_norm(lin(ctx, "attention.attn.o") + x, (H,),
                         G(p + "attention.LayerNorm.weight"), G(p + "attention.LayerNorm.bias"), eps)
        f = _act(lin(a, "intermediate.dense"), act)
        x = F.layer_norm(lin(f, "output.dense") + a, (H,),
                         G(p + "output.LayerNorm.weight"), G(p + "output.LayerNorm.bias"), eps)
    return x


# ---------------------------------------------------------------- DeBERTa-v2


def deberta_config(base, vocab_size, hidden=32, layers=2, heads=4, intermediate=64,
                   max_pos=64, architectures=None, labels=None, **fields):
    """A DeBERTa-v2 config.json dict: base (a real config.json dict, e.g.
    deberta-v3-large's) with the sizes shrunk and any other fields
    (position_buckets, share_att_key, ...) set from fields."""
    cfg = dict(base)
    cfg.update(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
               num_attention_heads=heads, intermediate_size=intermediate,
               max_position_embeddings=max_pos, pooler_hidden_size=hidden)
    cfg.update(fields)
    if architectures:
        cfg["architectures"] = list(architectures)
    _labels(cfg, labels)
    return cfg


def _deberta_rel(config):
    """(relative, c2p, p2c, scale_factor, buckets, max_relative, span,
    share_att_key, norm_rel_ebd) as DebertaV2Config's fields define them."""
    pat = config.get("pos_att_type") or []
    if isinstance(pat, str):
        pat = [x.strip() for x in pat.lower().split("|")]
    c2p, p2c = "c2p" in pat, "p2c" in pat
    rel = bool(config.get("relative_attention", False))
    max_rel = config.get("max_relative_positions", -1)
    if max_rel < 1:
        max_rel = config["max_position_embeddings"]
    buckets = config.get("position_buckets", -1)
    span = buckets if buckets > 0 else max_rel
    norm = "layer_norm" in [x.strip() for x in
                            str(config.get("norm_rel_ebd", "none")).lower().split("|")]
    return (rel, c2p and rel, p2c and rel, 1 + c2p + p2c, buckets, max_rel, span,
            bool(config.get("share_att_key", False)), norm and rel)


def deberta_state(config, seed, heads):
    """Random DeBERTa-v2 weights under Hugging Face's names (see
    random_state): deberta.embeddings (position embeddings only with
    position_biased_input, token types only with type_vocab_size > 0,
    embed_proj without bias when embedding_size != hidden_size),
    query_proj / key_proj / value_proj (pos_query_proj / pos_key_proj
    without share_att_key), encoder.rel_embeddings [2 span][H] and
    encoder.LayerNorm; heads: the masked-LM head in the layout "legacy"
    names (cls.predictions.* when true, lm_predictions.lm_head.* when
    false), pooler.dense + classifier, classifier, qa_outputs."""
    V, H, L, nh, I, P, TV, eps, act = _dims(config)
    E = config.get("embedding_size", H)
    rel, c2p, p2c, sf, buckets, max_rel, span, share, norm = _deberta_rel(config)
    g = torch.Generator().manual_seed(seed)

    def w(*shape, std=0.05):
        return torch.randn(*shape, generator=g) * std

    def bias(n):
        return torch.randn(n, generator=g) * 0.02

    def gain(n):
        return 1.0 + torch.randn(n, generator=g) * 0.1

    pre = "deberta."
    s = {pre + "embeddings.word_embeddings.weight": w(V, E, std=0.5)}
    if config.get("position_biased_input", True):
        s[pre + "embeddings.position_embeddings.weight"] = w(P, E, std=0.2)
    if TV > 0:
        s[pre + "embeddings.token_type_embeddings.weight"] = w(TV, E, std=0.2)
    if E != H:
        s[pre + "embeddings.embed_proj.weight"] = w(H, E, std=0.2)
    s[pre + "embeddings.LayerNorm.weight"] = gain(H)
    s[pre + "embeddings.LayerNorm.bias"] = bias(H)
    for i in range(L):
        p = pre + "encoder.layer.%d." % i
        names = ["query_proj", "key_proj", "value_proj"]
        if rel and not share:
            names += (["pos_key_proj"] if c2p else []) + (["pos_query_proj"] if p2c else [])
        for n in names:
            s[p + "attention.self.%s.weight" % n] = w(H, H, std=0.15)
            s[p + "attention.self.%s.bias" % n] = bias(H)
        s[p + "attention.output.dense.weight"] = w(H, H, std=0.15)
        s[p + "attention.output.dense.bias"] = bias(H)
        s[p + "attention.output.LayerNorm.weight"] = gain(H)
        s[p + "attention.output.LayerNorm.bias"] = bias(H)
        s[p + "intermediate.dense.weight"] = w(I, H, std=0.15)
        s[p + "intermediate.dense.bias"] = bias(I)
        s[p + "output.dense.weight"] = w(H, I, std=0.1)
        s[p + "output.dense.bias"] = bias(H)
        s[p + "output.LayerNorm.weight"] = gain(H)
        s[p + "output.LayerNorm.bias"] = bias(H)
    if rel:
        s[pre + "encoder.rel_embeddings.weight"] = w(2 * span, H, std=0.5)
    if norm:
        s[pre + "encoder.LayerNorm.weight"] = gain(H)
        s[pre + "encoder.LayerNorm.bias"] = bias(H)
    C = _num_labels(config)
    if "mlm" in heads and config.get("legacy", True):
        s["cls.predictions.transform.dense.weight"] = w(E, H, std=0.15)
        s["cls.predictions.transform.dense.bias"] = bias(E)
        s["cls.predictions.transform.LayerNorm.weight"] = gain(E)
        s["cls.predictions.transform.LayerNorm.bias"] = bias(E)
        s["cls.predictions.bias"] = bias(V)
    elif "mlm" in heads:
        s["lm_predictions.lm_head.dense.weight"] = w(H, H, std=0.15)
        s["lm_predictions.lm_head.dense.bias"] = bias(H)
        s["lm_predictions.lm_head.LayerNorm.weight"] = gain(H)
        s["lm_predictions.lm_head.LayerNorm.bias"] = bias(H)
        s["lm_predictions.lm_head.bias"] = bias(V)
    if "seq_cls" in heads:
        s["pooler.dense.weight"] = w(H, H, std=0.15)
        s["pooler.dense.bias"] = bias(H)
    if "seq_cls" in heads or "token_cls" in heads:
        s["classifier.weight"] = w(C, H, std=0.15)
        s["classifier.bias"] = bias(C)
    if "qa" in heads:
        s["qa_outputs.weight"] = w(2, H, std=0.15)
        s["qa_outputs.bias"] = bias(2)
    return {k: v.float().contiguous() for k, v in s.items()}


def _log_bucket(d, buckets, max_pos):
    """DeBERTa's log-bucketed relative positions for integer tensor d:
    |d| <= buckets // 2 stays d; beyond, sign(d) * (mid + ceil((mid - 1) *
    log(|d| / mid) / log((max_pos - 1) / mid))), in float32."""
    mid = buckets // 2
    a = d.abs()
    near = a <= mid
    af = torch.where(near, torch.full_like(a, mid), a).to(torch.float32)
    base = torch.log(torch.tensor((max_pos - 1) / mid, dtype=torch.float32))
    far = torch.ceil(torch.log(af / mid) / base * (mid - 1)) + mid
    return torch.where(near, d, (far * torch.sign(d).to(torch.float32)).to(torch.long))


def deberta_rel_index(config, T):
    """[T][T] long: the rel_embeddings row of query i and key j,
    clamp(bucket(i - j) + span, 0, 2 span - 1)."""
    rel, c2p, p2c, sf, buckets, max_rel, span, share, norm = _deberta_rel(config)
    d = torch.arange(T)[:, None] - torch.arange(T)[None, :]
    if buckets > 0:
        d = _log_bucket(d, buckets, max_rel)
    return torch.clamp(d + span, 0, 2 * span - 1)


def deberta_forward(state, config, input_ids, token_type_ids=None, attention_mask=None):
    """DebertaV2Model's last_hidden_state [B][T][H]:
      x = LayerNorm(embed_proj(word + pos + type)) * mask
      per layer, head h, query i, key j, r = the rel row of i - j:
        score = (q_i.k_j + q_i.pk_r + k_j.pq_{r'}) / sqrt(dh * scale_factor),
        pk / pq = key / query projections of LayerNorm(rel_embeddings),
        r' the rel row of -(j - i) (p2c is indexed from the key's side)
      masked softmax, context, then BERT's post-LayerNorm output blocks."""
    ids = _as_tensor(input_ids)
    B, T = ids.shape
    V, H, L, nh, I, P, TV, eps, act = _dims(config)
    E = config.get("embedding_size", H)
    dh = H // nh
    rel, c2p, p2c, sf, buckets, max_rel, span, share, norm = _deberta_rel(config)
    mask = (torch.ones(B, T, dtype=torch.long) if attention_mask is None
            else _as_tensor(attention_mask))
    S = lambda n: state["deberta." + n]
    x = F.embedding(ids, S("embeddings.word_embeddings.weight"))
    if config.get("position_biased_input", True):
        x = x + F.embedding(torch.arange(T)[None].expand(B, T),
                            S("embeddings.position_embeddings.weight"))
    if TV > 0:
        tt = (torch.zeros(B, T, dtype=torch.long) if token_type_ids is None
              else _as_tensor(token_type_ids))
        x = x + F.embedding(tt, S("embeddings.token_type_embeddings.weight"))
    if E != H:
        x = F.linear(x, S("embeddings.embed_proj.weight"))
    x = F.layer_norm(x, (H,), S("embeddings.LayerNorm.weight"),
                     S("embeddings.LayerNorm.bias"), eps)
    x = x * mask[:, :, None].float()
    if rel:
        remb = S("encoder.rel_embeddings.weight")
        if norm:
            remb = F.layer_norm(remb, (H,), S("encoder.LayerNorm.weight"),
                                S("encoder.LayerNorm.bias"), eps)
        idx = deberta_rel_index(config, T)                     # [T(i)][T(j)]
        # p2c reads row clamp(-bucket(j - i) + span) from key j's side
        d = torch.arange(T)[:, None] - torch.arange(T)[None, :]
        if buckets > 0:
            d = _log_bucket(d, buckets, max_rel)
        pidx = torch.clamp(-d + span, 0, 2 * span - 1)         # [T(j)][T(i)]
    scale = torch.sqrt(torch.tensor(dh, dtype=torch.float32) * sf)
    minv = torch.finfo(torch.float32).min
    pair = (mask[:, None, :, None] * mask[:, None, None, :]).bool()   # [B][1][T][T]

    def heads_of(t):   # [.., n, H] -> [.., nh, n, dh]
        return t.view(*t.shape[:-1], nh, dh).transpose(-3, -2)

    for i in range(L):
        p = "encoder.layer.%d.attention." % i
        lin = lambda t, n: F.linear(t, S(n + ".weight"), S(n + ".bias"))
        q = heads_of(lin(x, p + "self.query_proj"))            # [B][nh][T][dh]
        k = heads_of(lin(x, p + "self.key_proj"))
        v = heads_of(lin(x, p + "self.value_proj"))
        scores = q @ k.transpose(-1, -2) / scale
        if rel:
            pq_name = p + ("self.query_proj" if share else "self.pos_query_proj")
            pk_name = p + ("self.key_proj" if share else "self.pos_key_proj")
            if c2p:
                pk = heads_of(lin(remb, pk_name))              # [nh][2S][dh]
                full = q @ pk.transpose(-1, -2)                # [B][nh][T][2S]
                scores = scores + torch.gather(full, -1, idx.expand(B, nh, T, T)) / scale
            if p2c:
                pq = heads_of(lin(remb, pq_name))
                full = k @ pq.transpose(-1, -2)                # [B][nh][T(j)][2S]
                by_key = torch.gather(full, -1, pidx.expand(B, nh, T, T))   # [j][i]
                scores = scores + by_key.transpose(-1, -2) / scale
        scores = scores.masked_fill(~pair, minv)
        probs = torch.softmax(scores, dim=-1).masked_fill(~pair, 0.0)
        ctx = (probs @ v).transpose(1, 2).reshape(B, T, H)
        a = F.layer_norm(lin(ctx, p + "output.dense") + x, (H,),
                         S(p + "output.LayerNorm.weight"), S(p + "output.LayerNorm.bias"), eps)
        o = "encoder.layer.%d." % i
        f = _act(lin(a, o + "intermediate.dense"), act)
        x = F.layer_norm(lin(f, o + "output.dense") + a, (H,),
                         S(o + "output.LayerNorm.weight"), S(o + "output.LayerNorm.bias"), eps)
    return x


def deberta_mlm_logits(state, config, hidden):
    """DebertaV2ForMaskedLM's logits: dense, the hidden activation,
    LayerNorm, then the word embeddings (tied) + bias, from whichever
    layout the state holds."""
    V, H, L, nh, I, P, TV, eps, act = _dims(config)
    word = state["deberta.embeddings.word_embeddings.weight"]
    pre = ("cls.predictions.transform." if "cls.predictions.bias" in state
           else "lm_predictions.lm_head.")
    t = _act(F.linear(hidden, state[pre + "dense.weight"], state[pre + "dense.bias"]), act)
    t = F.layer_norm(t, (t.shape[-1],), state[pre + "LayerNorm.weight"],
                     state[pre + "LayerNorm.bias"], eps)
    b = state.get("cls.predictions.bias", state.get("lm_predictions.lm_head.bias"))
    return F.linear(t, word, b)


# ---------------------------------------------------------------- ModernBERT
#
# Written from the equations of ModernBERT (pre-LayerNorm encoder, rotary
# positions, GeGLU, alternating global / sliding-window attention) as
# Hugging Face's ModernBertModel computes them over a padded batch in
# float32: additive finfo.min masks for padding and for keys outside the
# window, softmax, then the heads.  Names as ModernBertFor* save them
# ("model." prefix, head.*, decoder tied to the token embeddings).

MODERNBERT_HEADS = ("mlm", "seq_cls", "token_cls", "qa")


def modernbert_config(base, vocab_size, hidden=32, layers=4, heads=4, intermediate=48,
                      local_attention=8, global_every=None, architectures=None, labels=None,
                      **fields):
    """A ModernBERT config.json dict: base (the real ModernBERT-large
    config.json) with the sizes shrunk and fields (e.g. norm_bias=True)
    overridden; special token ids are left for the caller to renumber."""
    cfg = dict(base)
    cfg.pop("_name_or_path", None)
    cfg.update(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
               num_attention_heads=heads, intermediate_size=intermediate,
               local_attention=local_attention)
    if global_every:
        cfg["global_attn_every_n_layers"] = global_every
    if architectures:
        cfg["architectures"] = list(architectures)
    cfg.update(fields)
    _labels(cfg, labels)
    return cfg


def _mb_flag(config, key, default):
    return bool(config.get(key, default))


def modernbert_random_state(config, seed, heads=MODERNBERT_HEADS):
    """Random ModernBERT weights under Hugging Face's names; biases only
    where the config's *_bias switches ask for them."""
    V, H, L = config["vocab_size"], config["hidden_size"], config["num_hidden_layers"]
    I = config["intermediate_size"]
    g = torch.Generator().manual_seed(seed)

    def w(*shape, std=0.05):
        return torch.randn(*shape, generator=g) * std

    def bias(n):
        return torch.randn(n, generator=g) * 0.02

    def gain(n):
        return 1.0 + torch.randn(n, generator=g) * 0.1

    s = {}

    def linear(name, n_out, n_in, has_bias, std):
        s[name + ".weight"] = w(n_out, n_in, std=std)
        if has_bias:
            s[name + ".bias"] = bias(n_out)

    def norm(name, n):
        s[name + ".weight"] = gain(n)
        if _mb_flag(config, "norm_bias", False):
            s[name + ".bias"] = bias(n)

    attn_b = _mb_flag(config, "attention_bias", False)
    mlp_b = _mb_flag(config, "mlp_bias", False)
    s["model.embeddings.tok_embeddings.weight"] = w(V, H, std=0.5)
    norm("model.embeddings.norm", H)
    for i in range(L):
        p = "model.layers.%d." % i
        if i > 0:
            norm(p + "attn_norm", H)
        linear(p + "attn.Wqkv", 3 * H, H, attn_b, 0.15)
        linear(p + "attn.Wo", H, H, attn_b, 0.15)
        norm(p + "mlp_norm", H)
        linear(p + "mlp.Wi", 2 * I, H, mlp_b, 0.15)
        linear(p + "mlp.Wo", H, I, mlp_b, 0.1)
    norm("model.final_norm", H)
    if heads:
        linear("head.dense", H, H, _mb_flag(config, "classifier_bias", False), 0.15)
        norm("head.norm", H)
    if "mlm" in heads and _mb_flag(config, "decoder_bias", True):
        s["decoder.bias"] = bias(V)
    if set(heads) & {"seq_cls", "token_cls", "qa"}:
        linear("classifier", _num_labels(config), H, True, 0.15)
    return {k: v.float().contiguous() for k, v in s.items()}


def _mb_norm(state, name, x, config):
    w = state[name + ".weight"]   # its width, a constant when traced for ONNX export
    return F.layer_norm(x, (w.shape[0],), w, state.get(name + ".bias"),
                        config.get("norm_eps", 1e-5))


def _mb_linear(state, name, x):
    return F.linear(x, state[name + ".weight"], state.get(name + ".bias"))


def _rope(x, theta):
    """x [B][nh][T][dh] rotated by position t: x cos + rotate_half(x) sin,
    angles t / theta^(2i/dh) computed in float32."""
    dh, T = x.shape[-1], x.shape[-2]
    inv = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.int64).float() / dh))
    ang = torch.arange(T).float()[:, None] * inv[None, :]            # [T][dh/2]
    cos = torch.cat([ang.cos(), ang.cos()], -1)
    sin = torch.cat([ang.sin(), ang.sin()], -1)
    half = torch.cat([-x[..., dh // 2:], x[..., :dh // 2]], -1)
    return x * cos + half * sin


def modernbert_forward(state, config, input_ids, attention_mask=None):
    """last_hidden_state [B][T][H] (float32, after final_norm) for ids
    [B][T] with attention_mask (default all ones)."""
    ids = _as_tensor(input_ids)
    B, T = ids.shape
    H, nh = config["hidden_size"], config["num_attention_heads"]
    dh = H // nh
    mask = (torch.ones(B, T, dtype=torch.long) if attention_mask is None
            else _as_tensor(attention_mask))
    minv = torch.finfo(torch.float32).min
    pad = (1.0 - mask[:, None, None, :].float()) * minv                # [B][1][1][T]
    pos = torch.arange(T)
    far = (pos[:, None] - pos[None, :]).abs() > config["local_attention"] // 2
    local = pad.masked_fill(far[None, None], minv)                      # [B][1][T][T]
    every = config.get("global_attn_every_n_layers", 3)
    x = _mb_norm(state, "model.embeddings.norm",
                 F.embedding(ids, state["model.embeddings.tok_embeddings.weight"]), config)
    act = config.get("hidden_activation", "gelu")
    for i in range(config["num_hidden_layers"]):
        p = "model.layers.%d." % i
        glob = i % every == 0
        h = x if i == 0 else _mb_norm(state, p + "attn_norm", x, config)
        qkv = _mb_linear(state, p + "attn.Wqkv", h).view(B, T, 3, nh, dh)
        q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))      # [B][nh][T][dh]
        theta = config["global_rope_theta"] if glob else config["local_rope_theta"]
        q, k = _rope(q, theta), _rope(k, theta)
        scores = (q @ k.transpose(-1, -2)) * dh ** -0.5 + (pad if glob else local)
        ctx = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(B, T, H)
        x = x + _mb_linear(state, p + "attn.Wo", ctx)
        a, gate = _mb_linear(state, p + "mlp.Wi", _mb_norm(state, p + "mlp_norm", x, config)) \
            .chunk(2, dim=-1)
        x = x + _mb_linear(state, p + "mlp.Wo", _act(a, act) * gate)
    return _mb_norm(state, "model.final_norm", x, config)


def modernbert_head(state, config, hidden):
    """ModernBertPredictionHead: norm(act(dense(hidden)))."""
    t = _mb_linear(state, "head.dense", hidden)
    return _mb_norm(state, "head.norm", _act(t, config.get("classifier_activation", "gelu")), config)


def modernbert_mlm_logits(state, config, hidden):
    """[..][V]: the head, then the decoder tied to the token embeddings."""
    return F.linear(modernbert_head(state, config, hidden),
                    state.get("decoder.weight", state["model.embeddings.tok_embeddings.weight"]),
                    state.get("decoder.bias"))


def modernbert_seq_cls_logits(state, config, hidden, attention_mask=None):
    """[B][labels]: the first token or the mean over the real tokens
    (classifier_pooling), the head, the classifier."""
    if config.get("classifier_pooling", "cls") == "mean":
        m = (torch.ones(hidden.shape[:2]) if attention_mask is None
             else _as_tensor(attention_mask).float())
        pooled = (hidden * m[..., None]).sum(dim=1) / m.sum(dim=1, keepdim=True)
    else:
        pooled = hidden[:, 0]
    return _mb_linear(state, "classifier", modernbert_head(state, config, pooled))


def modernbert_token_logits(state, config, hidden):
    """[B][T][labels] (token classification; question answering's two
    labels are start and end)."""
    return _mb_linear(state, "classifier", modernbert_head(state, config, hidden))
