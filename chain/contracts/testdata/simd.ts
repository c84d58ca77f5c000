// Uses v128 SIMD: Prepare must reject it (built with --enable simd).
export { alloc } from "../sdk";
import { args, ret, u64Bytes } from "../sdk";
export function sum(ptr: usize, len: usize): void {
  const a = args(ptr, len).u64();
  const v = i64x2.splat(<i64>a);
  const w = i64x2.add(v, v);
  ret(u64Bytes(<u64>i64x2.extract_lane(w, 1)));
}
