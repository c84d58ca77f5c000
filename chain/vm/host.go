package vm

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// hostFunc implements one import of module "xairrosx". It reads its
// arguments from stack and writes its results there (wazero's
// api.GoModuleFunc convention). It reports failures by panicking with an
// *Error, which wazero turns into the error of the wasm call.
type hostFunc func(x *execution, stack []uint64)

var hostFuncs = map[string]hostFunc{
	"return_data":  hostReturnData,
	"revert":       hostRevert,
	"read_result":  hostReadResult,
	"storage_get":  hostStorageGet,
	"storage_set":  hostStorageSet,
	"caller":       func(x *execution, s []uint64) { x.setResult(s, x.host.Caller()) },
	"self":         func(x *execution, s []uint64) { x.setResult(s, x.host.Self()) },
	"block_height": hostBlockHeight,
	"gas_left":     hostGasLeft,
	"emit":         hostEmit,
	"call":         hostCall,
	"infer":        hostInfer,
}

// instantiateHost registers module "xairrosx" in the engine's runtime.
func (e *Engine) instantiateHost(ctx context.Context) error {
	b := e.rt.NewHostModuleBuilder(ImportModule)
	for name, sig := range hostSigs {
		f, ok := hostFuncs[name]
		if !ok {
			return fmt.Errorf("host function %q has no implementation", name)
		}
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
				x, _ := ctx.Value(execKey{}).(*execution)
				if x == nil {
					panic(errorf(CodeHost, "host function %s called outside Execute", name))
				}
				for i, t := range sig.Params {
					if t == i32 { // i32 arguments arrive zero-extended; make sure
						stack[i] = uint64(uint32(stack[i]))
					}
				}
				x.charge(GasHostBase)
				f(x, stack)
			}), apiTypes(sig.Params), apiTypes(sig.Results)).
			Export(name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

func apiTypes(ts []wasmbin.ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// charge takes n gas from the execution, or stops it with CodeOutOfGas.
func (x *execution) charge(n uint64) {
	r := x.remaining()
	if r < 0 || n > uint64(r) {
		x.gas.Set(uint64(math.MaxUint64)) // -1: exhausted
		x.status.Set(statusOutOfGas)
		panic(errorf(CodeOutOfGas, "gas limit %d exhausted", x.limit))
	}
	x.gas.Set(uint64(r) - n)
}

// read copies n bytes at ptr out of the contract's memory; what names the
// argument in errors. It charges GasPerByte per byte and checks n <= limit.
func (x *execution) read(what string, ptr, n uint64, limit int) []byte {
	if n > uint64(limit) {
		panic(errorf(CodeHost, "%s: %d bytes is over the limit of %d bytes", what, n, limit))
	}
	x.charge(n * GasPerByte)
	b, ok := x.mod.Memory().Read(uint32(ptr), uint32(n))
	if !ok {
		panic(errorf(CodeHost, "%s: range [%d, %d+%d) is outside memory (%d bytes)", what, uint32(ptr), uint32(ptr), n, x.mod.Memory().Size()))
	}
	return append([]byte(nil), b...)
}

// setResult stores b in the result buffer (charging GasPerByte per byte) and
// returns its length in stack[0].
func (x *execution) setResult(stack []uint64, b []byte) {
	x.charge(uint64(len(b)) * GasPerByte)
	x.result = append(x.result[:0], b...)
	stack[0] = uint64(uint32(len(b)))
}

func hostReturnData(x *execution, s []uint64) {
	x.output = x.read("return_data", s[0], s[1], MaxOutputSize)
}

func hostRevert(x *execution, s []uint64) {
	msg := x.read("revert", s[0], min(s[1], maxRevertMsg), maxRevertMsg)
	panic(errorf(CodeRevert, "contract reverted: %q", strings.ToValidUTF8(string(msg), "\uFFFD")))
}

func hostReadResult(x *execution, s []uint64) {
	x.charge(uint64(len(x.result)) * GasPerByte)
	if !x.mod.Memory().Write(uint32(s[0]), x.result) {
		panic(errorf(CodeHost, "read_result: %d bytes at %d are outside memory (%d bytes)", len(x.result), uint32(s[0]), x.mod.Memory().Size()))
	}
}

func hostStorageGet(x *execution, s []uint64) {
	x.charge(GasStorageRead)
	key := x.read("storage_get key", s[0], s[1], MaxKeySize)
	v, err := x.host.Get(key)
	if err != nil {
		panic(errorf(CodeHost, "storage_get: %v", err))
	}
	if v == nil {
		x.result = x.result[:0]
		s[0] = uint64(math.MaxUint32) // -1: absent
		return
	}
	x.setResult(s, v)
}

func hostStorageSet(x *execution, s []uint64) {
	if s[1] > MaxKeySize || s[3] > MaxValueSize {
		panic(errorf(CodeHost, "storage_set: key of %d bytes or value of %d bytes over the limits of %d and %d bytes", s[1], s[3], MaxKeySize, MaxValueSize))
	}
	x.charge(GasStorageWrite + GasStorageByte*(s[1]+s[3]))
	key := x.read("storage_set key", s[0], s[1], MaxKeySize)
	val := x.read("storage_set value", s[2], s[3], MaxValueSize)
	if err := x.host.Set(key, val); err != nil {
		panic(errorf(CodeHost, "storage_set: %v", err))
	}
}

func hostBlockHeight(x *execution, s []uint64) {
	x.charge(GasBlockHeightGet)
	s[0] = uint64(x.host.BlockHeight())
}

func hostGasLeft(x *execution, s []uint64) {
	s[0] = uint64(max(x.remaining(), 0))
}

// hostEmit decodes attributes encoded as repeated
// (u32le key length, key, u32le value length, value).
func hostEmit(x *execution, s []uint64) {
	if s[1]+s[3] > MaxEventSize {
		panic(errorf(CodeHost, "emit: event of %d bytes is over the limit of %d bytes", s[1]+s[3], MaxEventSize))
	}
	x.charge(GasEmit)
	kind := x.read("emit kind", s[0], s[1], MaxEventSize)
	enc := x.read("emit attributes", s[2], s[3], MaxEventSize)
	if len(kind) == 0 {
		panic(errorf(CodeHost, "emit: empty event kind"))
	}
	attrs := map[string]string{}
	for p := 0; p < len(enc); {
		k, np, ok := lenPrefixed(enc, p)
		if !ok {
			panic(errorf(CodeHost, "emit: malformed attribute key at byte %d of %d", p, len(enc)))
		}
		v, np2, ok := lenPrefixed(enc, np)
		if !ok {
			panic(errorf(CodeHost, "emit: malformed attribute value at byte %d of %d", np, len(enc)))
		}
		if _, dup := attrs[string(k)]; dup {
			panic(errorf(CodeHost, "emit: duplicate attribute %q", k))
		}
		attrs[string(k)] = string(v)
		p = np2
	}
	if err := x.host.Emit(string(kind), attrs); err != nil {
		panic(errorf(CodeHost, "emit: %v", err))
	}
}

func lenPrefixed(b []byte, p int) ([]byte, int, bool) {
	if len(b)-p < 4 {
		return nil, 0, false
	}
	n := binary.LittleEndian.Uint32(b[p:])
	p += 4
	if uint64(n) > uint64(len(b)-p) {
		return nil, 0, false
	}
	return b[p : p+int(n)], p + int(n), true
}

// hostCall runs another contract. A gas argument <= 0 or above the gas left
// gives the callee all the gas left. A failing callee fails the caller with
// the callee's error code.
func hostCall(x *execution, s []uint64) {
	x.charge(GasCall)
	addr := x.read("call address", s[0], s[1], MaxKeySize)
	method := x.read("call method", s[2], s[3], maxMethodName)
	input := x.read("call input", s[4], s[5], MaxInputSize)
	if x.depth+1 > MaxContractDepth {
		panic(errorf(CodeCallDepth, "cross-contract call depth over the limit of %d", MaxContractDepth))
	}
	left := uint64(max(x.remaining(), 0))
	gas := s[6]
	if int64(gas) <= 0 || gas > left {
		gas = left
	}
	out, used, err := x.host.Call(addr, string(method), input, gas)
	x.charge(min(used, gas))
	if err != nil {
		where := fmt.Sprintf("call to %s.%s", hex.EncodeToString(addr), trunc(string(method)))
		var ve *Error
		if errors.As(err, &ve) {
			panic(&Error{Code: ve.Code, Msg: where + ": " + ve.Msg})
		}
		panic(errorf(CodeHost, "%s: %v", where, err))
	}
	if len(out) > MaxOutputSize {
		panic(errorf(CodeHost, "call output of %d bytes is over the limit of %d bytes", len(out), MaxOutputSize))
	}
	x.setResult(s, out)
}

func hostInfer(x *execution, s []uint64) {
	if s[1] != 32 {
		panic(errorf(CodeHost, "infer: model hash is %d bytes, want 32 (SHA-256)", s[1]))
	}
	x.charge(GasInfer + GasInferPerByte*min(s[3], MaxInputSize+1))
	model := x.read("infer model hash", s[0], s[1], 32)
	input := x.read("infer input", s[2], s[3], MaxInputSize)
	out, err := x.host.Infer(model, input)
	if err != nil {
		panic(errorf(CodeHost, "infer with model %s: %v", hex.EncodeToString(model), err))
	}
	if len(out) > MaxOutputSize {
		panic(errorf(CodeHost, "infer output of %d bytes is over the limit of %d bytes", len(out), MaxOutputSize))
	}
	x.charge(GasInferPerByte * uint64(len(out)))
	x.setResult(s, out)
}
