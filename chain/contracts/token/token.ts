// Fungible token: an owner mints, holders transfer, approve spenders and
// spenders transfer from holders (the name registry and the AI-gated payout
// pay and receive through it). Balances are u64.
//
// Methods (inputs in the SDK encoding):
//   init()                                  the caller becomes the owner (once)
//   mint(to bytes, amount u64)              owner only
//   transfer(to bytes, amount u64)
//   approve(spender bytes, amount u64)      sets the spender's allowance
//   transfer_from(from bytes, to bytes, amount u64)  spends the caller's allowance
//   balance(addr bytes) -> u64
//   total_supply() -> u64
import {
  args, ret, require, caller, storageGet, storageSet, concat, utf8, equal,
  u64Bytes, bytesU64, Event, hex, u64String,
} from "../sdk";
export { alloc } from "../sdk";

const OWNER = utf8("owner");
const SUPPLY = utf8("supply");

function balanceKey(addr: Uint8Array): Uint8Array { return concat(utf8("b/"), addr); }
function allowanceKey(owner: Uint8Array, spender: Uint8Array): Uint8Array {
  return concat(concat(utf8("a/"), owner), concat(utf8("/"), spender));
}
function balanceOf(addr: Uint8Array): u64 { return bytesU64(storageGet(balanceKey(addr))); }

function move(from: Uint8Array, to: Uint8Array, amount: u64): void {
  const fb = balanceOf(from);
  require(fb >= amount, "insufficient balance");
  storageSet(balanceKey(from), u64Bytes(fb - amount));
  const tb = balanceOf(to);
  require(tb + amount >= tb, "balance overflow");
  storageSet(balanceKey(to), u64Bytes(tb + amount));
  new Event("transfer").attr("from", hex(from)).attr("to", hex(to)).attr("amount", u64String(amount)).emit();
}

export function init(ptr: usize, len: usize): void {
  require(storageGet(OWNER) === null, "already initialised");
  storageSet(OWNER, caller());
}

export function mint(ptr: usize, len: usize): void {
  const a = args(ptr, len);
  const to = a.bytes();
  const amount = a.u64();
  const owner = storageGet(OWNER);
  require(owner !== null && equal(owner!, caller()), "only the owner can mint");
  const supply = bytesU64(storageGet(SUPPLY));
  require(supply + amount >= supply, "supply overflow");
  storageSet(SUPPLY, u64Bytes(supply + amount));
  storageSet(balanceKey(to), u64Bytes(balanceOf(to) + amount));
  new Event("mint").attr("to", hex(to)).attr("amount", u64String(amount)).emit();
}

export function transfer(ptr: usize, len: usize): void {
  const a = args(ptr, len);
  const to = a.bytes();
  const amount = a.u64();
  move(caller(), to, amount);
}

export function approve(ptr: usize, len: usize): void {
  const a = args(ptr, len);
  const spender = a.bytes();
  storageSet(allowanceKey(caller(), spender), u64Bytes(a.u64()));
}

export function transfer_from(ptr: usize, len: usize): void {
  const a = args(ptr, len);
  const from = a.bytes();
  const to = a.bytes();
  const amount = a.u64();
  const key = allowanceKey(from, caller());
  const allowed = bytesU64(storageGet(key));
  require(allowed >= amount, "allowance exceeded");
  storageSet(key, u64Bytes(allowed - amount));
  move(from, to, amount);
}

export function balance(ptr: usize, len: usize): void {
  ret(u64Bytes(balanceOf(args(ptr, len).bytes())));
}

export function total_supply(ptr: usize, len: usize): void {
  ret(u64Bytes(bytesU64(storageGet(SUPPLY))));
}
