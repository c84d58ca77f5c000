package contracts_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/xairrosx/xairrosx/chain/contracts"
	"github.com/xairrosx/xairrosx/chain/vm"
	"github.com/xairrosx/xairrosx/chain/vm/vmtest"
)

// The contracts are compiled once per test binary: the examples and the
// bad contracts under testdata.
var (
	buildOnce sync.Once
	built     map[string][]byte
	buildErr  error
)

var testdataSpecs = []string{
	"testdata/float.ts",
	"testdata/badimport.ts",
	"testdata/hostile.ts",
	"testdata/simd.ts,--enable,simd",
	"testdata/atomics.ts,--enable,threads",
}

// wasm returns the compiled contract name (token, hostile, ...).
func wasm(t testing.TB, name string) []byte {
	t.Helper()
	buildOnce.Do(func() {
		specs := append([]string{"token/token.ts", "registry/registry.ts", "aigate/aigate.ts"}, testdataSpecs...)
		built, buildErr = contracts.Compile(specs...)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	b, ok := built[name]
	if !ok {
		t.Fatalf("contract %s was not built", name)
	}
	return b
}

var cfg = vm.Config{}

// engines runs f once with the interpreter and once with the compiler.
func engines(t *testing.T, f func(t *testing.T, e *vm.Engine)) {
	for _, comp := range []bool{false, true} {
		name := "interpreter"
		if comp {
			name = "compiler"
		}
		t.Run(name, func(t *testing.T) {
			c := cfg
			c.Compiler = comp
			e, err := vm.NewEngine(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(context.Background())
			if comp && !e.Compiler() && vm.CompilerSupported() {
				t.Fatal("compiler requested and supported but not used")
			}
			f(t, e)
		})
	}
}

var (
	alice  = []byte("alice-address-0000000")
	bob    = []byte("bob-address-000000000")
	carol  = []byte("carol-address-0000000")
	token  = []byte("contract/token")
	reg    = []byte("contract/registry")
	gate   = []byte("contract/aigate")
	gasCap = uint64(10_000_000)
)

// call runs a method and fails the test on error.
func call(t *testing.T, c *vmtest.Chain, from, contract []byte, method string, input []byte) []byte {
	t.Helper()
	res, err := c.Call(from, contract, method, input, gasCap)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if res.GasUsed == 0 || res.GasUsed >= gasCap {
		t.Fatalf("%s: gas used %d", method, res.GasUsed)
	}
	return res.Output
}

// fail runs a method that must fail with code and a message containing msg,
// and checks that the contract's storage did not change.
func fail(t *testing.T, c *vmtest.Chain, from, contract []byte, method string, input []byte, code vm.Code, msg string) {
	t.Helper()
	before := fmt.Sprint(c.Storage)
	nev := len(c.Events)
	_, err := c.Call(from, contract, method, input, gasCap)
	var ve *vm.Error
	if !errors.As(err, &ve) || ve.Code != code || !strings.Contains(ve.Msg, msg) {
		t.Fatalf("%s: got error %v, want code %v with %q", method, err, code, msg)
	}
	if fmt.Sprint(c.Storage) != before || len(c.Events) != nev {
		t.Fatalf("%s: failed call changed state", method)
	}
}

func u64(t *testing.T, b []byte) uint64 {
	t.Helper()
	if len(b) != 8 {
		t.Fatalf("output %x is not a u64", b)
	}
	return binary.LittleEndian.Uint64(b)
}

func balance(t *testing.T, c *vmtest.Chain, who []byte) uint64 {
	return u64(t, call(t, c, alice, token, "balance", contracts.Enc().Bytes(who).Done()))
}

func deploy(t *testing.T, c *vmtest.Chain, addr []byte, name string) {
	t.Helper()
	if err := c.Deploy(addr, wasm(t, name), cfg); err != nil {
		t.Fatalf("deploy %s: %v", name, err)
	}
}

func TestExamplesPrepare(t *testing.T) {
	for _, name := range contracts.Examples {
		raw := wasm(t, name)
		a, err := vm.Prepare(raw, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := vm.Prepare(raw, cfg)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: Prepare is not deterministic", name)
		}
		t.Logf("%s: %d bytes of wasm, %d bytes prepared", name, len(raw), len(a))
	}
}

func TestToken(t *testing.T) {
	engines(t, func(t *testing.T, e *vm.Engine) {
		c := vmtest.NewChain(e)
		deploy(t, c, token, "token")
		call(t, c, alice, token, "init", nil)
		fail(t, c, bob, token, "init", nil, vm.CodeRevert, "already initialised")
		fail(t, c, bob, token, "mint", contracts.Enc().Bytes(bob).U64(5).Done(), vm.CodeRevert, "only the owner can mint")
		call(t, c, alice, token, "mint", contracts.Enc().Bytes(bob).U64(1000).Done())
		call(t, c, bob, token, "transfer", contracts.Enc().Bytes(carol).U64(300).Done())
		if b, cb := balance(t, c, bob), balance(t, c, carol); b != 700 || cb != 300 {
			t.Fatalf("balances bob %d carol %d, want 700 300", b, cb)
		}
		fail(t, c, carol, token, "transfer", contracts.Enc().Bytes(bob).U64(301).Done(), vm.CodeRevert, "insufficient balance")
		fail(t, c, carol, token, "transfer", contracts.Enc().Bytes(bob).Done(), vm.CodeRevert, "input too short")
		// allowance
		call(t, c, bob, token, "approve", contracts.Enc().Bytes(carol).U64(50).Done())
		fail(t, c, carol, token, "transfer_from", contracts.Enc().Bytes(bob).Bytes(carol).U64(51).Done(), vm.CodeRevert, "allowance exceeded")
		call(t, c, carol, token, "transfer_from", contracts.Enc().Bytes(bob).Bytes(carol).U64(50).Done())
		if b, cb := balance(t, c, bob), balance(t, c, carol); b != 650 || cb != 350 {
			t.Fatalf("balances bob %d carol %d, want 650 350", b, cb)
		}
		if s := u64(t, call(t, c, bob, token, "total_supply", nil)); s != 1000 {
			t.Fatalf("supply %d", s)
		}
		last := c.Events[len(c.Events)-1]
		want := map[string]string{"from": fmt.Sprintf("%x", bob), "to": fmt.Sprintf("%x", carol), "amount": "50"}
		if last.Kind != "transfer" || !reflect.DeepEqual(last.Attrs, want) {
			t.Fatalf("last event %+v, want transfer %v", last, want)
		}
		fail(t, c, bob, token, "nosuch", nil, vm.CodeNoMethod, "nosuch")
		fail(t, c, bob, token, "alloc", nil, vm.CodeNoMethod, "alloc")
	})
}

// fundedRegistry deploys token and registry (fee 25) and gives bob 100 tokens.
func fundedRegistry(t *testing.T, e *vm.Engine) *vmtest.Chain {
	c := vmtest.NewChain(e)
	deploy(t, c, token, "token")
	deploy(t, c, reg, "registry")
	call(t, c, alice, token, "init", nil)
	call(t, c, alice, token, "mint", contracts.Enc().Bytes(bob).U64(100).Done())
	call(t, c, alice, reg, "init", contracts.Enc().Bytes(token).U64(25).Done())
	return c
}

func TestRegistry(t *testing.T) {
	engines(t, func(t *testing.T, e *vm.Engine) {
		c := fundedRegistry(t, e)
		name := contracts.Enc().String("bob-42").Done()
		// No allowance yet: the token's revert fails the registration, and
		// the whole call is rolled back.
		fail(t, c, bob, reg, "register", name, vm.CodeRevert, "allowance exceeded")
		fail(t, c, bob, reg, "resolve", name, vm.CodeRevert, "name not registered")
		call(t, c, bob, token, "approve", contracts.Enc().Bytes(reg).U64(60).Done())
		fail(t, c, bob, reg, "register", contracts.Enc().String("Bob!").Done(), vm.CodeRevert, "invalid name")
		call(t, c, bob, reg, "register", name)
		if got := call(t, c, carol, reg, "resolve", name); !bytes.Equal(got, bob) {
			t.Fatalf("resolve = %q, want %q", got, bob)
		}
		fail(t, c, carol, reg, "register", name, vm.CodeRevert, "already registered")
		if b, r := balance(t, c, bob), balance(t, c, reg); b != 75 || r != 25 {
			t.Fatalf("balances bob %d registry %d, want 75 25", b, r)
		}
		fail(t, c, carol, reg, "transfer", contracts.Enc().String("bob-42").Bytes(carol).Done(), vm.CodeRevert, "only the name's owner")
		call(t, c, bob, reg, "transfer", contracts.Enc().String("bob-42").Bytes(carol).Done())
		if got := call(t, c, alice, reg, "resolve", name); !bytes.Equal(got, carol) {
			t.Fatalf("after transfer resolve = %q, want %q", got, carol)
		}
		fail(t, c, bob, reg, "withdraw", contracts.Enc().Bytes(bob).U64(25).Done(), vm.CodeRevert, "only the registry owner")
		call(t, c, alice, reg, "withdraw", contracts.Enc().Bytes(alice).U64(25).Done())
		if a, r := balance(t, c, alice), balance(t, c, reg); a != 25 || r != 0 {
			t.Fatalf("after withdraw alice %d registry %d, want 25 0", a, r)
		}
	})
}

// Fake model until the AI engine's int8 path is wired in: the model bytes
// are ten 28x28 templates and the output is one int8 score per digit,
// the template's overlap with the image scaled into -128..127. The
// contract only sees hash -> bytes-in/bytes-out, as with the real engine.
func fakeModel() []byte {
	m := make([]byte, 10*784)
	for d := 0; d < 10; d++ {
		for i := 0; i < 784; i++ {
			if (i*7+d*131)%10 < 3 { // a distinct sparse pattern per digit
				m[d*784+i] = 255
			}
		}
	}
	return m
}

func fakeScores(model, image []byte) []int32 {
	s := make([]int32, 10)
	for d := 0; d < 10; d++ {
		for i := 0; i < 784; i++ {
			s[d] += int32(model[d*784+i]>>4) * int32(image[i]>>4)
		}
	}
	return s
}

func inferInt8(model, image []byte) ([]byte, error) {
	if len(model) != 7840 || len(image) != 784 {
		return nil, fmt.Errorf("fake model: bad sizes %d %d", len(model), len(image))
	}
	out := make([]byte, 10)
	for d, v := range fakeScores(model, image) {
		out[d] = byte(int8(v/64 - 128))
	}
	return out, nil
}

// digitImage returns the template of digit d with some pixels changed.
func digitImage(model []byte, d int) []byte {
	img := append([]byte(nil), model[d*784:(d+1)*784]...)
	for i := 0; i < 784; i += 37 {
		img[i] ^= 0x80
	}
	return img
}

func TestAIGate(t *testing.T) {
	engines(t, func(t *testing.T, e *vm.Engine) { testAIGate(t, e) })
}

// testAIGate runs the payout contract with the fake int8 model.
func testAIGate(t *testing.T, e *vm.Engine) {
	c := vmtest.NewChain(e)
	c.InferFunc = inferInt8
	model := fakeModel()
	h := c.RegisterModel(model)
	deploy(t, c, token, "token")
	deploy(t, c, gate, "aigate")
	call(t, c, alice, token, "init", nil)
	call(t, c, alice, token, "mint", contracts.Enc().Bytes(gate).U64(1000).Done())
	fail(t, c, alice, gate, "init", contracts.Enc().Bytes(token).Raw(h[:]).U8(12).U64(10).U8(1).Done(), vm.CodeRevert, "digit must be 0..9")
	fail(t, c, alice, gate, "init", contracts.Enc().Bytes(token).Raw(h[:]).U8(7).U64(10).U8(3).Done(), vm.CodeRevert, "scores must be")
	call(t, c, alice, gate, "init", contracts.Enc().Bytes(token).Raw(h[:]).U8(7).U64(100).U8(1).Done())

	for d := 0; d < 10; d++ {
		got := call(t, c, bob, gate, "predict", contracts.Enc().Bytes(digitImage(model, d)).Done())
		if len(got) != 1 || int(got[0]) != d {
			t.Fatalf("predict(image of %d) = %v", d, got)
		}
	}
	fail(t, c, bob, gate, "claim", contracts.Enc().Bytes(digitImage(model, 3)).Done(), vm.CodeRevert, "image classified as 3, expected 7")
	fail(t, c, bob, gate, "claim", contracts.Enc().Bytes(make([]byte, 100)).Done(), vm.CodeRevert, "784 bytes")
	if got := call(t, c, bob, gate, "claim", contracts.Enc().Bytes(digitImage(model, 7)).Done()); !bytes.Equal(got, []byte{7}) {
		t.Fatalf("claim output %v", got)
	}
	fail(t, c, bob, gate, "claim", contracts.Enc().Bytes(digitImage(model, 7)).Done(), vm.CodeRevert, "already claimed")
	if b, g := balance(t, c, bob), balance(t, c, gate); b != 100 || g != 900 {
		t.Fatalf("balances bob %d gate %d, want 100 900", b, g)
	}
	// An unknown model is a host error, not a payout.
	c2 := vmtest.NewChain(e)
	c2.InferFunc = inferInt8
	deploy(t, c2, gate, "aigate")
	call(t, c2, alice, gate, "init", contracts.Enc().Bytes(token).Raw(make([]byte, 32)).U8(7).U64(100).U8(1).Done())
	fail(t, c2, bob, gate, "claim", contracts.Enc().Bytes(digitImage(model, 7)).Done(), vm.CodeHost, "unknown model")
}

func TestRejectedContracts(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"float", "opcode 0xba (f64.convert_i64_u)"},
		{"simd", "(SIMD) at byte offset"},
		{"atomics", "(atomic) at byte offset"},
		{"badimport", `import 0 "env"."seed"`},
	} {
		_, err := vm.Prepare(wasm(t, tc.name), cfg)
		var ve *vm.Error
		if !errors.As(err, &ve) || ve.Code != vm.CodeInvalidModule || !strings.Contains(ve.Msg, tc.want) {
			t.Errorf("%s: got %v, want invalid module with %q", tc.name, err, tc.want)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
	}
}

func TestHostileContract(t *testing.T) {
	engines(t, func(t *testing.T, e *vm.Engine) {
		c := vmtest.NewChain(e)
		h := []byte("contract/hostile")
		deploy(t, c, h, "hostile")
		for _, tc := range []struct {
			method string
			input  []byte
			gas    uint64
			code   vm.Code
			msg    string
		}{
			{"spin", nil, 2_000_000, vm.CodeOutOfGas, "gas limit 2000000"},
			{"membomb", nil, 1 << 40, vm.CodeMemoryLimit, "256 pages"},
			{"allocbomb", nil, 1 << 40, vm.CodeMemoryLimit, "256 pages"},
			{"membomb", nil, 100_000, vm.CodeOutOfGas, "gas limit"},
			{"recurse", contracts.Enc().U64(1_000_000).Done(), 1 << 40, vm.CodeCallDepth, "call depth"},
			{"reenter", nil, 1 << 40, vm.CodeCallDepth, "cross-contract call depth"},
			{"write", contracts.Enc().U64(1 << 40).Done(), 1_000_000, vm.CodeOutOfGas, "gas limit"},
			{"divzero", contracts.Enc().U64(0).Done(), 1_000_000, vm.CodeTrap, "divide by zero"},
		} {
			res, err := c.Call(alice, h, tc.method, tc.input, tc.gas)
			var ve *vm.Error
			if !errors.As(err, &ve) || ve.Code != tc.code || !strings.Contains(ve.Msg, tc.msg) {
				t.Errorf("%s: got %v, want code %v with %q", tc.method, err, tc.code, tc.msg)
				continue
			}
			if tc.code == vm.CodeOutOfGas && res.GasUsed != tc.gas {
				t.Errorf("%s: out of gas used %d, want the limit %d", tc.method, res.GasUsed, tc.gas)
			}
			if len(c.Keys(h)) != 0 {
				t.Errorf("%s: failed call left storage %v", tc.method, c.Keys(h))
			}
		}
		// Within the limits the same methods work.
		if out := call(t, c, alice, h, "recurse", contracts.Enc().U64(100).Done()); u64(t, out) != 100 {
			t.Fatalf("recurse(100) = %d", u64(t, out))
		}
		call(t, c, alice, h, "write", contracts.Enc().U64(3).Done())
		if len(c.Keys(h)) != 3 {
			t.Fatalf("write(3) stored %d keys", len(c.Keys(h)))
		}
	})
}

// TestEnginesAgree replays one sequence of calls on the interpreter and the
// compiler: outputs, errors, gas, storage and events must be identical.
func TestEnginesAgree(t *testing.T) {
	run := func(comp bool) string {
		e, err := vm.NewEngine(context.Background(), vm.Config{Compiler: comp})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close(context.Background())
		c := fundedRegistry(t, e)
		c.InferFunc = inferInt8
		h := c.RegisterModel(fakeModel())
		deploy(t, c, gate, "aigate")
		deploy(t, c, []byte("hostile"), "hostile")
		var log strings.Builder
		step := func(from, contract []byte, method string, input []byte, gas uint64) {
			res, err := c.Call(from, contract, method, input, gas)
			fmt.Fprintf(&log, "%s %x %d %v\n", method, res.Output, res.GasUsed, err)
		}
		step(bob, token, "approve", contracts.Enc().Bytes(reg).U64(60).Done(), gasCap)
		step(bob, reg, "register", contracts.Enc().String("x").Done(), gasCap)
		step(bob, reg, "register", contracts.Enc().String("x").Done(), gasCap)
		step(alice, gate, "init", contracts.Enc().Bytes(token).Raw(h[:]).U8(2).U64(5).U8(1).Done(), gasCap)
		step(alice, token, "mint", contracts.Enc().Bytes(gate).U64(10).Done(), gasCap)
		step(carol, gate, "claim", contracts.Enc().Bytes(digitImage(fakeModel(), 2)).Done(), gasCap)
		step(alice, []byte("hostile"), "spin", nil, 123_457)
		step(alice, []byte("hostile"), "allocbomb", nil, 1<<40)
		step(alice, []byte("hostile"), "recurse", contracts.Enc().U64(200).Done(), gasCap)
		step(alice, []byte("hostile"), "recurse", contracts.Enc().U64(1_000_000).Done(), gasCap)
		step(alice, []byte("hostile"), "divzero", contracts.Enc().U64(0).Done(), gasCap)
		step(alice, []byte("hostile"), "reenter", nil, gasCap)
		fmt.Fprintf(&log, "%v\n%v\n", c.Storage, c.Events)
		return log.String()
	}
	a, b := run(false), run(true)
	if a != b {
		t.Fatalf("interpreter and compiler differ:\n%s\n---\n%s", a, b)
	}
}
