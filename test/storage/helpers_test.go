// Package storage_test boots XairrosX guests on a persistent ext2 disk
// (made by mkfs.ext2 on the host, attached on virtio-blk, mounted
// read-write at /data by the file-system service) and checks what an
// unmodified Go program gets from it: fsync'd data survives a power cut,
// a goleveldb database and plain os file I/O survive a reboot and match a
// native run on the host, a full disk gives ENOSPC and nothing is lost,
// and a CometBFT chain keeps its state across reboots. After every run the
// host's e2fsck -fn must find the image clean.
package storage_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// bootTimeout bounds one boot: QEMU/TCG on a loaded 2-core machine is slow,
// the guests here need seconds when it is idle.
const bootTimeout = 4 * time.Minute

// Guest programs, relative to the repository root.
const (
	storagePkg = "test/storage/testdata/storage"
	devnetPkg  = "test/guests/devnet"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{} // package -> image, shared by the tests
	workDir string                // removed by TestMain
)

func TestMain(m *testing.M) {
	var err error
	workDir, err = os.MkdirTemp("", "xairrosx-storage-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(workDir)
	os.Exit(code)
}

// guestImage builds pkg into a XairrosX image once per test run.
func guestImage(t *testing.T, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if img, ok := built[pkg]; ok {
		return img
	}
	root, err := image.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(workDir, filepath.Base(pkg)+".img")
	if _, err := image.Build(image.Options{Pkg: filepath.Join(root, pkg), Out: img, Root: root}); err != nil {
		t.Fatal(err)
	}
	built[pkg] = img
	return img
}

// sbinTool finds an e2fsprogs tool, in /usr/sbin or /sbin when PATH lacks
// them (scripts/deps-ext2.sh installs e2fsprogs).
func sbinTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(d, name); isExec(p) {
			return p
		}
	}
	t.Fatalf("%s not found: run scripts/deps-ext2.sh (e2fsprogs)", name)
	return ""
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// newDisk makes an empty ext2 image of size (mkfs.ext2 syntax, "32M")
// with the given block size.
func newDisk(t *testing.T, size string, blockSize int) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "data.ext2")
	out, err := exec.Command(sbinTool(t, "mkfs.ext2"), "-q", "-F", "-b", fmt.Sprint(blockSize), img, size).CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext2: %v\n%s", err, out)
	}
	return img
}

// fsck runs e2fsck -fn on img and fails the test unless it finds the file
// system clean (exit status 0), showing its report.
func fsck(t *testing.T, img string) {
	t.Helper()
	out, err := exec.Command(sbinTool(t, "e2fsck"), "-fn", img).CombinedOutput()
	if err != nil {
		t.Errorf("e2fsck -fn: %v\n%s", err, out)
	}
}

// debugfs runs one debugfs request on img and returns what it prints.
func debugfs(t *testing.T, img, request string) string {
	t.Helper()
	out, err := exec.Command(sbinTool(t, "debugfs"), "-R", request, img).Output()
	if err != nil {
		t.Fatalf("debugfs -R %q: %v\n%s", request, err, out)
	}
	return string(out)
}

// guest describes one boot of a guest program on a data disk.
type guest struct {
	pkg  string   // guest program
	disk string   // ext2 image attached as the data disk ("": none)
	args []string // the program's arguments
	mem  uint64   // guest memory; 0 means 256 MiB
	data string   // the xairrosx.data option; "" means ext2 (read-write)
	// watch, if set, sees each console line as it arrives; returning true
	// cuts the power: QEMU is killed with SIGKILL at once.
	watch func(line string) bool
}

// bootResult is what a boot left behind.
type bootResult struct {
	out    string // console output
	status int    // the program's exit status (-1 when the power was cut)
	killed bool   // watch cut the power
}

// boot runs g in QEMU (q35, the disk on virtio-blk, mounted at /data) and waits for it to power off, for watch to cut the power, or for
// bootTimeout.
func boot(t *testing.T, g guest) bootResult {
	t.Helper()
	img := guestImage(t, g.pkg)
	var disk []string
	if g.disk != "" {
		var err error
		if disk, err = qemu.DataDisk("q35", g.disk); err != nil {
			t.Fatal(err)
		}
	}
	data := g.data
	if data == "" {
		data = "ext2"
	}
	cmdline := "xairrosx.argv0=" + filepath.Base(g.pkg) + " xairrosx.data=" + data + " -- " + strings.Join(g.args, " ")
	mem := g.mem
	if mem == 0 {
		mem = 256 << 20
	}
	if g.watch == nil {
		var out bytes.Buffer
		res, err := qemu.Run(context.Background(), qemu.Config{
			Image: img, Machine: "q35", Mem: mem, Cmdline: cmdline,
			Timeout: bootTimeout, Stdout: &out, Stderr: os.Stderr, Extra: disk,
		})
		if err != nil {
			t.Fatalf("qemu: %v\n%s", err, out.String())
		}
		return bootResult{out: out.String(), status: res.Status}
	}
	return bootWatched(t, qemu.Config{Image: img, Machine: "q35", Mem: mem, Cmdline: cmdline, Extra: disk}, g.watch)
}

// bootWatched runs QEMU itself, so that it can kill it with SIGKILL (a
// power cut: no chance to flush anything) when watch says so.
func bootWatched(t *testing.T, c qemu.Config, watch func(string) bool) bootResult {
	t.Helper()
	args, err := qemu.Args(c, filepath.Join(t.TempDir(), "com2"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("qemu-system-x86_64", args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(bootTimeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var out strings.Builder
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		out.WriteString(line + "\n")
		if !killed && watch(line) {
			cmd.Process.Kill() // SIGKILL
			killed = true
		}
	}
	io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the guest ended before the power was cut (%v):\n%s", err, out.String())
	}
	return bootResult{out: out.String(), status: -1, killed: true}
}

// native builds pkg for the host and runs it with args, returning its
// output; the reference the guest's output is compared with.
func native(t *testing.T, pkg string, args ...string) string {
	t.Helper()
	root, err := image.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	build := exec.Command("go", "build", "-o", bin, "./"+pkg)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("%s %s on the host: %v\n%s", pkg, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// wantClean fails the test unless the boot ended with status 0.
func wantClean(t *testing.T, what string, r bootResult) {
	t.Helper()
	if r.status != 0 {
		t.Fatalf("%s: status %d, output:\n%s", what, r.status, r.out)
	}
}

// sameOutput fails the test unless got equals want, showing the first
// line where they differ and both outputs.
func sameOutput(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	i := 0
	for i < len(g) && i < len(w) && g[i] == w[i] {
		i++
	}
	line := func(l []string) string {
		if i < len(l) {
			return l[i]
		}
		return "(end)"
	}
	t.Errorf("%s: line %d differs:\n got: %s\nwant: %s\nwhole output:\n%s\nwanted:\n%s", what, i+1, line(g), line(w), got, want)
}

// digest returns the SHA-256 of a file, to tell whether a boot changed it.
func digest(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
