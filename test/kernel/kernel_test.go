// Package kernel_test boots images with kernel options that the xairrosx
// command does not expose (self-tests, tracing) and checks how the kernel
// behaves: a fault in kernel context must be reported with registers and a
// symbolized stack and end QEMU with status 101, never hang.
package kernel_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// boot builds pkg (relative to the repository root) and boots it with the
// given command line, returning the console output and the result.
func boot(t *testing.T, pkg, cmdline string) (string, qemu.Result) {
	t.Helper()
	return bootFiles(t, pkg, "", cmdline)
}

// bootFiles is boot with files (a directory relative to the repository
// root) packed into the image as its root file system.
func bootFiles(t *testing.T, pkg, files, cmdline string) (string, qemu.Result) {
	t.Helper()
	return bootWith(t, pkg, files, "", cmdline)
}

// bootMachine is boot on a given QEMU machine type.
func bootMachine(t *testing.T, pkg, machine, cmdline string) (string, qemu.Result) {
	t.Helper()
	return bootWith(t, pkg, "", machine, cmdline)
}

// bootMem is boot with mem bytes of guest memory.
func bootMem(t *testing.T, pkg string, mem uint64, cmdline string) (string, qemu.Result) {
	t.Helper()
	return bootFull(t, pkg, "", "", mem, cmdline)
}

func bootWith(t *testing.T, pkg, files, machine, cmdline string) (string, qemu.Result) {
	t.Helper()
	return bootFull(t, pkg, files, machine, 256<<20, cmdline)
}

func bootFull(t *testing.T, pkg, files, machine string, mem uint64, cmdline string) (string, qemu.Result) {
	t.Helper()
	return bootAll(t, pkg, files, machine, mem, nil, cmdline)
}

func bootAll(t *testing.T, pkg, files, machine string, mem uint64, extra []string, cmdline string) (string, qemu.Result) {
	t.Helper()
	root, err := image.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "k.img")
	if files != "" {
		files = filepath.Join(root, files)
	}
	// fakenet brings its own network service.
	noNet := strings.HasSuffix(pkg, "/fakenet")
	if _, err := image.Build(image.Options{Pkg: filepath.Join(root, pkg), Out: img, Root: root, Files: files, NoNetService: noNet}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := qemu.Run(context.Background(), qemu.Config{
		Image:   img,
		Machine: machine,
		Mem:     mem,
		Cmdline: cmdline,
		Timeout: 180 * time.Second,
		Stdout:  &out,
		Stderr:  os.Stderr,
		Extra:   extra,
	})
	if err != nil {
		t.Fatalf("qemu: %v\n%s", err, out.String())
	}
	return out.String(), res
}

func TestKernelFaultIsReported(t *testing.T) {
	out, res := boot(t, "test/guests/hello", "xairrosx.argv0=hello xairrosx.selftest=fault --")
	if res.Status != 101 || !res.Fault {
		t.Errorf("status %d (fault=%v), want 101 and a kernel fault", res.Status, res.Fault)
	}
	for _, want := range []string{
		"xairrosx: kernel fault: page fault at github.com/xairrosx/xairrosx/kernel.selftestNilDereference",
		"rip=0x", "cr2=0x0000000000000000", "rsp=0x",
		"stack:",
		"kernel/selftest.go:", // symbolized with file:line
		"kernel.trap ",        // callers found through the frame pointers
		"kernel/trap.go:",
		"amd64.syscalltraps ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fault report lacks %q:\n%s", want, out)
		}
	}
}

func TestBootLogAndStrace(t *testing.T) {
	out, res := boot(t, "test/guests/hello", "xairrosx.argv0=hello xairrosx.log=1 xairrosx.strace=1 --")
	if res.Status != 0 {
		t.Fatalf("status %d:\n%s", res.Status, out)
	}
	for _, want := range []string{
		"XairrosX kernel\n", "MiB usable", "MHz, timer 1000 Hz", "starting Go runtime",
		"syscall 158(0x0000000000001002", // arch_prctl(ARCH_SET_FS) from rt0_go
		"syscall 1(0x0000000000000001",   // write(1, ...)
		"hello, world\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestMemoryHugePagesAndRelease(t *testing.T) {
	out, res := boot(t, "test/kernel/testdata/memory", "xairrosx.argv0=memory --")
	if res.Status != 0 {
		t.Fatalf("status %d:\n%s", res.Status, out)
	}
	for _, want := range []string{
		"huge pages used for a 96 MiB heap object: true",
		"user memory grew by at least 96 MiB: true",
		"memory returned to the kernel: true",
		"reused memory reads as zeros: true",
		"DMA 4096 bytes: zeroed true, page aligned true, writable true, freed true",
		"DMA 1048576 bytes: zeroed true, page aligned true, writable true, freed true",
		"IRQWait on the timer line refused: true",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// matchHost runs pkg natively (go run) and in a guest and requires the same
// output and a zero exit status from both.
func matchHost(t *testing.T, pkg string) {
	t.Helper()
	root, err := image.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	native, err := exec.Command("go", "run", filepath.Join(root, pkg)).CombinedOutput()
	if err != nil {
		t.Fatalf("native run: %v\n%s", err, native)
	}
	out, res := boot(t, pkg, "xairrosx.argv0="+filepath.Base(pkg)+" --")
	if res.Status != 0 {
		t.Fatalf("guest status %d:\n%s", res.Status, out)
	}
	if out != string(native) {
		t.Errorf("guest and host differ:\n--- host\n%s--- guest\n%s", native, out)
	}
}

// TestInferenceMatchesHost runs the int8 MNIST evaluation natively and in a
// guest (TCG: AVX2, no VNNI; the host may use VNNI) and requires the same
// accuracy and output hash: deterministic inference across machines.
func TestInferenceMatchesHost(t *testing.T) {
	matchHost(t, "test/kernel/testdata/aieval")
}

// TestFilesMatchHost runs a program that uses the os package's file API
// natively and in a guest (served by the file-system service over the
// in-memory file system) and requires the same output.
func TestFilesMatchHost(t *testing.T) {
	matchHost(t, "test/kernel/testdata/files")
}

// TestInitialFileSystem packs a directory into the image (xairrosx build
// -files) and reads it back in the guest as a read-only root.
func TestInitialFileSystem(t *testing.T) {
	out, res := bootFiles(t, "test/kernel/testdata/initfs/prog", "test/kernel/testdata/initfs/root", "xairrosx.argv0=prog --")
	if res.Status != 0 {
		t.Fatalf("status %d:\n%s", res.Status, out)
	}
	want := `read /config.json: <nil>
decode: <nil> xairrosx 4
through the symlink: "hello from the image\n" <nil>
entry hello.txt false
writing the root is refused with EROFS: true
writing /tmp: <nil>
`
	if out != want {
		t.Errorf("guest printed:\n%s\nwant:\n%s", out, want)
	}
}

// TestSocketPlumbing drives Go's net package through the kernel's socket
// forwarding with a stand-in network service (testdata/fakenet).
func TestSocketPlumbing(t *testing.T) {
	out, res := boot(t, "test/kernel/testdata/fakenet", "xairrosx.argv0=fakenet --")
	if res.Status != 0 {
		t.Fatalf("status %d:\n%s", res.Status, out)
	}
	want := `MPTCP refused, IPv6 socket made: true
remote 10.1.2.3:7 local 10.1.2.3:49153
echo "ping 0" <nil>
echo "ping 1" <nil>
echo "ping 2" <nil>
close: <nil>
`
	if out != want {
		t.Errorf("guest printed:\n%s\nwant:\n%s", out, want)
	}
}

// TestACPIPowerOff checks that reboot(2) powers the machine off through
// ACPI: QEMU stops by itself with status 0 after the kernel's exit line. (If
// ACPI failed, the kernel would fall back to QEMU's debug-exit device, whose
// statuses are odd.)
func TestACPIPowerOff(t *testing.T) {
	for _, machine := range []string{"q35", "pc", "microvm"} {
		for _, arg := range []string{"poweroff", "reset"} {
			t.Run(machine+"/"+arg, func(t *testing.T) {
				out, res := bootMachine(t, "test/kernel/testdata/poweroff", machine, "xairrosx.argv0=poweroff -- "+arg)
				if !res.ExitLine || res.Status != 0 || res.QEMUStatus != 0 || !strings.Contains(out, "going down") || strings.Contains(out, "still running") {
					t.Errorf("exit line %v, status %d, QEMU status %d, output:\n%s", res.ExitLine, res.Status, res.QEMUStatus, out)
				}
			})
		}
	}
}

// TestExitHooks checks kernel.AtExit: hooks run, newest first, after the
// program exits (os.Exit, main returning, reboot(2)) and before the machine
// powers off, and the exit status stays the program's.
func TestExitHooks(t *testing.T) {
	for _, c := range []struct {
		how    string
		status int
	}{{"exit", 3}, {"return", 0}, {"poweroff", 0}} {
		t.Run(c.how, func(t *testing.T) {
			out, res := boot(t, "test/kernel/testdata/atexit", "xairrosx.argv0=atexit -- "+c.how)
			want := "main done\nhook 2, other goroutines running: true\nhook 1\n"
			if res.Status != c.status || out != want {
				t.Errorf("status %d (want %d), output:\n%s\nwant:\n%s", res.Status, c.status, out, want)
			}
		})
	}
}

// TestTimersOnEveryMachine runs the timer guest on each QEMU machine: on
// microvm no firmware puts the local APIC in virtual-wire mode, so the
// kernel must, or no timer interrupt arrives and sleeps never end.
func TestTimersOnEveryMachine(t *testing.T) {
	for _, machine := range []string{"microvm", "pc", "q35"} {
		t.Run(machine, func(t *testing.T) {
			out, res := bootMachine(t, "test/guests/timers", machine, "xairrosx.argv0=timers --")
			if res.Status != 0 || strings.Contains(out, "FAIL") || strings.Count(out, "OK") < 10 {
				t.Errorf("status %d:\n%s", res.Status, out)
			}
		})
	}
}

// TestDevnetInGuest runs a single-validator chain (CometBFT, IAVL on
// goleveldb, the node's RPC over gVisor's loopback) inside a XairrosX guest,
// with its data in /tmp (test/storage runs it on the persistent disk), and
// requires 5 committed blocks and a clean stop.
func TestDevnetInGuest(t *testing.T) {
	out, res := bootMem(t, "test/guests/devnet", 1<<30, "xairrosx.argv0=devnet -- /tmp")
	m := regexp.MustCompile(`^init: <nil>\nstart height: (\d+)\nreached: (\d+)\nnode stopped: true\n$`).FindStringSubmatch(out)
	if res.Status != 0 || m == nil {
		t.Fatalf("status %d, output:\n%s", res.Status, out)
	}
	if start, _ := strconv.Atoi(m[1]); start > 1 {
		t.Errorf("a new chain started at height %d:\n%s", start, out)
	}
	if reached, _ := strconv.Atoi(m[2]); reached < 5 {
		t.Errorf("reached height %d, want 5:\n%s", reached, out)
	}
}

// TestMemoryAbove4GiB touches 4.5 GiB in a 6 GiB guest: the frame allocator
// covers RAM above 4 GiB (QEMU puts what does not fit below the PCI hole
// there).
func TestMemoryAbove4GiB(t *testing.T) {
	out, res := bootMem(t, "test/kernel/testdata/bigmem", 6<<30, "xairrosx.argv0=bigmem --")
	want := "touched 4.5 GiB, checksum 150405120\nRAM above 4 GiB in use: true\n"
	if res.Status != 0 || out != want {
		t.Errorf("status %d, output:\n%s\nwant:\n%s", res.Status, out, want)
	}
}

// TestExt2DataDisk makes an ext2 disk on the host with mkfs.ext2 -d and
// reads it in a guest, where the file-system service mounts it read-only
// (xairrosx.data=ext2ro) at /data through the virtio-blk driver, as
// xairrosx run -disk sets up (read-write: test/storage).
func TestExt2DataDisk(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "chain/config"), 0o755)
	os.WriteFile(filepath.Join(src, "chain/config/genesis.json"), []byte(`{"chain_id":"disk"}`), 0o644)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: indirect blocks
	os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644)
	img := filepath.Join(t.TempDir(), "data.ext2")
	mkfs, err := exec.LookPath("mkfs.ext2")
	if err != nil {
		mkfs = "/usr/sbin/mkfs.ext2" // root's tools, when PATH lacks sbin
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-b", "1024", "-d", src, img, "8M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext2: %v\n%s", err, out)
	}
	// On q35 the disk is a PCI function signalling MSI-X; on microvm a
	// virtio-mmio device on an I/O APIC line.
	for _, machine := range []string{"q35", "microvm"} {
		t.Run(machine, func(t *testing.T) {
			args, err := qemu.DataDisk(machine, img)
			if err != nil {
				t.Fatal(err)
			}
			out, res := bootAll(t, "test/kernel/testdata/datadisk", "", machine, 256<<20, args, "xairrosx.argv0=datadisk xairrosx.data=ext2ro --")
			want := `/data/big.bin 1048576 bytes "0123456789abcdef01234567"
/data/chain/config/genesis.json 19 bytes "{\"chain_id\":\"disk\"}"
walk: <nil>
`
			if res.Status != 0 || out != want {
				t.Errorf("status %d, output:\n%s\nwant:\n%s", res.Status, out, want)
			}
		})
	}
}
