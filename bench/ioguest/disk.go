package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// diskImage makes the ext2 disk of the disk benchmark: a file "big" of mib
// MiB of random bytes (written on the host, so the guest reads it cold),
// made into a file system with room for the fsync file by mkfs.ext2 -d.
// Every boot gets a fresh image, made from the same directory.
type diskImage struct {
	dir, src string
	mib      int
	n        int
}

func newDiskImage(work string, mib int) (*diskImage, error) {
	d := &diskImage{dir: work, src: filepath.Join(work, "disk-root"), mib: mib}
	if err := os.MkdirAll(d.src, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(d.src, "big"))
	if err != nil {
		return nil, err
	}
	if _, err := io.CopyN(f, rand.Reader, int64(mib)<<20); err != nil {
		f.Close()
		return nil, err
	}
	return d, f.Close()
}

// mkfs returns the path of a fresh ext2 image.
func (d *diskImage) mkfs() (string, error) {
	d.n++
	img := filepath.Join(d.dir, fmt.Sprintf("disk%d.ext2", d.n))
	mkfs, err := findTool("mkfs.ext2")
	if err != nil {
		return "", err
	}
	os.Remove(filepath.Join(d.dir, fmt.Sprintf("disk%d.ext2", d.n-1)))
	size := fmt.Sprintf("%dM", d.mib+64)
	if out, err := exec.Command(mkfs, "-q", "-F", "-b", "4096", "-d", d.src, img, size).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mkfs.ext2: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return img, nil
}

// findTool finds a program on PATH or in the sbin directories, which a
// non-root PATH often lacks.
func findTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(dir, name); isExec(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (Debian package e2fsprogs; scripts/bench-io.sh installs it)", name)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// diskArgs attaches img as a virtio-blk disk with the cache mode of -disk-cache.
func diskArgs(img string) []string {
	return []string{"-drive", "file=" + img + ",if=none,id=data0,format=raw,cache=" + *diskCache,
		"-device", "virtio-blk-pci,drive=data0"}
}

// diskBench boots s with a fresh image mounted at /data (XairrosX:
// xairrosx.data=ext2; Linux: linuxinit mounts /dev/vda as ext2) and runs
// "guest disk /data". Keys: seqread-MBps, fsync-per-s.
func diskBench(s *side, d *diskImage) (map[string]float64, map[string]string, error) {
	img, err := d.mkfs()
	if err != nil {
		return nil, nil, err
	}
	g, err := start(s, map[string]string{"data": "ext2"}, []string{"disk", "/data"}, diskArgs(img), 5*time.Minute)
	if err != nil {
		return nil, nil, err
	}
	return g.wait()
}

// rawBench boots s with a fresh image and nothing mounted, and runs "guest
// raw". Key: raw-MBps.
func rawBench(s *side, d *diskImage) (map[string]float64, map[string]string, error) {
	img, err := d.mkfs()
	if err != nil {
		return nil, nil, err
	}
	g, err := start(s, nil, []string{"raw"}, diskArgs(img), 5*time.Minute)
	if err != nil {
		return nil, nil, err
	}
	return g.wait()
}
