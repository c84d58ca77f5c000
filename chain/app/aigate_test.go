package app_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/contracts"
	"github.com/xairrosx/xairrosx/chain/tx"
)

// argmax10 decodes ten scores of the given dtype and returns the best digit.
func argmax10(t *testing.T, out []byte, dtype string) int {
	size := map[string]int{"uint8": 1, "int8": 1, "int32": 4}[dtype]
	if size == 0 || len(out) != 10*size {
		t.Fatalf("model output %d bytes of %s", len(out), dtype)
	}
	best, bestV := 0, int64(0)
	for i := range 10 {
		var v int64
		switch dtype {
		case "uint8":
			v = int64(out[i])
		case "int8":
			v = int64(int8(out[i]))
		default:
			v = int64(int32(binary.LittleEndian.Uint32(out[4*i:])))
		}
		if i == 0 || v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// stroke draws a 28x28 image: a vertical bar, or a bar with a top bar.
func stroke(top bool) []byte {
	img := make([]byte, 28*28)
	for y := 4; y < 24; y++ {
		for x := 13; x < 16; x++ {
			img[y*28+x] = 255
		}
	}
	if top {
		for y := 4; y < 7; y++ {
			for x := 6; x < 22; x++ {
				img[y*28+x] = 255
			}
		}
	}
	return img
}

// TestAIGatedPayout runs the AI-gated example contract on the chain with the
// AI engine's real quantized MNIST model: every node runs ai/infer.RunInt8
// inside the contract call, and the token pays out only for an image that
// the model classifies as the contract's digit.
func TestAIGatedPayout(t *testing.T) {
	model, err := os.ReadFile(filepath.Join("..", "..", "ai", "testdata", "mnist-8-int8.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := infer.Inspect(model)
	if err != nil {
		t.Fatal(err)
	}
	img := stroke(false)
	out, err := infer.RunInt8(model, img)
	if err != nil {
		t.Fatal(err)
	}
	digit := argmax10(t, out, spec.OutputDType)
	other := stroke(true)
	outOther, _ := infer.RunInt8(model, other)
	if argmax10(t, outOther, spec.OutputDType) == digit {
		other = make([]byte, 28*28) // a blank image, if the two strokes agree
		outOther, _ = infer.RunInt8(model, other)
		if argmax10(t, outOther, spec.OutputDType) == digit {
			t.Fatal("the model gives the same class to a stroke, a stroke with a bar and a blank image")
		}
	}

	c := newChain(t, app.Config{Infer: infer.RunInt8, CheckModel: func(m []byte) error { _, err := infer.Inspect(m); return err }})
	if r := c.one(alice, &tx.Tx{Kind: tx.KindRegisterModel, Code: model}); r.Code != 0 {
		t.Fatalf("register: %s", r.Log)
	}
	deploy := func(name string) tx.Address {
		r := c.one(alice, &tx.Tx{Kind: tx.KindDeploy, Code: wasm(t, name)})
		if r.Code != 0 {
			t.Fatalf("deploy %s: %s", name, r.Log)
		}
		var a tx.Address
		copy(a[:], r.Data)
		return a
	}
	token, gate := deploy("token"), deploy("aigate")
	call := func(priv ed25519.PrivateKey, to tx.Address, method string, input []byte) (uint32, []byte, string) {
		r := c.one(priv, &tx.Tx{Kind: tx.KindCall, To: to, Method: method, Input: input, GasLimit: 50_000_000})
		return r.Code, r.Data, r.Log
	}
	scores := map[string]uint8{"uint8": 0, "int8": 1, "int32": 2}[spec.OutputDType]
	sum := sha256.Sum256(model)
	for _, s := range []struct {
		to     tx.Address
		method string
		input  []byte
	}{
		{token, "init", nil},
		{token, "mint", contracts.Enc().Bytes(gate.Bytes()).U64(1000).Done()},
		{gate, "init", contracts.Enc().Bytes(token.Bytes()).Raw(sum[:]).U8(uint8(digit)).U64(40).U8(scores).Done()},
	} {
		if code, _, log := call(alice, s.to, s.method, s.input); code != 0 {
			t.Fatalf("%s: %s", s.method, log)
		}
	}
	if code, _, log := call(bob, gate, "claim", contracts.Enc().Bytes(other).Done()); code != uint32(tx.CodeContractFailed) || !bytes.Contains([]byte(log), []byte("expected")) {
		t.Fatalf("claim with the wrong digit: code %d %s", code, log)
	}
	code, data, log := call(bob, gate, "claim", contracts.Enc().Bytes(img).Done())
	if code != 0 || !bytes.Equal(data, []byte{byte(digit)}) {
		t.Fatalf("claim: code %d %x %s", code, data, log)
	}
	v, _ := c.app.Store().Get(app.StorageKey(token[:], append([]byte("b/"), addr(bob).Bytes()...)))
	if len(v) != 8 || binary.LittleEndian.Uint64(v) != 40 {
		t.Fatalf("bob's token balance %x, want 40", v)
	}
}
