// Command aieval runs the AI engine's int8 MNIST model on 200 embedded test
// digits and prints the accuracy and the output hash, which must be the same
// on the host and inside a XairrosX guest.
package main

import (
	_ "embed"
	"fmt"
	"os"

	"github.com/xairrosx/xairrosx/ai/eval"
)

var (
	//go:embed model.onnx
	model []byte
	//go:embed digits.bin
	digits []byte
	//go:embed labels.bin
	labels []byte
)

func main() {
	images := make([][]byte, len(labels))
	for i := range images {
		images[i] = digits[i*784 : (i+1)*784]
	}
	r, err := eval.Images(model, images, labels, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aieval:", err)
		os.Exit(1)
	}
	fmt.Printf("images %d correct %d\n", r.N, r.Correct)
	fmt.Printf("hash %s\n", r.Hash)
}
