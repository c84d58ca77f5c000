// Package contracts holds the XairrosX contract SDK for AssemblyScript
// (sdk/), the example contracts (token/, registry/, aigate/), their build
// script (build.mjs, build.sh) and, in Go, the two things a client needs to
// use them: Build, which compiles AssemblyScript sources with the npm
// assemblyscript toolchain installed by scripts/deps-contracts.sh, and
// Encoder, which produces method inputs in the SDK's encoding.
package contracts

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Examples are the example contracts that Build compiles by default.
var Examples = []string{"token", "registry", "aigate"}

// Dir returns the directory of this package's sources (sdk/, build.mjs).
func Dir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("contracts: cannot locate the package directory")
	}
	return filepath.Dir(file), nil
}

// Build compiles AssemblyScript contracts into outDir (one <name>.wasm per
// source) by running build.mjs with Node. specs are build.mjs arguments
// (SOURCE.ts or SOURCE.ts,FLAG,...; paths relative to Dir); none builds
// the Examples.
func Build(outDir string, specs ...string) error {
	dir, err := Dir()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "assemblyscript", "package.json")); err != nil {
		return fmt.Errorf("contracts: AssemblyScript is not installed in %s/node_modules; run scripts/deps-contracts.sh", dir)
	}
	cmd := exec.Command("node", append([]string{filepath.Join(dir, "build.mjs"), outDir}, specs...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("contracts: build %v: %v\n%s", specs, err, out)
	}
	return nil
}

// Compile builds specs (as Build; none builds the Examples) in a temporary
// directory and returns each module by source base name ("token", ...).
func Compile(specs ...string) (map[string][]byte, error) {
	dir, err := os.MkdirTemp("", "xairrosx-contracts-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := Build(dir, specs...); err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		for _, e := range Examples {
			specs = append(specs, e+"/"+e+".ts")
		}
	}
	out := make(map[string][]byte, len(specs))
	for _, spec := range specs {
		name := strings.TrimSuffix(filepath.Base(strings.SplitN(spec, ",", 2)[0]), ".ts")
		if out[name], err = os.ReadFile(filepath.Join(dir, name+".wasm")); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Encoder builds a method input in the SDK encoding: u8 as one byte, u32
// and u64 little endian, byte strings and strings as a u32 little-endian
// length and the bytes.
type Encoder struct{ buf []byte }

// U8 appends one byte.
func (e *Encoder) U8(v uint8) *Encoder { e.buf = append(e.buf, v); return e }

// U64 appends v as 8 bytes little endian.
func (e *Encoder) U64(v uint64) *Encoder {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, v)
	return e
}

// Bytes appends a length-prefixed byte string.
func (e *Encoder) Bytes(b []byte) *Encoder {
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(b)))
	e.buf = append(e.buf, b...)
	return e
}

// String appends a length-prefixed UTF-8 string.
func (e *Encoder) String(s string) *Encoder { return e.Bytes([]byte(s)) }

// Raw appends bytes without a length (fixed-size fields such as a model hash).
func (e *Encoder) Raw(b []byte) *Encoder { e.buf = append(e.buf, b...); return e }

// Done returns the encoded input.
func (e *Encoder) Done() []byte { return e.buf }

// Enc starts an input.
func Enc() *Encoder { return &Encoder{} }
