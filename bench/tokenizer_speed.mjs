// bench/tokenizer_speed.mjs - Transformers.js's tokenizer throughput over a
// text file, measured as bench/tokenizer_speed.c measures libnlp's: one
// text per line (the first TAB-separated field), every line encoded with
// special tokens (tokenizer.encode) REPS times after one warm-up pass; the
// best pass's wall time and CPU time.  Never part of make check.
//
//   NODE_PATH=.../node_modules node bench/tokenizer_speed.mjs MODEL_DIR FILE [REPS]
//
// MODEL_DIR holds tokenizer.json and tokenizer_config.json; nothing is
// fetched (allowRemoteModels is off).
import fs from "fs";
import path from "path";
import { createRequire } from "module";

const require = createRequire(path.resolve("package.json"));
const { env, AutoTokenizer } = require("@huggingface/transformers");

const [dir, file, repsArg] = process.argv.slice(2);
const reps = repsArg ? Number(repsArg) : 5;
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(dir)) + "/";
const tok = await AutoTokenizer.from_pretrained(path.basename(path.resolve(dir)));

const lines = fs.readFileSync(file, "utf8").split("\n");
if (lines.length && lines[lines.length - 1] === "") lines.pop();
const texts = lines.map((l) => l.split("\t")[0]);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
let best = Infinity, bestCpu = Infinity, tokens = 0;
for (let r = 0; r <= reps; r++) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let tk = 0;
  for (const t of texts) tk += tok.encode(t).length;
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const dc = (c.user + c.system) / 1e6;
  if (r > 0) { best = Math.min(best, dt); bestCpu = Math.min(bestCpu, dc); }
  tokens = tk;
}
console.log(`${texts.length} lines, ${tokens} tokens, best of ${reps}: ${best.toFixed(3)} s, ` +
  `${Math.round(tokens / best)} tokens/s, ${(bytes / best / 1e6).toFixed(1)} MB/s ` +
  `(CPU time ${bestCpu.toFixed(3)} s: ${Math.round(tokens / bestCpu)} tokens per CPU second)`);
