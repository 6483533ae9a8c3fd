#!/usr/bin/env python3
"""gen_seeds.py - write the seed corpora of tests/fuzz/corpus/<harness>/.

Seeds are small real files from data/ and made-up edge cases, in the input
layout each harness documents (a selector byte, parts split by the line
"=====").  Inputs that once crashed or misbehaved are named regress-*;
they are written here too, so the corpus can be rebuilt from this script.
Run from the source tree's top: python3 tests/fuzz/gen_seeds.py
"""
import json
import os
import struct

SEP = b"\n=====\n"
OUT = "tests/fuzz/corpus"


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def small_tokenizer_json(extra_added=0, **model_over):
    """The mini tokenizer.json with its vocabulary cut to 300 entries."""
    d = json.load(open("data/expected/tokenizer/mini-json/tokenizer.json"))
    vocab = d["model"]["vocab"]
    keep = {k: v for k, v in vocab.items() if v < 300 or k.startswith("[")}
    d["model"]["vocab"] = keep
    d["model"].update(model_over)
    for i in range(extra_added):
        d["added_tokens"].append({"id": 5000 + i, "content": "<t%d>" % i, "single_word": False,
                                  "lstrip": False, "rstrip": False, "normalized": i % 2 == 0,
                                  "special": False})
    return json.dumps(d, ensure_ascii=False).encode()


def seeds_tok_encode():
    texts = [
        (1, 0, b"Hello, world!"),
        (3, 0, b"The quick brown fox" + SEP + b"jumps over the lazy dog."),
        (3, 8, b"a b c d e f g h i j" + SEP + b"k l m n"),
        (7, 6, b"first text here" + SEP + b"second"),
        (11, 6, b"one two three" + SEP + b"four five six seven"),
        (0, 0, "naïve café Ünïcödé ﬁ İstanbul".encode()),
        (1, 0, "中文字符 and 日本語のテキスト".encode()),
        (1, 0, b"[CLS] [MASK] [SEP] [UNK] [PAD]"),
        (17, 4, b"supercalifragilisticexpialidocious " * 3),
        (1, 0, b"\x00\x01\x7f\t\r\n \xc2\xa0\xe2\x80\x8b"),
        (1, 0, b"\xff\xfe invalid"),
        (1, 0, "x" * 300 .__str__().encode() if False else b"y" * 300),
    ]
    for i, (flags, maxlen, t) in enumerate(texts):
        put("tok_encode", "seed-%02d" % i, bytes([flags, maxlen]) + t)


def seeds_tok_load():
    tj = small_tokenizer_json()
    cfg = read("data/expected/tokenizer/mini-json/tokenizer_config.json")
    put("tok_load", "json-mini", b"j" + tj + SEP + cfg + SEP + b"Hello [MASK] world")
    put("tok_load", "json-added", b"j" + small_tokenizer_json(40) + SEP + b"{}" + SEP +
        b"a<t1>b <t2> <t10><t11> c")
    vocab = read("data/models/tiny-bert/vocab.txt")[:3000]
    tcfg = read("data/models/tiny-bert/tokenizer_config.json")
    stm = read("data/models/tiny-bert/special_tokens_map.json")
    put("tok_load", "vocab-tiny", b"v" + vocab + SEP + tcfg + SEP + stm + SEP + b"the [MASK] is")
    put("tok_load", "vocab-only", b"v[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##lo\n")
    put("tok_load", "vocab-crlf", b"v[UNK]\r\n[CLS]\r[SEP]\n\nab\r\n##c")
    dec = {"added_tokens_decoder": {"5": {"content": "<new>", "special": True},
                                    "9": {"content": "Hi There", "normalized": True}},
           "additional_special_tokens": ["<x>", {"content": "<y>"}],
           "do_lower_case": False, "model_max_length": 1e30}
    put("tok_load", "vocab-added-decoder", b"v[UNK]\n[CLS]\n[SEP]\nhi\nthere\n" + SEP +
        json.dumps(dec).encode() + SEP + b"{}" + SEP + b"<new> hi there<x><y>")
    # an added token whose content is invalid UTF-8 (read past the end)
    put("tok_load", "regress-added-invalid-utf8", b"v[UNK]\n[CLS]\n[SEP]\n" + SEP +
        b'{"added_tokens_decoder":{"":{"content":"\xff"}},"unk_token":""}')
    put("tok_load", "regress-added-truncated-utf8", b"j" +
        small_tokenizer_json().replace(b'"content": "[MASK]"', b'"content": "\xe4\xb8"'))
    # numbers far outside int range
    put("tok_load", "regress-max-chars-huge-negative", b"j" +
        small_tokenizer_json(max_input_chars_per_word=-1e300))
    put("tok_load", "regress-max-chars-nan-like", b"j" +
        small_tokenizer_json().replace(b'"max_input_chars_per_word": 100',
                                       b'"max_input_chars_per_word": 1e400'))
    put("tok_load", "regress-added-id-fraction", b"j" +
        small_tokenizer_json().replace(b'"id": 103', b'"id": 103.5'))
    put("tok_load", "regress-config-max-length", b"v[UNK]\n[CLS]\n[SEP]\n" + SEP +
        b'{"model_max_length": -1e300, "added_tokens_decoder": {"99999999999999999999": {"content": "z"}}}')


def unigram_json(variant):
    """A small Unigram tokenizer.json cut from the SentencePiece fixture
    (its charsmap, byte pieces and first pieces); variant 1 swaps in the
    other normalisers and pre-tokenisers and a normalised added token."""
    j = json.loads(read("data/expected/tokenizer/spm-unigram/tokenizer.json"))
    j["model"]["vocab"] = j["model"]["vocab"][:320]
    if variant == 1:
        j["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"String": "''"}, "content": "\""}, {"type": "NFD"},
            {"type": "Prepend", "prepend": "\u2581"}]}
        j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "WhitespaceSplit"},
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}]}
        j["added_tokens"].append({"id": 319, "content": "<Mask>", "normalized": True, "special": False})
    return json.dumps(j, ensure_ascii=False).encode()


def seeds_tok_load_unigram():
    put("tok_load", "json-unigram", b"j" + unigram_json(0) + SEP + b"{}" + SEP +
        "Ｆｕｌｌ  ﬁne cafe\u0301 😀 <s>x</s> \t end ".encode())
    put("tok_load", "json-unigram-normalizers", b"j" + unigram_json(1) + SEP + b"{}" + SEP +
        "  İstanbul ''quoted'' <mask> e\u0301 ½ ".encode())


def seeds_tok_load_spm():
    """sentencepiece .model files (mode 's') from the spm-model fixtures."""
    ident = read("data/expected/tokenizer/spm-model/identity-digits/spm.model")
    user = read("data/expected/tokenizer/spm-model/user-symbols/spm.model")
    deb = json.dumps({"tokenizer_class": "DebertaV2Tokenizer", "mask_token": "[MASK]",
                      "cls_token": "[CLS]", "sep_token": "[SEP]"}).encode()
    xlmr = json.dumps({"tokenizer_class": "XLMRobertaTokenizer",
                       "mask_token": {"content": "<mask>", "lstrip": True}}).encode()
    text = "Hello 2024 <sep> @@ New York ™ 日本 😀  x".encode()
    put("tok_load", "spm-identity", b"s" + ident + SEP + b"{}" + SEP + text)
    put("tok_load", "spm-user-deberta", b"s" + user + SEP + deb + SEP + b"a [MASK] " + text)
    put("tok_load", "spm-xlmr", b"s" + ident + SEP + xlmr + SEP + b"a <mask> " + text)
    put("tok_load", "spm-truncated", b"s" + ident[:3000])
    put("tok_load", "spm-bpe-type", b"s\x0a\x03\x0a\x01a\x12\x02\x18\x02")


def seeds_config():
    seen = set()
    for root, _, files in sorted(os.walk("data")):
        if "config.json" in files:
            b = read(os.path.join(root, "config.json"))
            if b not in seen and len(b) < 4000:
                seen.add(b)
                put("config", "data-" + root.replace("/", "-").replace("data-", ""), b)
    put("config", "regress-eps-overflow", b'{"model_type": "bert", "layer_norm_eps": 1e39}')
    put("config", "regress-eps-denormal", b'{"model_type": "bert", "layer_norm_eps": 1e-50}')
    put("config", "regress-int-huge", b'{"model_type": "bert", "hidden_size": 1e300}')
    put("config", "regress-int-neg-huge", b'{"model_type": "distilbert", "dim": -1e300}')
    put("config", "regress-label-id-fraction",
        b'{"model_type": "bert", "label2id": {"a": 1e300, "b": 0.5}}')
    put("config", "regress-num-labels-huge", b'{"model_type": "bert", "num_labels": 1e20}')
    put("config", "edge-labels", b'{"architectures": ["DistilBertForX"], "id2label": {"1": "b", "0": "a"},'
        b' "label2id": {"A": 0, "b": 1}, "activation": "gelu_new", "pad_token_id": null}')


def st_file(tensors, meta=None, pad=0):
    """tensors: list of (name, dtype, shape, begin, end); data = zero bytes."""
    h = {}
    if meta is not None:
        h["__metadata__"] = meta
    end = 0
    for name, dt, shape, b, e in tensors:
        h[name] = {"dtype": dt, "shape": shape, "data_offsets": [b, e]}
        end = max(end, e)
    hb = json.dumps(h).encode() + b" " * pad
    return struct.pack("<Q", len(hb)) + hb + bytes(range(256)) * (end // 256) + bytes(end % 256)


def seeds_safetensors():
    put("safetensors", "data-bert-f16", b"s" + read("data/model-load/bert-base-f16/model.safetensors"))
    put("safetensors", "data-bert-bf16", b"s" + read("data/model-load/bert-cls-bf16/model.safetensors"))
    d = "data/model-load/bert-sharded/"
    idx = json.loads(read(d + "model.safetensors.index.json"))
    names = sorted(set(idx["weight_map"].values()))
    ren = {names[0]: "a.safetensors", names[1]: "b.safetensors"}
    idx["weight_map"] = {k: ren[v] for k, v in idx["weight_map"].items()}
    put("safetensors", "data-sharded", b"i" + json.dumps(idx).encode() + SEP +
        read(d + names[0]) + SEP + read(d + names[1]))
    put("safetensors", "dtypes", b"s" + st_file([
        ("f64", "F64", [2], 0, 16), ("f32", "F32", [2, 2], 16, 32), ("f16", "F16", [3], 32, 38),
        ("bf16", "BF16", [1], 38, 40), ("i8", "I8", [0], 40, 40), ("u64", "U64", [], 40, 48)],
        meta={"format": "pt"}, pad=5))
    put("safetensors", "regress-overlap", b"s" + st_file([
        ("a", "F32", [4], 0, 16), ("b", "F32", [4], 8, 24)]))
    put("safetensors", "regress-same-range", b"s" + st_file([
        ("a", "F32", [2], 0, 8), ("b", "F32", [2], 0, 8)]))
    put("safetensors", "regress-gap", b"s" + st_file([
        ("a", "F32", [1], 0, 4), ("b", "F32", [1], 8, 12)]))
    hb = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    put("safetensors", "edge-header-too-long", b"s" + struct.pack("<Q", 1 << 40) + hb)
    put("safetensors", "edge-index-escape", b'i{"weight_map": {"a": "../a.safetensors"}}')


def tiny_checkpoint(kind):
    """A complete tiny BERT (hidden 4, 1 layer, vocab 8, 8 positions) with
    its layer weights as int8 + scales, bf16 or f32."""
    H, I, V, P = 4, 4, 8, 8
    t = []
    def f32(name, shape):
        t.append((name, "F32", shape))
    f32("embeddings.word_embeddings.weight", [V, H])
    f32("embeddings.position_embeddings.weight", [P, H])
    f32("embeddings.token_type_embeddings.weight", [2, H])
    f32("embeddings.LayerNorm.weight", [H])
    f32("embeddings.LayerNorm.bias", [H])
    pre = "encoder.layer.0."
    lin = [("attention.self.query", H, H), ("attention.self.key", H, H),
           ("attention.self.value", H, H), ("attention.output.dense", H, H),
           ("intermediate.dense", I, H), ("output.dense", H, I)]
    for n, o, i in lin:
        w = pre + n + ".weight"
        if kind == "int8":
            t.append((w, "I8", [o, i]))
            t.append((w + "_scale", "F32", [o]))
        elif kind == "bf16":
            t.append((w, "BF16", [o, i]))
        else:
            f32(w, [o, i])
        f32(pre + n + ".bias", [o])
    for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
        f32(pre + ln + ".weight", [H])
        f32(pre + ln + ".bias", [H])
    size = {"F32": 4, "BF16": 2, "I8": 1}
    h = {"__metadata__": {"format": "pt", "nlp_quantize": kind}}
    data = b""
    for name, dt, shape in t:
        n = 1
        for s in shape:
            n *= s
        if dt == "F32":
            blob = struct.pack("<%df" % n, *[0.25 * ((k % 7) - 3) for k in range(n)])
        elif dt == "BF16":
            blob = b"".join(struct.pack("<f", 0.5 - 0.125 * (k % 9))[2:] for k in range(n))
        else:
            blob = bytes((k * 37) & 0xFF for k in range(n))
        h[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    hb = json.dumps(h).encode()
    hb += b" " * (-len(hb) % 8)
    return struct.pack("<Q", len(hb)) + hb + data


def seeds_checkpoint():
    for k in ("int8", "bf16", "f32"):
        put("checkpoint", "tiny-" + k, tiny_checkpoint(k))
    bad = tiny_checkpoint("int8").replace(b'"F32", "shape": [4], "data_offsets"', b'"F32", "shape": [3], "data_offsets"', 1)
    put("checkpoint", "edge-scale-shape", bad)


def seeds_corpus():
    cases = json.load(open("data/expected/corpus/cases.json"))
    for c in cases["read"]:
        d = c["delimiter"].encode()
        put("corpus_read", "case-" + c["name"], bytes([0]) + d + c["input"].encode())
    for i, c in enumerate(cases["jsonl"]):
        inp = c.get("input") if isinstance(c, dict) else None
        if isinstance(inp, str):
            put("corpus_read", "jsonl-%d" % i, bytes([1, 0]) + inp.encode())
    put("corpus_read", "jsonl-mixed", b"\x01\x00" + b'{"text": "a", "n": 1}\n  \n{"n": [1,2], "text": null}\n'
        b'{"other": 1}\nnot json\n{"text": "\\u00e9"}\r\n')
    put("corpus_read", "capped", b"\x04\x00" + b"a,b\n" + b"x" * 100 + b",y\n\"open," + b"z" * 80 + b"\n1,2\n")
    put("corpus_read", "no-header", b"\x02\x00" + b"1,2\n3,4\n5\n")
    put("corpus_read", "regress-delim-ff", b"\x00\xff" + b"a\n1")
    put("corpus_read", "regress-delim-80", b"\x00\x80" + b"a,b\n1,2")
    put("corpus_read", "regress-delim-a9", b"\x00\xa9" + "café\nx".encode())
    put("corpus_read", "regress-delim-ff-empty", b"\x00\xff")
    put("corpus_read", "bad-utf8", b"\x00," + b"a,b\n\xc3(,1\n3,4\n")
    put("corpus_read", "bom", b"\x00," + b"\xef\xbb\xbfa,b\n1,2\n")
    rt = [
        b"a,b\n1,2\n\"x,y\",\"q\"\"uote\"\n",
        b",text\n0,hello\n1,\"multi\nline\"\n",
        b"\xef\xbb\xbf\"\xef\xbb\xbfname\",b\n\xef\xbb\xbfv,2\n",
        b"only\n\"\"\nx\n",
        b"a\tb,c\n\"tab\tin\",\"cr\rin\"\n",
        b"k,k\n1,2\n",
    ]
    for i, t in enumerate(rt):
        for fmt in range(3):
            put("corpus_roundtrip", "seed-%d-%d" % (i, fmt), bytes([fmt]) + t)
    put("corpus_roundtrip", "regress-empty-first-name", b"\x00,text\n0,a\n")
    put("corpus_roundtrip", "edge-nul-in-name-no-rows", b'\x02a,y","q""u\x00\x00\x00\x00ote"\n')
    put("corpus_roundtrip", "regress-bom-in-name", b"\x00\"\xef\xbb\xbfid\",text\n1,a\n")


def seeds_hub():
    put("hub", "headers", b"hHTTP/1.1 302 Found\r\nLocation: https://cdn/x\r\nX-Linked-Size: 1234\r\n"
        b"X-Linked-Etag: \"abc123\"\r\nETag: W/\"def\"\r\nContent-Length: 99\r\n"
        b"Content-Range: bytes 10-20/30\r\nX-Repo-Commit: " + b"a" * 40 + b"\r\n")
    put("hub", "regress-size-no-nul", b"hX-Linked-Size: 123")
    put("hub", "regress-length-no-nul", b"hcontent-length:  4")
    put("hub", "regress-range-no-nul", b"hContent-Range: bytes 7")
    put("hub", "headers-junk", b"hContent-Length: -5\r\nX-Linked-Size: 99999999999999999999999\r\n"
        b"Content-Range: bytes -\r\nETag:\r\n: x\r\n")
    info = {"sha": "0123456789abcdef0123456789abcdef01234567",
            "siblings": [{"rfilename": n} for n in (
                "config.json", "model.safetensors", "vocab.txt", "onnx/model.onnx",
                "pytorch_model.bin", "notes.txt", "tokenizer.json")]}
    put("hub", "info", b"i" + json.dumps(info).encode())
    put("hub", "info-escape", b'i{"sha": "..", "siblings": [{"rfilename": "../../x"}]}')
    put("hub", "info-escape-file", b'i{"sha": "abc", "siblings": [{"rfilename": "a/../../x.txt"}]}')
    put("hub", "index", b'x{"weight_map": {"a": "model-1.safetensors", "b": "sub/model-2.safetensors"}}')
    put("hub", "index-escape", b'x{"weight_map": {"a": "/etc/passwd"}}')
    for i, n in enumerate([b"org/name", b"name", b"a--b", b"../x", b"a/b/c", b"W/\"etag\"", b".",
                           b"a/./b", b"x\\y", b"-a"]):
        put("hub", "name-%d" % i, b"n" + n)


def seeds_options():
    put("options", "all", b"o" + SEP.join([b"top-k", b"7", b"threshold", b"0.25", b"label", b"x y",
                                          b"mode", b"sigmoid", b"raw", b""]))
    put("options", "bad", b"o" + SEP.join([b"top-k", b"99999999999999999999999", b"threshold", b"nan",
                                          b"mode", b"soft", b"nope", b"1", b"top-k", b" 5"]))
    put("options", "value", b'v{"a": [1, 2.5, -1e300, true, null, "s\\u00e9"], "b": {"c": {}}}')
    put("options", "value-deep", b"v" + b"[" * 200 + b"]" * 200)


def seeds_serve():
    def call(name, line, body):
        put("serve", name, b"c" + line + SEP + body)
    put("serve", "parse-pair", b'p{"inputs": ["a", {"text": "b", "text_pair": "c"}], '
        b'"parameters": {"candidate_labels": ["x", "y"], "top_k": 2, "multi_label": true}}')
    put("serve", "parse-qc", b'q{"inputs": [{"question": "q", "context": "c"}], '
        b'"parameters": {"max_answer_len": 3.5, "aggregation_strategy": null}}')
    put("serve", "parse-bad", b'p{"inputs": "x", "parameters": {"labels": ["a,b"], "top_k": 1, '
        b'"top-k": 2}}')
    put("serve", "parse-deep", b"p" + b'{"inputs": ' + b"[" * 300 + b"]" * 300 + b"}")
    call("sentiment", b"POST /sentiment", b'{"inputs": ["I loved it.", ""], '
         b'"parameters": {"top_k": null, "function_to_apply": "sigmoid"}}')
    call("sentiment-bad-option", b"POST /sentiment", b'{"inputs": "x", "parameters": {"top_k": "zero"}}')
    call("sentiment-utf8", b"POST /sentiment", b'{"inputs": "\\u00e9\xff\xfe"}')
    call("qa", b"POST /qa", b'{"inputs": {"question": "Where?", "context": "I live in Berlin."}, '
         b'"parameters": {"top_k": 2}}')
    call("qa-long", b"POST /qa", b'{"inputs": {"question": "q", "context": "' + b"word " * 400 + b'"}}')
    call("predict", b"POST /predict", b'{"inputs": [["a", "b"], "c"], "raw_scores": true}')
    call("rerank", b"POST /rerank", b'{"query": "q", "texts": ["a", "b"], "return_text": true}')
    call("tokenize", b"POST /tokenize", b'{"inputs": ["Hello", "world"], "add_special_tokens": false}')
    call("decode", b"POST /decode", b'{"ids": [[5, 6, 2], [1]], "skip_special_tokens": false}')
    call("decode-bad", b"POST /decode", b'{"ids": [1e99, -3, "x"]}')
    call("embed-missing", b"POST /v1/embeddings", b'{"input": "x", "model": "m"}')
    call("info", b"GET /info", b"")
    call("metrics", b"GET /metrics", b"")
    call("not-json", b"POST /sentiment", b"{\"inputs\": ")
    call("wrong-method", b"DELETE /health", b"")


if __name__ == "__main__":
    seeds_tok_encode()
    seeds_tok_load()
    seeds_tok_load_unigram()
    seeds_config()
    seeds_safetensors()
    seeds_checkpoint()
    seeds_corpus()
    seeds_hub()
    seeds_options()
    seeds_serve()
    seeds_tok_load_spm()
