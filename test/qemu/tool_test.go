package qemu

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/cmdline"
	"github.com/xairrosx/xairrosx/internal/image"
	qemurun "github.com/xairrosx/xairrosx/internal/qemu"
)

// The stub kernel echoes its command line and acts on the last word (see
// package stubkernel), which lets these tests check the tool's plumbing.

func TestToolPassesCommandLine(t *testing.T) {
	args := []string{"plain", "two words", "", `quo"te`, `back\slash`, "--", "7"}
	r := runTool(t, time.Minute, "", append([]string{"run", "-timeout", "30s", "-env", "A=1", "-env", "B=x y", stubImage, "--"}, args...)...)
	want, _ := cmdline.Build(map[string]string{"argv0": "stub.img"}, []string{"A=1", "B=x y"}, args)
	if r.stdout != want+"\n" {
		t.Errorf("guest saw command line %q, want %q", r.stdout, want)
	}
	l, err := cmdline.Decode(strings.TrimSuffix(r.stdout, "\n"))
	if err != nil || strings.Join(l.Args, "|") != strings.Join(args, "|") {
		t.Errorf("decoded %+v, %v", l, err)
	}
	if r.status != 7 {
		t.Errorf("exit status %d, want 7", r.status)
	}
}

func TestToolExitStatus(t *testing.T) {
	for _, n := range []string{"0", "1", "2", "100", "255"} {
		r := runTool(t, time.Minute, "", "run", "-timeout", "30s", "-mem", "32M", stubImage, "--", n)
		if got := r.status; got != atoi(n) {
			t.Errorf("guest exit %s: tool exit status %d (stderr %q)", n, got, r.stderr)
		}
	}
}

func TestToolKernelFault(t *testing.T) {
	r := runTool(t, time.Minute, "", "run", "-timeout", "30s", stubImage, "--", "101")
	if r.status != 101 || !strings.Contains(r.stderr, "kernel fault") {
		t.Errorf("got status %d, stderr %q; want 101 and \"kernel fault\"", r.status, r.stderr)
	}
}

func TestToolGuestReset(t *testing.T) {
	r := runTool(t, time.Minute, "", "run", "-timeout", "30s", stubImage, "--", "reset")
	checkCleanError(t, r, "without a guest exit status")
	if r.status != qemurun.StatusNoExit {
		t.Errorf("exit status %d, want %d", r.status, qemurun.StatusNoExit)
	}
}

func TestToolStdin(t *testing.T) {
	r := runTool(t, time.Minute, "line from the host\n", "run", "-timeout", "30s", stubImage, "--", "echo")
	if r.status != 0 || !strings.HasSuffix(r.stdout, "\nline from the host\n") {
		t.Errorf("got status %d, stdout %q", r.status, r.stdout)
	}
}

func TestToolMachines(t *testing.T) {
	for _, m := range qemurun.Machines {
		r := runTool(t, time.Minute, "", "run", "-timeout", "30s", "-machine", m, "-smp", "2", stubImage, "--", "3")
		if r.status != 3 {
			t.Errorf("machine %s: exit status %d, stderr %q", m, r.status, r.stderr)
		}
	}
}

func TestToolTimeoutKillsQEMU(t *testing.T) {
	start := time.Now()
	r := runTool(t, time.Minute, "", "run", "-timeout", "2s", stubImage, "--", "hang")
	checkCleanError(t, r, "did not exit within 2s")
	if r.status != qemurun.StatusTimeout {
		t.Errorf("exit status %d, want %d", r.status, qemurun.StatusTimeout)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a 2s timeout took %v", d)
	}
	checkNoOrphans(t, stubImage)
}

func TestToolSignalKillsQEMU(t *testing.T) {
	// A private copy of the image so that the orphan check sees only
	// this test's QEMU.
	img := filepath.Join(t.TempDir(), "sig.img")
	b, err := os.ReadFile(stubImage)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(tool, "run", "-timeout", "60s", img, "--", "hang")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until QEMU runs, then signal the tool alone.
		for i := 0; i < 200 && len(qemurun.QEMUProcesses(img)) == 0; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if len(qemurun.QEMUProcesses(img)) == 0 {
			t.Fatal("QEMU never started")
		}
		_ = cmd.Process.Signal(sig)
		err := cmd.Wait()
		if err == nil || cmd.ProcessState.ExitCode() == 0 {
			t.Errorf("%v: tool exited with %v, want a non-zero status", sig, err)
		}
		checkNoOrphans(t, img)
	}
}

func TestToolBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"nonexistent package dir", []string{"run", "-timeout", "30s", "./test/guests/no-such-guest"}, "no such directory"},
		{"nonexistent import path", []string{"build", "-o", filepath.Join(work, "x.img"), "github.com/xairrosx/xairrosx/no/such/pkg"}, "no/such/pkg"},
		{"not compiling", []string{"run", "-timeout", "30s", "./internal/image/testdata/broken"}, "undefined: undefinedFunction"},
		{"not a main package", []string{"build", "-o", filepath.Join(work, "x.img"), "./internal/image/testdata/notmain"}, "not a main package"},
		{"image larger than -mem", []string{"run", "-timeout", "30s", "-mem", "8M", stubImage}, "does not fit in 8M"},
		{"unknown run flag", []string{"run", "-no-such-flag", stubImage}, "-no-such-flag"},
		{"unknown build flag", []string{"build", "-x-y-z", "./test/guests/hello"}, "-x-y-z"},
		{"bad -mem", []string{"run", "-mem", "lots", stubImage}, "bad memory size"},
		{"bad -machine", []string{"run", "-machine", "isapc", stubImage}, "isapc"},
		{"bad -env", []string{"run", "-env", "NOVALUE", stubImage}, "NAME=VALUE"},
		{"flag after package", []string{"run", stubImage, "-timeout", "3s"}, "flags go before the package"},
		{"no package", []string{"run"}, "no package or image"},
		{"not an image", []string{"run", "-timeout", "30s", "go.mod"}, "go.mod"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			// The stub kernel, so that only the package's own
			// errors can fail the build.
			r := runToolEnv(t, []string{image.KernelEnv + "=" + stubKernel}, 2*time.Minute, "", c.args...)
			checkCleanError(t, r, c.want)
		})
	}
	checkNoOrphans(t, stubImage)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestToolRunPackage(t *testing.T) {
	env := []string{image.KernelEnv + "=" + stubKernel}
	r := runToolEnv(t, env, 2*time.Minute, "", "run", "-timeout", "30s", "./test/guests/hello", "--", "x", "5")
	if r.status != 5 || r.stdout != "xairrosx.argv0=hello -- x 5\n" {
		t.Errorf("got status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "h.img")
	r = runToolEnv(t, env, 2*time.Minute, "", "build", "-o", out, "./test/guests/hello")
	if r.status != 0 {
		t.Fatalf("build: status %d, stderr %q", r.status, r.stderr)
	}
	r = runTool(t, time.Minute, "", "run", "-timeout", "30s", out, "--", "9")
	if r.status != 9 || r.stdout != "xairrosx.argv0=h.img -- 9\n" {
		t.Errorf("got status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
	}
}

// rsp sends one GDB remote-protocol packet and returns the reply's data
// (after QEMU's acknowledgement), or "" for a command with no reply.
func rsp(conn net.Conn, data string, reply bool) (string, error) {
	sum := 0
	for i := 0; i < len(data); i++ {
		sum += int(data[i])
	}
	if _, err := fmt.Fprintf(conn, "$%s#%02x", data, sum&0xff); err != nil {
		return "", err
	}
	if !reply {
		return "", nil
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	buf := make([]byte, 256)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return string(got), err
		}
		got = append(got, buf[:n]...)
		if i := bytes.IndexByte(got, '$'); i >= 0 {
			if j := bytes.IndexByte(got[i:], '#'); j >= 0 && len(got) >= i+j+3 {
				conn.Write([]byte("+"))
				return string(got[i+1 : i+j]), nil
			}
		}
	}
}

func TestToolGDB(t *testing.T) {
	cmd := exec.Command(tool, "run", "-gdb", "-timeout", "60s", stubImage, "--", "5")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var conn net.Conn
	var err error
	for i := 0; i < 200; i++ {
		if conn, err = net.Dial("tcp", "127.0.0.1:1234"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no debugger port: %v (stderr %q)", err, stderr.String())
	}
	defer conn.Close()
	// The guest waits, stopped, until the debugger continues it.
	stop, err := rsp(conn, "?", true)
	if err != nil || !strings.HasPrefix(stop, "T") && !strings.HasPrefix(stop, "S") {
		t.Fatalf("stop reply %q, %v", stop, err)
	}
	if _, err := rsp(conn, "c", false); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != 5 {
		t.Errorf("exit status %d (%v), want 5 after continuing", cmd.ProcessState.ExitCode(), err)
	}
	if !strings.Contains(stderr.String(), "gdb "+stubImage+" -ex 'target remote :1234'") {
		t.Errorf("stderr %q does not say how to attach", stderr.String())
	}
}
