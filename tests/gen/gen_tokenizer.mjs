// tests/gen/gen_tokenizer.mjs - run Transformers.js (@huggingface/transformers,
// offline) on a list of inputs and print its ids and token type ids, as an
// independent reference for the C tokenizer and tests/gen/ref_tokenizer.py.
//
//   NODE_PATH=/work/main/tests/ref/node_modules \
//   node tests/gen/gen_tokenizer.mjs MODEL_DIR INPUT.jsonl OUTPUT.jsonl
//
// MODEL_DIR holds tokenizer.json + tokenizer_config.json (see
// tests/gen/make_bert_tokenizer_json.py).  Each INPUT line is
// {"text": ..., "pair": ... (optional)}; each OUTPUT line is
// {"ids": [...], "type_ids": [...]}.  A line {"decode": [ids], "skip_special":
// bool} is decoded instead, giving {"text": ...}.  Transformers.js gives no offset
// mapping, so offsets come from ref_tokenizer.py alone.
import { createRequire } from "module";
import fs from "fs";
import path from "path";

const require = createRequire(path.resolve("tests/ref/package.json"));
let tf;
try {
  tf = await import("@huggingface/transformers");
} catch (e) {
  tf = require("@huggingface/transformers");
}
const { env, AutoTokenizer } = tf;

const [dir, inPath, outPath] = process.argv.slice(2);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(dir)) + "/";
const tok = await AutoTokenizer.from_pretrained(path.basename(path.resolve(dir)));

const lines = fs.readFileSync(inPath, "utf8").split("\n").filter((l) => l.length);
const out = [];
for (const line of lines) {
  const q = JSON.parse(line);
  if (q.decode !== undefined) {
    out.push(JSON.stringify({ text: tok.decode(q.decode, { skip_special_tokens: !!q.skip_special }) }));
    continue;
  }
  const opts = { add_special_tokens: q.add_special_tokens !== false };
  if (q.pair !== undefined && q.pair !== null) opts.text_pair = q.pair;
  const enc = tok(q.text, opts);
  const ids = Array.from(enc.input_ids.data, Number);
  const types = enc.token_type_ids ? Array.from(enc.token_type_ids.data, Number) : [];
  out.push(JSON.stringify({ ids, type_ids: types }));
}
fs.writeFileSync(outPath, out.join("\n") + "\n");
