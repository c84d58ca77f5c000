// Command mnist8extract copies the ONNX-model-zoo MNIST-8 CNN out of the
// github.com/owulveryck/onnx-go v0.5.0 module (where it is a Go string
// literal in internal/examples/mnist/mnist_binary.go) into
// ai/testdata/mnist-8.onnx. It was run once; the output is committed.
//
//	go mod download github.com/owulveryck/onnx-go@v0.5.0
//	go run ./ai/internal/mnist8extract $(go env GOMODCACHE)/github.com/owulveryck/onnx-go@v0.5.0 ai/testdata/mnist-8.onnx
package main

import (
	"crypto/sha256"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mnist8extract ONNX_GO_MODULE_DIR OUT.onnx")
		os.Exit(2)
	}
	src := filepath.Join(os.Args[1], "internal/examples/mnist/mnist_binary.go")
	f, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var model []byte
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && len(lit.Value) > 1000 {
			s, err := strconv.Unquote(lit.Value)
			if err == nil {
				model = []byte(s)
			}
		}
		return true
	})
	if model == nil {
		fmt.Fprintln(os.Stderr, "no model literal found in", src)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], model, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d bytes, sha256 %x\n", os.Args[2], len(model), sha256.Sum256(model))
}
