// Imports a function the host does not provide: Prepare must reject it.
export { alloc } from "../sdk";
@external("env", "seed") declare function seed(): i64;
import { args, ret, u64Bytes } from "../sdk";
export function random(ptr: usize, len: usize): void {
  args(ptr, len);
  ret(u64Bytes(<u64>seed()));
}
