// Command mnisteval is a self-contained workload for the XairrosX kernel:
// it embeds the int8 MNIST-8 model and the first 100 MNIST test digits,
// evaluates them and prints the accuracy and the output hash. Built as a
// stock GOOS=linux program it runs on the host and, unchanged, under
// `xairrosx run`; both must print the same hash, which is also what
// `xairrosx ai eval -model ai/testdata/mnist-8-int8.onnx -n 100` prints.
//
// digits.bin holds 100 records of one label byte followed by 784 pixel
// bytes; regenerate it with `go run ./ai/guest/mnisteval -write-digits`.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"os"

	"github.com/xairrosx/xairrosx/ai/eval"
	"github.com/xairrosx/xairrosx/ai/internal/mnist"
	"github.com/xairrosx/xairrosx/ai/kernels"
)

//go:embed mnist-8-int8.onnx
var model []byte

//go:embed digits.bin
var digits []byte

const n, size = 100, 28 * 28

func main() {
	write := flag.Bool("write-digits", false, "write digits.bin from the GoMNIST module and exit")
	flag.Parse()
	if *write {
		if err := writeDigits(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	res, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mnisteval:", err)
		os.Exit(1)
	}
	_, impl := kernels.Current()
	fmt.Printf("kernels     int8 %v\n", impl)
	fmt.Printf("images      %d\naccuracy    %.2f%% (%d correct)\noutput hash %s\n", res.N, res.Accuracy(), res.Correct, res.Hash)
}

func run() (*eval.Result, error) {
	if len(digits) != n*(1+size) {
		return nil, fmt.Errorf("digits.bin has %d bytes, want %d", len(digits), n*(1+size))
	}
	images := make([][]byte, n)
	labels := make([]byte, n)
	for i := 0; i < n; i++ {
		rec := digits[i*(1+size) : (i+1)*(1+size)]
		labels[i], images[i] = rec[0], rec[1:]
	}
	return eval.Images(model, images, labels, nil)
}

func writeDigits() error {
	dir, err := mnist.Dir()
	if err != nil {
		return err
	}
	set, err := mnist.LoadTest(dir)
	if err != nil {
		return err
	}
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, set.Labels[i])
		b = append(b, set.Images[i]...)
	}
	return os.WriteFile("ai/guest/mnisteval/digits.bin", b, 0o644)
}
