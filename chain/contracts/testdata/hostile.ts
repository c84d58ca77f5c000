// Hostile but valid contract: every method must be stopped by a VM limit
// with a clear error code, never hang or crash the node.
export { alloc } from "../sdk";
import { args, ret, u64Bytes, storageSet, utf8, call, self } from "../sdk";

// spin never returns: only gas stops it.
export function spin(ptr: usize, len: usize): void {
  let i: u64 = 0;
  while (true) { i++; if (i == 0) break; }
  ret(u64Bytes(i));
}

// membomb grows memory one page at a time until it fails, then traps.
export function membomb(ptr: usize, len: usize): void {
  while (true) {
    if (memory.grow(1) < 0) unreachable();
  }
}

// allocbomb allocates 1 MiB blocks through the runtime until it fails.
export function allocbomb(ptr: usize, len: usize): void {
  let n = 0;
  while (true) { new Uint8Array(1 << 20)[0] = <u8>n; n++; }
}

function down(n: u64): u64 { return n == 0 ? 0 : 1 + down(n - 1); }

// recurse(n u64) recurses n levels deep.
export function recurse(ptr: usize, len: usize): void {
  ret(u64Bytes(down(args(ptr, len).u64())));
}

// reenter calls itself through the host until the cross-contract depth limit.
export function reenter(ptr: usize, len: usize): void {
  call(self(), "reenter", new Uint8Array(0));
}

// write stores n u64 values (n from the input), to use up gas in host calls.
export function write(ptr: usize, len: usize): void {
  const n = args(ptr, len).u64();
  for (let i: u64 = 0; i < n; i++) storageSet(u64Bytes(i), u64Bytes(i));
}

// divzero traps with an integer division by zero.
export function divzero(ptr: usize, len: usize): void {
  const d = args(ptr, len).u64();
  ret(u64Bytes(100 / d));
}
