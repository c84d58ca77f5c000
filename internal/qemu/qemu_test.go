package qemu

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/image"
)

// stubImage is an image of testdata/stubhello linked with the stub kernel
// (see package stubkernel for what it does with its command line).
var stubImage string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "qemu-test-")
	if err != nil {
		panic(err)
	}
	stubImage = filepath.Join(dir, "stub.img")
	_, err = image.Build(image.Options{
		Pkg:    "./testdata/stubhello",
		Out:    stubImage,
		Kernel: image.ModulePath + "/test/qemu/stubkernel",
		Entry:  image.ModulePath + "/test/qemu/stubkernel.entry32",
	})
	if err != nil {
		os.RemoveAll(dir)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// boot runs the stub image with the given last command-line word.
func boot(t *testing.T, word string, mod func(*Config)) (Result, error, string) {
	t.Helper()
	var out bytes.Buffer
	c := Config{Image: stubImage, Cmdline: "xairrosx.argv0=stub -- " + word, Timeout: 30 * time.Second, Stdout: &out, Mem: 32 << 20}
	if mod != nil {
		mod(&c)
	}
	res, err := Run(context.Background(), c)
	return res, err, out.String()
}

func TestExitStatusFromExitLine(t *testing.T) {
	for _, n := range []int{0, 1, 7, 200, 255} {
		w := string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
		res, err, out := boot(t, w, nil)
		if err != nil {
			t.Fatalf("exit %d: %v", n, err)
		}
		if res.Status != n || !res.ExitLine || res.Fault {
			t.Errorf("exit %d: got %+v", n, res)
		}
		if want := (n&0x7f)<<1 | 1; res.QEMUStatus != want {
			t.Errorf("exit %d: QEMU status %d, want %d", n, res.QEMUStatus, want)
		}
		if !strings.Contains(out, "xairrosx.argv0=stub -- "+w+"\n") {
			t.Errorf("exit %d: console output %q lacks the command line", n, out)
		}
	}
}

func TestExitStatusFromQEMUStatus(t *testing.T) {
	res, err, _ := boot(t, "q5", nil)
	if err != nil || res.Status != 5 || res.ExitLine {
		t.Errorf("got %+v, %v; want status 5 without exit line", res, err)
	}
}

func TestKernelFault(t *testing.T) {
	res, err, _ := boot(t, "101", nil)
	if err != nil || !res.Fault || res.Status != StatusFault {
		t.Errorf("got %+v, %v; want a fault", res, err)
	}
}

func TestResetIsAnError(t *testing.T) {
	res, err, _ := boot(t, "reset", nil)
	if !errors.Is(err, ErrNoExit) || res.Status != StatusNoExit {
		t.Errorf("got %+v, %v; want ErrNoExit", res, err)
	}
}

func TestTimeoutKillsQEMU(t *testing.T) {
	start := time.Now()
	res, err, _ := boot(t, "hang", func(c *Config) { c.Timeout = 2 * time.Second })
	if !errors.Is(err, ErrTimeout) || res.Status != StatusTimeout {
		t.Fatalf("got %+v, %v; want a timeout", res, err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("timeout of 2s took %v", d)
	}
	if pids := QEMUProcesses(stubImage); len(pids) > 0 {
		t.Errorf("QEMU processes left running: %v", pids)
	}
}

func TestCancelKillsQEMU(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	res, err := Run(ctx, Config{Image: stubImage, Cmdline: "-- hang", Mem: 32 << 20})
	if !errors.Is(err, ErrInterrupted) || res.Status == 0 {
		t.Fatalf("got %+v, %v; want interrupted", res, err)
	}
	if pids := QEMUProcesses(stubImage); len(pids) > 0 {
		t.Errorf("QEMU processes left running: %v", pids)
	}
}

func TestStdinReachesGuest(t *testing.T) {
	res, err, out := boot(t, "echo", func(c *Config) { c.Stdin = strings.NewReader("typed line\n") })
	if err != nil || res.Status != 0 {
		t.Fatalf("got %+v, %v", res, err)
	}
	if !strings.HasSuffix(out, "\ntyped line\n") {
		t.Errorf("console output %q does not end with the echoed input", out)
	}
}

func TestMachines(t *testing.T) {
	for _, m := range Machines {
		res, err, out := boot(t, "42", func(c *Config) { c.Machine = m; c.SMP = 2 })
		if err != nil || res.Status != 42 || !res.ExitLine {
			t.Errorf("machine %s: got %+v, %v (output %q)", m, res, err, out)
		}
	}
}

func TestArgs(t *testing.T) {
	if _, err := Args(Config{Machine: "isapc"}, "x"); err == nil || !strings.Contains(err.Error(), "unknown machine") {
		t.Errorf("Args accepted machine isapc: %v", err)
	}
	if _, err := Args(Config{SMP: 1000}, "x"); err == nil {
		t.Error("Args accepted 1000 CPUs")
	}
	a, err := Args(Config{Machine: "microvm", Image: "img", Cmdline: "-- x", Mem: 16 << 20, GDB: true}, "/tmp/c2")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := Args(Config{}, "/tmp/a,b/com2")
	if i := slices.Index(a2, "file,id=com2,path=/tmp/a,,b/com2"); i < 0 {
		t.Errorf("Args did not escape the comma in the COM2 path: %q", a2)
	}
	for _, want := range [][]string{{"-m", "16M"}, {"-kernel", "img"}, {"-append", "-- x"}, {"-device", "isa-serial,iobase=0x2f8,irq=3,chardev=com2"}, {"-s", "-S"}} {
		i := slices.Index(a, want[0])
		if i < 0 || i+1 >= len(a) || a[i+1] != want[1] {
			t.Errorf("Args = %q, want %q", a, want)
		}
	}
}

func TestParseExitLine(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want bool
	}{
		{"", 0, false},
		{"XAIRROSX-EXIT 3\n", 3, true},
		{"noise\r\nXAIRROSX-EXIT 12\r\n", 12, true},
		{"XAIRROSX-EXIT 1\nXAIRROSX-EXIT 2\n", 2, true},
		{"XAIRROSX-EXIT 256\n", 0, false},
		{"XAIRROSX-EXIT -1\n", 0, false},
		{"XAIRROSX-EXIT x\n", 0, false},
		{"XAIRROSX-EXIT 9", 9, true},
	}
	for _, c := range cases {
		n, ok := ParseExitLine(strings.NewReader(c.in))
		if n != c.n || ok != c.want {
			t.Errorf("ParseExitLine(%q) = %d, %v; want %d, %v", c.in, n, ok, c.n, c.want)
		}
	}
}
