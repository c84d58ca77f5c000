// build.mjs compiles AssemblyScript contracts to WebAssembly for the
// XairrosX contract VM, all in one Node process (asc's JavaScript API).
//
//   node build.mjs OUTDIR                 the example contracts token, registry, aigate
//   node build.mjs OUTDIR SPEC...         SPEC is SOURCE.ts or SOURCE.ts,FLAG,FLAG...
//                                         e.g. testdata/simd.ts,--enable,simd
//
// Each SOURCE.ts becomes OUTDIR/<basename>.wasm. Flags: the stub runtime (a
// bump allocator: no GC, no floating point), -O3, and abort routed to the
// SDK's revert so that the only imports are the host functions of module
// "xairrosx". Requires scripts/deps-contracts.sh (node_modules).
import asc from "assemblyscript/asc";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdirSync } from "node:fs";

const here = fileURLToPath(new URL(".", import.meta.url));
const [outArg, ...specs] = process.argv.slice(2);
if (!outArg) {
  console.error("usage: node build.mjs OUTDIR [SOURCE.ts[,FLAG...]...]");
  process.exit(2);
}
const out = resolve(outArg);
mkdirSync(out, { recursive: true });
process.chdir(here);

const sources = specs.length > 0 ? specs : ["token/token.ts", "registry/registry.ts", "aigate/aigate.ts"];
for (const spec of sources) {
  const [src, ...flags] = spec.split(",");
  const wasm = join(out, basename(src, ".ts") + ".wasm");
  const { error, stderr } = await asc.main([
    src, "-o", wasm, "--runtime", "stub", "-O3",
    "--use", "abort=sdk/index/abort", "--disableWarning", ...flags,
  ]);
  if (error) {
    console.error(`build.mjs: ${src}: ${error.message}\n${stderr.toString()}`);
    process.exit(1);
  }
}
