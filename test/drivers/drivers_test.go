// Package drivers_test boots guest programs that use the drivers under
// drivers/ on XairrosX in QEMU, with virtio-blk and virtio-net devices
// attached, and checks what they did: the devices PCI enumeration found,
// the bytes the block driver read from and wrote to a disk file the test
// made, and a frame round trip through QEMU's user network.
package drivers_test

import (
	"bytes"
	"context"
	"fmt"
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
	return bootOpts(t, img, machine, "", args, extra...)
}

// bootOpts is bootArgs with kernel options (words before "--").
func bootOpts(t testing.TB, img, machine, kopts, args string, extra ...string) (string, qemu.Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := qemu.Run(context.Background(), qemu.Config{
		Image:   img,
		Machine: machine,
		Mem:     256 << 20,
		Cmdline: "xairrosx.argv0=" + strings.TrimSuffix(filepath.Base(img), ".img") + " " + kopts + " -- " + args,
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

// TestDevices boots the devices guest with two virtio-blk disks of
// different sizes (one transitional, one modern-only) and a virtio-net NIC,
// all working at once, in each interrupt configuration: on q35 and pc the
// kernel routes interrupts through the I/O APIC and the virtio PCI functions
// signal MSI-X messages; with xairrosx.irq=pic (8259 PICs, no MSI) they
// share legacy INTx lines (SeaBIOS routes the three functions to lines 10,
// 11 and 11), which the test requires; on microvm the disks and NIC are
// virtio-mmio devices whose interrupts come through the I/O APIC.
func TestDevices(t *testing.T) {
	img := buildGuest(t, "devices")
	for _, c := range []struct {
		name, machine, kopts, args string
		dev                        string // QEMU device suffix: -pci or -device
	}{
		{"q35", "q35", "", "", "-pci"},
		{"pc", "pc", "", "", "-pci"},
		{"pc-pic", "pc", "xairrosx.irq=pic", "", "-pci"},
		{"microvm", "microvm", "", "-mmio", "-device"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sizes := []int{1 << 20, 256 << 10}
			disks := []string{makeDisk(t, sizes[0]), makeDisk(t, sizes[1])}
			extra := []string{
				"-device", "virtio-blk" + c.dev + ",drive=d0",
				"-drive", "file=" + disks[0] + ",if=none,id=d0,format=raw",
				"-device", "virtio-net" + c.dev + ",netdev=n0",
				"-netdev", "user,id=n0",
				"-device", "virtio-blk" + c.dev + ",drive=d1",
				"-drive", "file=" + disks[1] + ",if=none,id=d1,format=raw",
			}
			if c.dev == "-pci" {
				extra[9] = "virtio-blk-pci,drive=d1,disable-legacy=on"
			} else {
				extra = append(extra, "-global", "virtio-mmio.force-legacy=false")
			}
			out, res := bootOpts(t, img, c.machine, c.kopts, c.args, extra...)
			if res.Status != 0 {
				t.Fatalf("guest status %d:\n%s", res.Status, out)
			}
			want := []string{
				"net mac 52:54:00:12:34:56 link up true\n",
				"net arp reply: 10.0.2.2 is at 52:55:0a:00:02:02 (to 52:54:00:12:34:56",
				"net echo reply: 1514-byte frame, payload equal: true\n",
				"net closed: <nil>\n",
				"done\n",
			}
			if c.dev == "-pci" {
				want = append(want,
					"1af4:1001 class 0100", // transitional virtio-blk: mass storage
					"1af4:1042 class 0100", // modern-only virtio-blk
					"1af4:1000 class 0200") // transitional virtio-net: network
			}
			order := sizes
			if c.dev == "-device" {
				// QEMU fills microvm's virtio-mmio windows from the
				// top: the last device gets the lowest window.
				order = []int{sizes[1], sizes[0]}
			}
			for i, size := range order {
				want = append(want,
					fmt.Sprintf("blk%d capacity %d sectors\n", i, size/512),
					fmt.Sprintf("blk%d read %d bytes, 0 differ from the pattern\n", i, size),
					fmt.Sprintf("blk%d wrote 1024 bytes at 4096, read back equal: true\n", i),
					fmt.Sprintf("blk%d unaligned read refused: true\n", i),
					fmt.Sprintf("blk%d closed: <nil>, then read refused: true\n", i))
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if c.kopts != "" && !sharedLine(out) {
				t.Errorf("no two virtio devices share an interrupt line:\n%s", out)
			}
			for i, disk := range disks {
				checkDisk(t, disk, sizes[i])
			}
		})
	}
}

// sharedLine reports whether two virtio functions in the guest's PCI
// listing ("pci BB:DD.F VVVV:DDDD class CCCC irq N") have the same line.
func sharedLine(out string) bool {
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 7 && f[0] == "pci" && strings.HasPrefix(f[2], "1af4:") {
			if seen[f[6]] {
				return true
			}
			seen[f[6]] = true
		}
	}
	return false
}

// checkDisk requires the guest's marker at 4096 and the pattern elsewhere.
func checkDisk(t *testing.T, disk string, size int) {
	b, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != size {
		t.Fatalf("%s is %d bytes, want %d", disk, len(b), size)
	}
	const marker = "written by the XairrosX virtio-blk driver\n"
	m := bytes.Repeat([]byte(marker), 1024/len(marker)+1)[:1024]
	if !bytes.Equal(b[4096:4096+1024], m) {
		t.Errorf("%s at 4096 holds %q, want the guest's marker", disk, b[4096:4096+64])
	}
	for i := range b {
		if (i < 4096 || i >= 4096+1024) && b[i] != pattern(int64(i)) {
			t.Fatalf("%s: byte %d changed to %#x (pattern %#x)", disk, i, b[i], pattern(int64(i)))
		}
	}
}

// TestVirtioMMIOPolled checks the virtio-mmio transport on microvm, where
// the kernel gets no interrupts yet: the mmiopoll guest completes block
// requests by polling. The interrupt-driven drivers are covered on PCI.
func TestVirtioMMIOPolled(t *testing.T) {
	img := buildGuest(t, "mmiopoll")
	const size = 256 << 10
	disk := makeDisk(t, size)
	out, res := boot(t, img, "microvm",
		"-global", "virtio-mmio.force-legacy=false",
		"-device", "virtio-blk-device,drive=d0",
		"-drive", "file="+disk+",if=none,id=d0,format=raw",
	)
	if res.Status != 0 {
		t.Fatalf("guest status %d:\n%s", res.Status, out)
	}
	for _, want := range []string{
		" type 2\n",
		"capacity 512 sectors\n",
		"read 262144 bytes, 0 differ from the pattern\n",
		"wrote the marker at sector 8\n",
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
	const marker = "written over virtio-mmio by polling\n"
	m := bytes.Repeat([]byte(marker), 512/len(marker)+1)[:512]
	if !bytes.Equal(b[4096:4608], m) {
		t.Errorf("disk at 4096 holds %q, want the guest's marker", b[4096:4160])
	}
	for i := range b {
		if (i < 4096 || i >= 4608) && b[i] != pattern(int64(i)) {
			t.Fatalf("disk byte %d changed to %#x", i, b[i])
		}
	}
}

// TestBARAbove4GiB makes SeaBIOS place the virtio-blk device's 64-bit BAR
// above 4 GiB (a 1 GiB ivshmem BAR, never touched, leaves no room in the
// 32-bit window), where the transport must map it with kernel.MapMMIO
// before the driver can work.
func TestBARAbove4GiB(t *testing.T) {
	img := buildGuest(t, "devices")
	const size = 64 << 10
	disk := makeDisk(t, size)
	out, res := boot(t, img, "q35",
		"-object", "memory-backend-ram,id=hm,size=1G",
		"-device", "ivshmem-plain,memdev=hm",
		"-device", "virtio-blk-pci,drive=d0",
		"-drive", "file="+disk+",if=none,id=d0,format=raw")
	if res.Status != 0 {
		t.Fatalf("guest status %d:\n%s", res.Status, out)
	}
	high := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		// bar BB:DD.F VVVV:DDDD class CCCC N at ADDR size SIZE 64-bit B
		if len(f) == 12 && f[0] == "bar" && f[2] == "1af4:1001" {
			var addr uint64
			if _, err := fmt.Sscanf(f[7], "0x%x", &addr); err == nil && addr >= 1<<32 {
				high = true
			}
		}
	}
	if !high {
		t.Fatalf("no virtio-blk BAR above 4 GiB:\n%s", out)
	}
	for _, want := range []string{
		"blk0 read 65536 bytes, 0 differ from the pattern\n",
		"blk0 wrote 1024 bytes at 4096, read back equal: true\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	checkDisk(t, disk, size)
}
