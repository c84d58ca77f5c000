package vfs

import (
	"math/rand"
	"strings"
	"testing"
)

// TestRandomPaths runs checkPath on 30000 paths drawn from the names of
// the newPathFS tree (a fixed seed, so failures reproduce).
func TestRandomPaths(t *testing.T) {
	toks := []string{"a", "b", "..", ".", "m", "d", "loop", "self", "up", "abs", "rel", "tom", "file", "", "x"}
	r := rand.New(rand.NewSource(1))
	fs := newPathFS()
	for i := 0; i < 30000; i++ {
		n := r.Intn(6) + 1
		var parts []string
		for j := 0; j < n; j++ {
			parts = append(parts, toks[r.Intn(len(toks))])
		}
		p := strings.Join(parts, "/")
		if r.Intn(2) == 0 {
			p += "/"
		}
		checkPath(t, fs, p)
	}
}
