//go:build !linux

package arena

func newArena(size int) (*Arena, error) { return &Arena{mem: make([]byte, size)}, nil }
