// ort_time.mjs - time ONNX Runtime (onnxruntime-node, CPU) on an encoder
// exported by bench/compare.  Prints one JSON line with per-batch times.
//   node ort_time.mjs MODEL.onnx BATCH SEQ THREADS ITERS WARMUP [VOCAB]
// Token ids are 1000..28999, or 0..VOCAB-1 for a vocabulary below 29000.
// onnxruntime-node is resolved from tests/ref/node_modules (NODE_PATH or
// the createRequire below).
import { createRequire } from 'module';
import path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'ref', 'package.json'));
const ort = require('onnxruntime-node');

const [file, B, T, threads, iters, warmup, V] = process.argv.slice(2);
const vocab = BigInt(V ?? 29000);
const [lo, span] = vocab >= 29000n ? [1000n, 28000n] : [0n, vocab];
const b = Number(B), t = Number(T);
const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: Number(threads),
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const ids = new BigInt64Array(b * t);
let s = 7n;
for (let i = 0; i < ids.length; i++) {
  s = (s * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
  ids[i] = lo + ((s >> 33n) % span);
}
const mask = new BigInt64Array(b * t).fill(1n);
const feeds = {
  input_ids: new ort.Tensor('int64', ids, [b, t]),
  attention_mask: new ort.Tensor('int64', mask, [b, t]),
};
for (let i = 0; i < Number(warmup); i++) await session.run(feeds);
const times = [];
for (let i = 0; i < Number(iters); i++) {
  const t0 = process.hrtime.bigint();
  await session.run(feeds);
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((x, y) => x - y);
const n = times.length;
const median = n % 2 ? times[(n - 1) / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
console.log(JSON.stringify({ engine: 'onnxruntime', version: ort.env.versions?.common ?? '',
  median_ms: median, min_ms: times[0], max_ms: times[n - 1], seq_per_s: b / (median / 1e3) }));
