// Name registry: names cost a fee in a token contract, paid through the
// token's allowance (the registrant first approves this contract). Owners
// transfer their names; the registry owner withdraws collected fees.
//
// Methods (inputs in the SDK encoding):
//   init(token bytes, fee u64)            the caller becomes the registry owner (once)
//   register(name string)                 charges fee via token.transfer_from
//   resolve(name string) -> bytes         the name's owner; reverts if unregistered
//   transfer(name string, to bytes)       name owner only
//   withdraw(to bytes, amount u64)        registry owner only; pays out collected fees
import {
  args, ret, require, revert, caller, self, storageGet, storageSet, concat, utf8, equal,
  u64Bytes, bytesU64, call, Writer, Event, hex, u64String,
} from "../sdk";
export { alloc } from "../sdk";

const OWNER = utf8("owner");
const TOKEN = utf8("token");
const FEE = utf8("fee");

function nameKey(name: string): Uint8Array { return concat(utf8("n/"), utf8(name)); }

function validName(name: string): bool {
  if (name.length < 1 || name.length > 64) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d; // a-z 0-9 -
    if (!ok) return false;
  }
  return true;
}

export function init(ptr: usize, len: usize): void {
  require(storageGet(OWNER) === null, "already initialised");
  const a = args(ptr, len);
  storageSet(TOKEN, a.bytes());
  storageSet(FEE, u64Bytes(a.u64()));
  storageSet(OWNER, caller());
}

export function register(ptr: usize, len: usize): void {
  const name = args(ptr, len).string();
  require(validName(name), "invalid name: use 1 to 64 characters a-z, 0-9 and -");
  const key = nameKey(name);
  require(storageGet(key) === null, "name already registered");
  const token = storageGet(TOKEN);
  if (token === null) revert("registry not initialised");
  const fee = bytesU64(storageGet(FEE));
  const who = caller();
  if (fee > 0) {
    call(token!, "transfer_from", new Writer().bytes(who).bytes(self()).u64(fee).finish());
  }
  storageSet(key, who);
  new Event("register").attr("name", name).attr("owner", hex(who)).attr("fee", u64String(fee)).emit();
}

export function resolve(ptr: usize, len: usize): void {
  const name = args(ptr, len).string();
  const owner = storageGet(nameKey(name));
  if (owner === null) revert("name not registered: " + name);
  ret(owner!);
}

export function transfer(ptr: usize, len: usize): void {
  const a = args(ptr, len);
  const name = a.string();
  const to = a.bytes();
  const key = nameKey(name);
  const owner = storageGet(key);
  if (owner === null) revert("name not registered: " + name);
  require(equal(owner!, caller()), "only the name's owner can transfer it");
  storageSet(key, to);
  new Event("transfer_name").attr("name", name).attr("to", hex(to)).emit();
}

export function withdraw(ptr: usize, len: usize): void {
  const a = args(ptr, len);
  const to = a.bytes();
  const amount = a.u64();
  const owner = storageGet(OWNER);
  require(owner !== null && equal(owner!, caller()), "only the registry owner can withdraw");
  call(storageGet(TOKEN)!, "transfer", new Writer().bytes(to).u64(amount).finish());
}
