// Uses atomic operations: Prepare must reject it (built with --enable threads).
export { alloc } from "../sdk";
import { args, ret, u64Bytes } from "../sdk";
export function bump(ptr: usize, len: usize): void {
  args(ptr, len);
  ret(u64Bytes(<u64>atomic.add<i32>(0, 1)));
}
