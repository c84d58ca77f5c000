// Benchmark workload: integer mixing, array updates with bounds checks and
// a sort, the kind of code contracts run. work(n u64) -> u64 checksum.
export { alloc } from "../sdk";
import { args, ret, u64Bytes } from "../sdk";

export function work(ptr: usize, len: usize): void {
  const n = <i32>args(ptr, len).u64();
  const a = new Uint32Array(256);
  let x: u32 = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const j = <i32>(x & 255);
    a[j] = a[j] + (x >> 3);
  }
  // insertion sort
  for (let i = 1; i < 256; i++) {
    const v = a[i];
    let k = i - 1;
    while (k >= 0 && a[k] > v) {
      a[k + 1] = a[k];
      k--;
    }
    a[k + 1] = v;
  }
  let h: u64 = 0;
  for (let i = 0; i < 256; i++) h = h * 31 + <u64>a[i];
  ret(u64Bytes(h));
}
