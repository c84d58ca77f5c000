// Package drivers_test boots guest programs that use the drivers under
// drivers/ on XairrosX in QEMU, with virtio-blk and virtio-net devices
// attached, and checks what they did: the devices PCI enumeration found,
// the bytes the block driver read from and wrote to a disk file the test
// made, and a frame round trip through QEMU's user network.
package drivers_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// buildGuest builds the guest program in testdata/name into an image.
func buildGuest(t testing.TB, name string) string {
	t.Helper()
	root, err := image.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), name+".img")
	if _, err := image.Build(image.Options{Pkg: filepath.Join(root, "test/drivers/testdata", name), Out: img, Root: root}); err != nil {
		t.Fatal(err)
	}
	return img
}

// boot runs an image with extra QEMU arguments and returns its console
// output and result.
func boot(t testing.TB, img, machine string, extra ...string) (string, qemu.Result) {
	t.Helper()
	return bootArgs(t, img, machine, "", extra...)
}

// bootArgs is boot with arguments for the guest program.
func bootArgs(t testing.TB, img, machine, args string, extra ...string) (string, qemu.Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := qemu.Run(context.Background(), qemu.Config{
		Image:   img,
		Machine: machine,
		Mem:     256 << 20,
		Cmdline: "xairrosx.argv0=" + strings.TrimSuffix(filepath.Base(img), ".img") + " -- " + args,
		Timeout: 60 * time.Second,
		Stdout:  &out,
		Stderr:  os.Stderr,
		Extra:   extra,
	})
	if err != nil {
		t.Fatalf("qemu: %v\n%s", err, out.String())
	}
	return out.String(), res
}

// pattern is the byte at offset i of the test disk (the guest's copy of
// this function checks it).
func pattern(i int64) byte { return byte(i/512*13 + i%251) }

func makeDisk(t *testing.T, size int) string {
	disk := filepath.Join(t.TempDir(), "disk.raw")
	b := make([]byte, size)
	for i := range b {
		b[i] = pattern(int64(i))
	}
	if err := os.WriteFile(disk, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return disk
}

func TestDevices(t *testing.T) {
	img := buildGuest(t, "devices")
	for _, machine := range []string{"q35", "pc"} {
		t.Run(machine, func(t *testing.T) {
			const size = 1 << 20
			disk := makeDisk(t, size)
			out, res := boot(t, img, machine,
				"-device", "virtio-blk-pci,drive=d0",
				"-drive", "file="+disk+",if=none,id=d0,format=raw",
				"-device", "virtio-net-pci,netdev=n0",
				"-netdev", "user,id=n0",
			)
			if res.Status != 0 {
				t.Fatalf("guest status %d:\n%s", res.Status, out)
			}
			for _, want := range []string{
				"1af4:1001 class 0100", // transitional virtio-blk: mass storage
				"1af4:1000 class 0200", // transitional virtio-net: network
				"blk capacity 2048 sectors\n",
				"blk read 1048576 bytes, 0 differ from the pattern\n",
				"blk wrote 1024 bytes at 4096, read back equal: true\n",
				"blk unaligned read refused: true\n",
				"net mac 52:54:00:12:34:56 link up true\n",
				"net arp reply: 10.0.2.2 is at 52:55:0a:00:02:02 (to 52:54:00:12:34:56",
				"done\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			b, err := os.ReadFile(disk)
			if err != nil {
				t.Fatal(err)
			}
			const marker = "written by the XairrosX virtio-blk driver\n"
			m := bytes.Repeat([]byte(marker), 1024/len(marker)+1)[:1024]
			if !bytes.Equal(b[4096:4096+1024], m) {
				t.Errorf("disk file at 4096 holds %q, want the guest's marker", b[4096:4096+64])
			}
			for i := range b {
				if (i < 4096 || i >= 4096+1024) && b[i] != pattern(int64(i)) {
					t.Fatalf("disk byte %d changed to %#x (pattern %#x)", i, b[i], pattern(int64(i)))
				}
			}
		})
	}
}
