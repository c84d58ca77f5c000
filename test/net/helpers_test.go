package net_test

import (
	"path/filepath"
	"testing"

	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// buildImage builds the guest package pkg (relative to the repository root)
// into an image in a temporary directory, packing files (an absolute
// directory, or "") as its root file system.
func buildImage(t *testing.T, pkg, files string) string {
	t.Helper()
	root, err := image.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), filepath.Base(pkg)+".img")
	if _, err := image.Build(image.Options{Pkg: filepath.Join(root, pkg), Out: img, Root: root, Files: files}); err != nil {
		t.Fatal(err)
	}
	return img
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := qemu.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
