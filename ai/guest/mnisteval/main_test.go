package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/xairrosx/xairrosx/ai/eval"
	"github.com/xairrosx/xairrosx/ai/internal/mnist"
)

// TestGuestMatchesHostEval checks that the embedded workload computes the
// same output hash as the host-side eval of the committed model on the
// same digits from the GoMNIST module.
func TestGuestMatchesHostEval(t *testing.T) {
	committed, err := os.ReadFile("../../testdata/mnist-8-int8.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, model) {
		t.Fatal("the embedded model differs from ai/testdata/mnist-8-int8.onnx; copy it again")
	}
	guest, err := run()
	if err != nil {
		t.Fatal(err)
	}
	set, err := mnist.Test()
	if err != nil {
		t.Fatal(err)
	}
	host, err := eval.Images(committed, set.Images[:n], set.Labels[:n], nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("guest %d/%d correct, hash %s", guest.Correct, guest.N, guest.Hash)
	if guest.Hash != host.Hash || guest.Correct != host.Correct {
		t.Fatalf("guest hash %s (%d correct), host %s (%d correct)", guest.Hash, guest.Correct, host.Hash, host.Correct)
	}
}
