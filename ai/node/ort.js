// ort.js runs ONNX models under ONNX Runtime (onnxruntime-node, CPU) as the
// reference for the XairrosX AI engine's tests and benchmarks.
//
// It reads one JSON request on stdin and writes one JSON reply on stdout:
//   {"model": "path.onnx", "threads": 1,
//    "runs": [{"inputs": {"name": {"dtype": "float32", "dims": [1,1,28,28], "b64": "..."}}}],
//    "bench": {"warmup": 10, "iters": 100}}   (bench optional)
// Reply: {"runs": [{"outputs": [{"name": "...", "dims": [...], "b64": "..."}]}],
//         "bench": {"mean_ms": 0.1, "runs_per_s": 1000, "cpu_ms": 0.1},
//         "kernels": ["FusedConv", ...]}
// "opt" (optional) is the graph optimization level (default "all"); with
// "profile": true the reply lists the kernels ONNX Runtime ran for the
// first run, from its profiler.
// cpu_ms is the process CPU time (all threads) per run.
// Tensors are little-endian raw element bytes in base64.
'use strict';
const ort = require('onnxruntime-node');
const fs = require('fs');
const os = require('os');
const path = require('path');

const types = { float32: Float32Array, uint8: Uint8Array, int8: Int8Array, int32: Int32Array, int64: BigInt64Array };

function toTensor(spec) {
  const raw = Buffer.from(spec.b64, 'base64');
  const T = types[spec.dtype];
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return new ort.Tensor(spec.dtype, new T(copy.buffer, 0, raw.length / T.BYTES_PER_ELEMENT), spec.dims);
}

function fromTensor(name, t) {
  const d = t.data;
  return { name, dtype: t.type, dims: t.dims, b64: Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64') };
}

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const req = JSON.parse(Buffer.concat(chunks).toString());
  const opts = { intraOpNumThreads: req.threads || 1, interOpNumThreads: 1, graphOptimizationLevel: req.opt || 'all' };
  let profDir;
  if (req.profile) {
    profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ortprof-'));
    opts.enableProfiling = true;
    opts.profileFilePrefix = path.join(profDir, 'p');
  }
  const sess = await ort.InferenceSession.create(req.model, opts);
  const feeds = (req.runs || []).map(r => {
    const f = {};
    for (const [k, v] of Object.entries(r.inputs)) f[k] = toTensor(v);
    return f;
  });
  const reply = { runs: [] };
  if (!req.bench) {
    for (const f of feeds) {
      const out = await sess.run(f);
      reply.runs.push({ outputs: sess.outputNames.map(n => fromTensor(n, out[n])) });
    }
  } else {
    const b = req.bench;
    for (let i = 0; i < (b.warmup || 10); i++) await sess.run(feeds[i % feeds.length]);
    const iters = b.iters || 100;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) await sess.run(feeds[i % feeds.length]);
    const ns = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    reply.bench = { mean_ms: ns / 1e6 / iters, runs_per_s: iters / (ns / 1e9), cpu_ms: (c.user + c.system) / 1e3 / iters };
  }
  if (profDir) {
    await sess.endProfiling();
    const file = fs.readdirSync(profDir).map(f => path.join(profDir, f))[0];
    const events = JSON.parse(fs.readFileSync(file));
    const seen = new Set();
    reply.kernels = [];
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || seen.has(e.name)) continue;
      seen.add(e.name);
      reply.kernels.push(e.args.op_name);
    }
    fs.rmSync(profDir, { recursive: true });
  }
  process.stdout.write(JSON.stringify(reply));
}

main().catch(e => { console.error('ort.js:', e.message || e); process.exit(1); });
