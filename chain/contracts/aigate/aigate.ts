// AI-gated payout: pays a fixed amount of a token to each account that
// submits a 28x28 image which a registered MNIST model classifies as the
// expected digit. Every validator runs the model (host function infer), so
// the decision is part of consensus.
//
// Methods (inputs in the SDK encoding):
//   init(token bytes, model bytes(32), digit u8, payout u64, scores u8)
//                                          caller becomes the owner (once); scores is the
//                                          model's output type: 0 = 10 uint8, 1 = 10 int8,
//                                          2 = 10 int32 little endian (the AI engine's
//                                          quantized MNIST model); fund the contract by
//                                          token.transfer to its address
//   predict(image bytes) -> u8             the model's digit for the image
//   claim(image bytes) -> u8               pays payout once per account if the digit
//                                          matches; reverts otherwise
import {
  args, ret, require, revert, caller, storageGet, storageSet, concat, utf8,
  u64Bytes, bytesU64, call, infer, Writer, Event, hex, u64String,
} from "../sdk";
export { alloc } from "../sdk";

const OWNER = utf8("owner");
const TOKEN = utf8("token");
const MODEL = utf8("model");
const DIGIT = utf8("digit");
const PAYOUT = utf8("payout");
const SCORES = utf8("scores");
const IMAGE_BYTES = 28 * 28;

export function init(ptr: usize, len: usize): void {
  require(storageGet(OWNER) === null, "already initialised");
  const a = args(ptr, len);
  storageSet(TOKEN, a.bytes());
  storageSet(MODEL, a.fixed(32));
  const digit = a.u8();
  require(digit < 10, "digit must be 0..9");
  storageSet(DIGIT, new Writer().u8(digit).finish());
  storageSet(PAYOUT, u64Bytes(a.u64()));
  const scores = a.u8();
  require(scores <= 2, "scores must be 0 (uint8), 1 (int8) or 2 (int32)");
  storageSet(SCORES, new Writer().u8(scores).finish());
  storageSet(OWNER, caller());
}

// argmax returns the index of the largest of 10 scores of the given type
// (0 uint8, 1 int8, 2 int32 little endian); the first wins a tie.
function argmax(out: Uint8Array, scores: u8): i32 {
  const size = scores == 2 ? 4 : 1;
  if (out.length != 10 * size) {
    revert("model output has " + out.length.toString() + " bytes, want " + (10 * size).toString());
  }
  let best = 0;
  let bestScore: i32 = 0;
  for (let i = 0; i < 10; i++) {
    let v: i32;
    if (scores == 0) v = <i32>out[i];
    else if (scores == 1) v = <i32><i8>out[i];
    else v = load<i32>(out.dataStart + <usize>(i * 4));
    if (i == 0 || v > bestScore) { best = i; bestScore = v; }
  }
  return best;
}

function classify(image: Uint8Array): i32 {
  require(image.length == IMAGE_BYTES, "image must be 28x28 = 784 bytes");
  const model = storageGet(MODEL);
  if (model === null) revert("not initialised");
  return argmax(infer(model!, image), storageGet(SCORES)![0]);
}

export function predict(ptr: usize, len: usize): void {
  ret(new Writer().u8(<u8>classify(args(ptr, len).bytes())).finish());
}

export function claim(ptr: usize, len: usize): void {
  const image = args(ptr, len).bytes();
  const who = caller();
  const claimedKey = concat(utf8("claimed/"), who);
  require(storageGet(claimedKey) === null, "already claimed");
  const digit = classify(image);
  const want = <i32>storageGet(DIGIT)![0];
  if (digit != want) revert("image classified as " + digit.toString() + ", expected " + want.toString());
  const payout = bytesU64(storageGet(PAYOUT));
  storageSet(claimedKey, u64Bytes(payout));
  call(storageGet(TOKEN)!, "transfer", new Writer().bytes(who).u64(payout).finish());
  new Event("payout").attr("to", hex(who)).attr("digit", digit.toString()).attr("amount", u64String(payout)).emit();
  ret(new Writer().u8(<u8>digit).finish());
}
