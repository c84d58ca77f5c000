// XairrosX contract SDK for AssemblyScript.
//
// Wraps the host functions of module "xairrosx" (see docs/contracts.md):
// storage, caller and self addresses, block height, events, cross-contract
// calls and on-chain inference, plus the ABI pieces every contract needs:
// the exported `alloc`, reading a method's input and returning its output.
//
// A contract re-exports `alloc` and defines methods as
//   export function name(ptr: usize, len: usize): void { const input = args(ptr, len); ... }
// Build with --runtime stub and --use abort=sdk/index/abort (build.sh).
// Integer code only: Prepare rejects any floating-point opcode.

// ---- host imports -------------------------------------------------------

@external("xairrosx", "return_data") declare function _return_data(ptr: usize, len: usize): void;
@external("xairrosx", "revert") declare function _revert(ptr: usize, len: usize): void;
@external("xairrosx", "read_result") declare function _read_result(ptr: usize): void;
@external("xairrosx", "storage_get") declare function _storage_get(kp: usize, kl: usize): i32;
@external("xairrosx", "storage_set") declare function _storage_set(kp: usize, kl: usize, vp: usize, vl: usize): void;
@external("xairrosx", "caller") declare function _caller(): i32;
@external("xairrosx", "self") declare function _self(): i32;
@external("xairrosx", "block_height") declare function _block_height(): i64;
@external("xairrosx", "gas_left") declare function _gas_left(): i64;
@external("xairrosx", "emit") declare function _emit(kp: usize, kl: usize, ap: usize, al: usize): void;
@external("xairrosx", "call") declare function _call(ap: usize, al: usize, mp: usize, ml: usize, ip: usize, il: usize, gas: i64): i32;
@external("xairrosx", "infer") declare function _infer(mp: usize, ml: usize, ip: usize, il: usize): i32;

// ---- ABI ----------------------------------------------------------------

/** alloc is called by the host to place a method's input; contracts re-export it. */
export function alloc(len: i32): i32 {
  return <i32>heap.alloc(<usize>len);
}

/** abort replaces AssemblyScript's env.abort (assert, throw): it reverts with the message. */
export function abort(msg: string | null, file: string | null, line: u32, col: u32): void {
  revert(msg !== null ? msg : "abort");
}

/** args returns a reader over a method's input. */
export function args(ptr: usize, len: usize): Reader {
  return new Reader(bytesAt(ptr, len));
}

/** ret sets the method's output. */
export function ret(data: Uint8Array): void {
  _return_data(data.dataStart, <usize>data.length);
}

/** revert stops the execution with an error message; state changes are dropped by the node. */
export function revert(msg: string): void {
  const b = utf8(msg);
  _revert(b.dataStart, <usize>b.length);
  unreachable();
}

/** require reverts with msg unless ok. */
export function require(ok: bool, msg: string): void {
  if (!ok) revert(msg);
}

// ---- host API -----------------------------------------------------------

function result(n: i32): Uint8Array {
  const out = new Uint8Array(n);
  if (n > 0) _read_result(out.dataStart);
  return out;
}

/** storageGet reads the contract's storage; null when the key is absent. */
export function storageGet(key: Uint8Array): Uint8Array | null {
  const n = _storage_get(key.dataStart, <usize>key.length);
  if (n < 0) return null;
  return result(n);
}

/** storageSet writes the contract's storage. */
export function storageSet(key: Uint8Array, value: Uint8Array): void {
  _storage_set(key.dataStart, <usize>key.length, value.dataStart, <usize>value.length);
}

/** caller is the address of the account or contract that called this method. */
export function caller(): Uint8Array { return result(_caller()); }

/** self is the address of this contract. */
export function self(): Uint8Array { return result(_self()); }

/** blockHeight is the height of the block being executed. */
export function blockHeight(): i64 { return _block_height(); }

/** gasLeft is the gas still available to this execution. */
export function gasLeft(): i64 { return _gas_left(); }

/** call runs method of another contract; gas <= 0 passes all gas left. A failing callee fails this call. */
export function call(contract: Uint8Array, method: string, input: Uint8Array, gas: i64 = 0): Uint8Array {
  const m = utf8(method);
  return result(_call(contract.dataStart, <usize>contract.length, m.dataStart, <usize>m.length,
    input.dataStart, <usize>input.length, gas));
}

/** infer runs the registered model with SHA-256 modelHash on raw input bytes and returns its raw output. */
export function infer(modelHash: Uint8Array, input: Uint8Array): Uint8Array {
  return result(_infer(modelHash.dataStart, <usize>modelHash.length, input.dataStart, <usize>input.length));
}

/** Event collects attributes and emits them into the block results. */
export class Event {
  private w: Writer = new Writer();
  constructor(private kind: string) {}
  attr(key: string, value: string): Event {
    this.w.string(key);
    this.w.string(value);
    return this;
  }
  emit(): void {
    const k = utf8(this.kind);
    const a = this.w.finish();
    _emit(k.dataStart, <usize>k.length, a.dataStart, <usize>a.length);
  }
}

// ---- encoding -----------------------------------------------------------
// Inputs and outputs use a simple binary encoding: u64 as 8 bytes little
// endian, u8 as one byte, byte strings and strings as a u32 little-endian
// length followed by the bytes (strings in UTF-8).

/** Reader decodes a method's input; it reverts on truncated data. */
export class Reader {
  private pos: i32 = 0;
  constructor(public data: Uint8Array) {}
  private need(n: i32): void {
    if (n < 0 || this.data.length - this.pos < n) revert("input too short");
  }
  u8(): u8 {
    this.need(1);
    return this.data[this.pos++];
  }
  u64(): u64 {
    this.need(8);
    const v = load<u64>(this.data.dataStart + <usize>this.pos);
    this.pos += 8;
    return v;
  }
  u32(): u32 {
    this.need(4);
    const v = load<u32>(this.data.dataStart + <usize>this.pos);
    this.pos += 4;
    return v;
  }
  bytes(): Uint8Array {
    const n = <i32>this.u32();
    this.need(n);
    const out = this.data.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  fixed(n: i32): Uint8Array {
    this.need(n);
    const out = this.data.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(): string {
    return String.UTF8.decode(this.bytes().buffer);
  }
  rest(): Uint8Array {
    const out = this.data.slice(this.pos);
    this.pos = this.data.length;
    return out;
  }
}

/** Writer encodes outputs, storage values and event attributes. */
export class Writer {
  private buf: Uint8Array = new Uint8Array(64);
  private len: i32 = 0;
  private reserve(n: i32): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length << 1;
    while (cap < this.len + n) cap <<= 1;
    const nb = new Uint8Array(cap);
    memory.copy(nb.dataStart, this.buf.dataStart, <usize>this.len);
    this.buf = nb;
  }
  u8(v: u8): Writer {
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }
  u32(v: u32): Writer {
    this.reserve(4);
    store<u32>(this.buf.dataStart + <usize>this.len, v);
    this.len += 4;
    return this;
  }
  u64(v: u64): Writer {
    this.reserve(8);
    store<u64>(this.buf.dataStart + <usize>this.len, v);
    this.len += 8;
    return this;
  }
  raw(b: Uint8Array): Writer {
    this.reserve(b.length);
    memory.copy(this.buf.dataStart + <usize>this.len, b.dataStart, <usize>b.length);
    this.len += b.length;
    return this;
  }
  bytes(b: Uint8Array): Writer {
    this.u32(<u32>b.length);
    return this.raw(b);
  }
  string(s: string): Writer {
    return this.bytes(utf8(s));
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** utf8 encodes a string as UTF-8 bytes. */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/** bytesAt copies len bytes of memory at ptr. */
export function bytesAt(ptr: usize, len: usize): Uint8Array {
  const out = new Uint8Array(<i32>len);
  memory.copy(out.dataStart, ptr, len);
  return out;
}

/** concat joins byte strings, e.g. a storage key prefix and an address. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  memory.copy(out.dataStart, a.dataStart, <usize>a.length);
  memory.copy(out.dataStart + <usize>a.length, b.dataStart, <usize>b.length);
  return out;
}

/** equal compares byte strings. */
export function equal(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  return memory.compare(a.dataStart, b.dataStart, <usize>a.length) == 0;
}

const HEX = "0123456789abcdef";

/** hex encodes bytes as lower-case hexadecimal (for events). */
export function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) {
    s += HEX.charAt(b[i] >> 4) + HEX.charAt(b[i] & 15);
  }
  return s;
}

/** u64Bytes encodes v as 8 bytes little endian. */
export function u64Bytes(v: u64): Uint8Array {
  const out = new Uint8Array(8);
  store<u64>(out.dataStart, v);
  return out;
}

/** bytesU64 decodes 8 bytes little endian; null or short input gives 0. */
export function bytesU64(b: Uint8Array | null): u64 {
  if (b === null || b.length < 8) return 0;
  return load<u64>(b.dataStart);
}

/** u64String formats v in decimal (for events). */
export function u64String(v: u64): string {
  return v.toString();
}
