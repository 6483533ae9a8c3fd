#!/usr/bin/python3
"""
tests/gen/ref_tokenizer.py - an independent reference for BERT WordPiece
tokenisation, written from Hugging Face tokenizers' documented behaviour
(BertNormalizer, BertPreTokenizer, WordPiece, the BERT template processing
and truncation), in plain Python with no third-party packages.

It is the source of expected ids AND offsets for the tokenizer tests (the
Transformers.js reference gives ids but no offset mapping; tests/gen/
gen_tokenizer_expected.py checks that both agree on ids).  Task fixture
generators import it to tokenise their inputs:

    import sys; sys.path.insert(0, "tests/gen")
    import ref_tokenizer as rt
    vocab = rt.load_vocab("../shared/data/vocab/bert-base-uncased/vocab.txt")
    enc = rt.encode(vocab, "Hello world!", pair=None)
    enc["ids"], enc["type_ids"], enc["offsets"], enc["tokens"], enc["word_ids"]

Semantics (those of the Rust `tokenizers` library behind BertTokenizerFast):
  * special tokens written in the text ("[MASK]", "[SEP]", ...) are matched
    in the raw text, leftmost-longest, before any normalisation;
  * clean text: U+0000, U+FFFD and "control" characters (categories Cc, Cf,
    Co, except tab/newline/CR) are dropped; whitespace (tab, newline, CR and
    the Unicode White_Space property) becomes a space;
  * CJK ideographs get spaces around them (tokenizers' ranges, see
    is_chinese_char);
  * strip accents (when strip_accents is True, or None and lowercase): NFD,
    then drop category Mn; lowercase: per-character full lower-casing;
  * pre-tokenise: split on White_Space (removed), then isolate every
    punctuation character (ASCII non-alphanumeric printable, or Unicode P*);
  * WordPiece: greedy longest match first, "##" continuation prefix, [UNK]
    for the whole word when it has more than max_input_chars_per_word code
    points or a piece cannot be matched;
  * every normalised character remembers the original code point it came
    from; a token's offsets are [first char's origin, last char's origin + 1)
    in code points of the text it came from; template tokens get (0, 0);
  * truncation follows tokenizers' longest_first / only_first / only_second.
Unicode categories come from Python's unicodedata; tokenizers' Rust code
takes P*, Mn, Cc/Cf/Co from older tables (unicode_categories crate), so
characters assigned in recent Unicode versions may be treated differently.
Run as a script for a quick look:  /usr/bin/python3 tests/gen/ref_tokenizer.py VOCAB TEXT
"""
import sys
import unicodedata

SPECIALS_DEFAULT = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# Unicode White_Space property (what Rust's char::is_whitespace tests).
_WHITE_SPACE = set([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680,
                    0x2028, 0x2029, 0x202F, 0x205F, 0x3000] +
                   list(range(0x2000, 0x200B)))


def is_white_space(c):
    return ord(c) in _WHITE_SPACE


def is_control(c):
    if c in "\t\n\r":
        return False
    # tokenizers' is_control is unicode_categories' is_other(): Cc, Cf and Co
    # only (unassigned code points are kept, whatever its comment says)
    return unicodedata.category(c) in ("Cc", "Cf", "Co")


def is_punctuation(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def is_chinese_char(cp):
    # tokenizers' BertNormalizer ranges; its fifth starts at U+2B920 where
    # BERT's Python code (and Transformers.js) say U+2B820.
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF
            or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def load_vocab(path):
    """vocab.txt -> list of tokens (index = id)."""
    with open(path, encoding="utf-8") as f:
        return [line[:-1] if line.endswith("\n") else line for line in f]


_vocab_cache = {}


def _vocab_map(vocab_tokens):
    if isinstance(vocab_tokens, dict):
        return vocab_tokens
    key = id(vocab_tokens)
    hit = _vocab_cache.get(key)
    if hit is None or hit[0] is not vocab_tokens:
        m = {}
        for i, t in enumerate(vocab_tokens):
            m[t] = i  # a repeated token keeps its last id, as in transformers
        hit = (vocab_tokens, m)
        _vocab_cache[key] = hit
    return hit[1]


def normalize(text, base, lowercase=True, strip_accents=None,
              tokenize_chinese_chars=True, clean_text=True):
    """text -> list of (char, original code point index)."""
    out = [(c, base + i) for i, c in enumerate(text)]
    if clean_text:
        tmp = []
        for c, i in out:
            if ord(c) == 0 or ord(c) == 0xFFFD or is_control(c):
                continue
            tmp.append((" " if (c in "\t\n\r" or is_white_space(c)) else c, i))
        out = tmp
    if tokenize_chinese_chars:
        tmp = []
        for c, i in out:
            if is_chinese_char(ord(c)):
                tmp += [(" ", i), (c, i), (" ", i)]
            else:
                tmp.append((c, i))
        out = tmp
    if strip_accents is None:
        strip_accents = lowercase
    if strip_accents:
        tmp = []
        for c, i in out:
            for d in unicodedata.normalize("NFD", c):
                if unicodedata.category(d) != "Mn":
                    tmp.append((d, i))
        out = tmp
    if lowercase:
        tmp = []
        for c, i in out:
            for d in c.lower():
                tmp.append((d, i))
        out = tmp
    return out


def pre_tokenize(chars):
    """list of (char, idx) -> list of words (each a list of (char, idx))."""
    words, cur = [], []
    for ci in chars:
        c = ci[0]
        if is_white_space(c):
            if cur:
                words.append(cur)
            cur = []
        elif is_punctuation(c):
            if cur:
                words.append(cur)
            words.append([ci])
            cur = []
        else:
            cur.append(ci)
    if cur:
        words.append(cur)
    return words


def wordpiece(word, vmap, unk="[UNK]", prefix="##", max_chars=100):
    """word: list of (char, idx) -> list of (token, id, start, end)."""
    s = "".join(c for c, _ in word)
    n = len(s)
    unk_tok = (unk, vmap[unk], word[0][1], word[-1][1] + 1)
    if n > max_chars:
        return [unk_tok]
    out = []
    start = 0
    while start < n:
        end = n
        found = None
        while start < end:
            sub = s[start:end]
            if start > 0:
                sub = prefix + sub
            if sub in vmap:
                found = sub
                break
            end -= 1
        if found is None:
            return [unk_tok]
        out.append((found, vmap[found], word[start][1], word[end - 1][1] + 1))
        start = end
    return out


def _split_specials(text, specials):
    """-> list of (is_special, start, end) segments covering text."""
    segs = []
    if not specials:
        return [(False, 0, len(text))] if text else []
    first = {}
    for t in specials:
        if t:
            first.setdefault(t[0], []).append(t)
    i, last = 0, 0
    n = len(text)
    while i < n:
        best = None
        for t in first.get(text[i], ()):
            if text.startswith(t, i) and (best is None or len(t) > len(best)):
                best = t
        if best is None:
            i += 1
            continue
        if i > last:
            segs.append((False, last, i))
        segs.append((True, i, i + len(best)))
        i += len(best)
        last = i
    if last < n:
        segs.append((False, last, n))
    return segs


def tokenize(vocab_tokens, text, lowercase=True, strip_accents=None,
             tokenize_chinese_chars=True, clean_text=True,
             specials=SPECIALS_DEFAULT, unk="[UNK]", max_input_chars_per_word=100,
             added_tokens=None, added_normalized=None):
    """One text -> list of (token, id, start, end, word).  added_tokens:
    extra {content: id} matched in the raw text like the special tokens
    (tokenizer.json added tokens with normalized false); added_normalized:
    {content: id} matched, leftmost-longest, in the normalised text of the
    pieces between raw matches, their content normalised the same way
    (tokenizers' second added-vocabulary pass).  Neither kind ever serves
    as a WordPiece piece.  (Offsets of a normalised added token starting
    with a CJK ideograph start at that ideograph here.)"""
    vmap = _vocab_map(vocab_tokens)
    toks = []
    word = 0
    raw = {t: vmap[t] for t in specials if t in vmap}
    raw.update(added_tokens or {})
    nopts = (lowercase, strip_accents, tokenize_chinese_chars, clean_text)
    ncont = {}
    for t, i in (added_normalized or {}).items():
        k = "".join(c for c, _ in normalize(t, 0, *nopts))
        if k and k not in ncont:
            ncont[k] = (t, i)
    for is_sp, a, b in _split_specials(text, list(raw)):
        if is_sp:
            t = text[a:b]
            toks.append((t, raw[t], a, b, word))
            word += 1
            continue
        chars = normalize(text[a:b], a, *nopts)
        ntext = "".join(c for c, _ in chars)
        for is_tok, x, y in _split_specials(ntext, list(ncont)):
            if is_tok:
                t, i = ncont[ntext[x:y]]
                toks.append((t, i, chars[x][1], chars[y - 1][1] + 1, word))
                word += 1
                continue
            for w in pre_tokenize(chars[x:y]):
                for t, i, s, e in wordpiece(w, vmap, unk, "##", max_input_chars_per_word):
                    toks.append((t, i, s, e, word))
                word += 1
    return toks


def truncate(n1, n2, max_length, strategy="longest_first"):
    """Lengths to keep (k1, k2) for the two sequences (n2 None for one text),
    max_length already excluding the template's special tokens.  Raises
    ValueError when the strategy cannot reach max_length."""
    if max_length == 0:  # only the special tokens fit: every strategy empties both
        return 0, (None if n2 is None else 0)
    if n2 is None:
        if n1 <= max_length:
            return n1, None
        if strategy == "only_second":
            raise ValueError("only_second with a single sequence")
        return max_length, None
    total = n1 + n2
    if total <= max_length:
        return n1, n2
    to_remove = total - max_length
    if strategy == "longest_first":
        a, b = n1, n2
        swap = a > b
        if swap:
            a, b = b, a
        if a > max_length:
            b = a
        else:
            b = max(a, max_length - a)
        if a + b > max_length:
            a = max_length // 2
            b = a + max_length % 2
        if swap:
            a, b = b, a
        return min(a, n1), min(b, n2)
    if strategy == "only_first":
        if n1 > to_remove:
            return n1 - to_remove, n2
        raise ValueError("first sequence too short")
    if strategy == "only_second":
        if n2 > to_remove:
            return n1, n2 - to_remove
        raise ValueError("second sequence too short")
    raise ValueError("unknown strategy " + strategy)


def encode(vocab_tokens, text, pair=None, lowercase=True, strip_accents=None,
           tokenize_chinese_chars=True, clean_text=True, add_special_tokens=True,
           max_length=None, truncation="longest_first",
           specials=SPECIALS_DEFAULT, cls="[CLS]", sep="[SEP]", unk="[UNK]",
           max_input_chars_per_word=100, added_tokens=None, added_normalized=None):
    """Encode a text or a pair as BertTokenizerFast does.
    Returns dict(ids, type_ids, offsets, tokens, word_ids, special_mask,
    n_truncated); offsets are (start, end) code-point pairs into the text
    each token came from, word_ids None for template tokens."""
    vmap = _vocab_map(vocab_tokens)
    kw = dict(lowercase=lowercase, strip_accents=strip_accents,
              tokenize_chinese_chars=tokenize_chinese_chars, clean_text=clean_text,
              specials=specials, unk=unk,
              max_input_chars_per_word=max_input_chars_per_word,
              added_tokens=added_tokens, added_normalized=added_normalized)
    a = tokenize(vmap, text, **kw)
    b = tokenize(vmap, pair, **kw) if pair is not None else None
    n_trunc = 0
    if max_length:
        n_add = (3 if b is not None else 2) if add_special_tokens else 0
        if max_length < n_add:
            raise ValueError("max_length below the number of special tokens")
        k1, k2 = truncate(len(a), len(b) if b is not None else None,
                          max_length - n_add, truncation)
        n_trunc = len(a) - k1 + (len(b) - k2 if b is not None else 0)
        a = a[:k1]
        if b is not None:
            b = b[:k2]
    rows = []  # (token, id, type, start, end, word, special)
    if add_special_tokens:
        rows.append((cls, vmap[cls], 0, 0, 0, None, 1))
    rows += [(t, i, 0, s, e, w, 0) for t, i, s, e, w in a]
    if add_special_tokens:
        rows.append((sep, vmap[sep], 0, 0, 0, None, 1))
    if b is not None:
        rows += [(t, i, 1, s, e, w, 0) for t, i, s, e, w in b]
        if add_special_tokens:
            rows.append((sep, vmap[sep], 1, 0, 0, None, 1))
    return {
        "ids": [r[1] for r in rows],
        "type_ids": [r[2] for r in rows],
        "offsets": [(r[3], r[4]) for r in rows],
        "tokens": [r[0] for r in rows],
        "word_ids": [r[5] for r in rows],
        "special_mask": [r[6] for r in rows],
        "n_truncated": n_trunc,
    }


def _cleanup(s):
    for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","),
                 (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                 (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"),
                 (" 're", "'re")):
        s = s.replace(a, b)
    return s


def decode(vocab_tokens, ids, skip_special_tokens=False,
           clean_up_tokenization_spaces=True, specials=SPECIALS_DEFAULT,
           decoder_cleanup=True):
    """ids -> text as BertTokenizerFast.decode: WordPiece decoder (per-token
    "##" gluing, spaces, per-token cleanup) then, when asked, transformers'
    clean_up_tokenization on the whole string."""
    if isinstance(vocab_tokens, dict):
        inv = {v: k for k, v in vocab_tokens.items()}
        toks = [inv[i] for i in ids]
    else:
        toks = [vocab_tokens[i] for i in ids]
    if skip_special_tokens:
        toks = [t for t in toks if t not in specials]
    parts = []
    for k, t in enumerate(toks):
        if k != 0:
            t = t[2:] if t.startswith("##") else " " + t
        if decoder_cleanup:
            t = _cleanup(t)
        parts.append(t)
    s = "".join(parts)
    if clean_up_tokenization_spaces:
        for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","),
                     (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                     (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
            s = s.replace(a, b)
    return s


if __name__ == "__main__":
    v = load_vocab(sys.argv[1])
    e = encode(v, sys.argv[2], pair=sys.argv[3] if len(sys.argv) > 3 else None)
    for t, i, ty, o, w in zip(e["tokens"], e["ids"], e["type_ids"], e["offsets"], e["word_ids"]):
        print(t, i, ty, o, w)
