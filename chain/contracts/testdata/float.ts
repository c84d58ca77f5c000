// Uses f64 arithmetic: Prepare must reject it.
export { alloc } from "../sdk";
import { args, ret, u64Bytes } from "../sdk";
export function half(ptr: usize, len: usize): void {
  const v = <f64>args(ptr, len).u64();
  ret(u64Bytes(<u64>(v * 0.5)));
}
