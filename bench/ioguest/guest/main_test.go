package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadAll(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	// Not a multiple of the read size: the last read is short.
	if err := os.WriteFile(p, []byte(strings.Repeat("xairrosx", 300_001)), 0o644); err != nil {
		t.Fatal(err)
	}
	mbps, err := readAll(p, 1<<20, 0)
	if err != nil || mbps <= 0 {
		t.Errorf("readAll: %v MB/s, %v", mbps, err)
	}
	if _, err := readAll(filepath.Join(t.TempDir(), "missing"), 1<<20, 0); err == nil {
		t.Error("readAll of a missing file: no error")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o644)
	if _, err := readAll(empty, 1<<20, 0); err == nil || !strings.Contains(err.Error(), "nothing to read") {
		t.Errorf("readAll of an empty file: %v", err)
	}
}
