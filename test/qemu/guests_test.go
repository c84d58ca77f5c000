package qemu

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	qemurun "github.com/xairrosx/xairrosx/internal/qemu"
)

var guestsFlag = flag.String("guests", "", "also boot the guests waiting for the kernel: \"all\", or a comma-separated list of names")

// guest is one program of test/guests and how to check it.
type guest struct {
	name string
	args []string
	// env is passed to the guest with -env and is the whole environment
	// of the native run.
	env []string
	// mem is the guest memory (-mem); "" means 256M.
	mem string
	// timeout bounds the QEMU run.
	timeout time.Duration
	// status is the exit status both runs must have.
	status int
	// cut, if set, compares the outputs only up to the first line that
	// starts with it (goroutine traces hold addresses and paths).
	cut string
	// mustHave is a line both outputs must contain.
	mustHave string
	// nativeVM limits the native run's virtual memory (KiB, ulimit -v).
	nativeVM int
	// normalize, if set, maps an output to the part that is compared,
	// for programs whose output depends on the machine.
	normalize func(string) string
}

// oomLine reduces an output to its out-of-memory fatal error, in either of
// the runtime's forms: "fatal error: out of memory" (a reservation failed)
// or "fatal error: runtime: out of memory" (committing memory failed).
func oomLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if l == "fatal error: out of memory" || l == "fatal error: runtime: out of memory" {
			return "fatal error: out of memory (either form)"
		}
	}
	return ""
}

// guests lists every guest program with its expected behaviour.
var guests = map[string]guest{
	"hello":      {name: "hello", timeout: 60 * time.Second},
	"goroutines": {name: "goroutines", timeout: 120 * time.Second},
	"timers":     {name: "timers", timeout: 120 * time.Second},
	"gcstress":   {name: "gcstress", timeout: 180 * time.Second, mem: "256M"},
	"stdlib":     {name: "stdlib", timeout: 120 * time.Second},
	"recursion":  {name: "recursion", timeout: 120 * time.Second},
	"recover":    {name: "recover", timeout: 60 * time.Second},
	"preempt":    {name: "preempt", timeout: 60 * time.Second},
	"badcalls":   {name: "badcalls", timeout: 60 * time.Second},
	"flock":      {name: "flock", timeout: 60 * time.Second},
	"args": {name: "args", timeout: 60 * time.Second, status: 42,
		args: []string{"first", "two words", "", `with "quotes"`, `back\slash`, "--", "-x", "42"},
		env:  []string{"GUEST_ONE=1", "GUEST_SPACES=a b  c", "GUEST_EMPTY=", `GUEST_QUOTES="q" \ `}},
	"args-exit0":   {name: "args", timeout: 60 * time.Second, status: 0},
	"args-exit3":   {name: "args", timeout: 60 * time.Second, status: 3, args: []string{"3"}},
	"args-exit200": {name: "args", timeout: 60 * time.Second, status: 200, args: []string{"200"}},
	"deadlock": {name: "deadlock", timeout: 60 * time.Second, status: 2, cut: "goroutine ",
		mustHave: "fatal error: all goroutines are asleep - deadlock!"},
	"panic": {name: "panic", timeout: 60 * time.Second, status: 2, cut: "goroutine ",
		mustHave: "panic: unrecovered: 42"},
	"oom": {name: "oom", timeout: 120 * time.Second, status: 2, mem: "256M", nativeVM: 4 << 20,
		mustHave: "out of memory", normalize: oomLine},
}

// suite names the guests that pass on the kernel today; make test boots
// each of them ("node" is the node image, TestNodeImage). A guest that the
// kernel cannot run yet stays out of this list, with a comment saying so,
// and can be tried with -guests=NAME.
var suite = []string{
	"hello", "goroutines", "timers", "gcstress", "stdlib", "recursion", "recover", "preempt", "badcalls", "flock",
	"args", "args-exit0", "args-exit3", "args-exit200", "deadlock", "panic", "oom", "node", "forever",
}

// bootMachines lists the QEMU machines that boot hello-world on the real
// kernel today.
var bootMachines = []string{"microvm", "pc", "q35"}

func selected(name string) bool {
	for _, n := range suite {
		if n == name {
			return true
		}
	}
	if *guestsFlag == "all" {
		return true
	}
	for _, n := range strings.Split(*guestsFlag, ",") {
		if n == name {
			return true
		}
	}
	return false
}

var (
	nativeOnce sync.Once
	nativeDir  string
	nativeErr  error
)

// nativeBinary builds the guest for the host once per test run.
func nativeBinary(t *testing.T, name string) string {
	t.Helper()
	nativeOnce.Do(func() {
		nativeDir = filepath.Join(work, "native")
		cmd := exec.Command("go", "build", "-o", nativeDir+"/", "./test/guests/...")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			nativeErr = fmt.Errorf("building the guests: %v\n%s", err, out)
		}
	})
	if nativeErr != nil {
		t.Fatal(nativeErr)
	}
	return filepath.Join(nativeDir, name)
}

// runNative runs g on the host with stdout and stderr in one stream, as on
// the guest's serial console.
func runNative(t *testing.T, g guest) result {
	t.Helper()
	bin := nativeBinary(t, g.name)
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	var cmd *exec.Cmd
	if g.nativeVM > 0 {
		cmd = exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, g.nativeVM), bin}, g.args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, g.args...)
	}
	cmd.Env = append([]string{}, g.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("native %s did not finish in %v", g.name, g.timeout)
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("native %s: %v", g.name, err)
	}
	return result{stdout: out.String(), status: cmd.ProcessState.ExitCode()}
}

// runGuest boots g with xairrosx run.
func runGuest(t *testing.T, g guest, machine string) result {
	t.Helper()
	mem := g.mem
	if mem == "" {
		mem = "256M"
	}
	args := []string{"run", "-timeout", g.timeout.String(), "-mem", mem}
	if machine != "" {
		args = append(args, "-machine", machine)
	}
	for _, e := range g.env {
		args = append(args, "-env", e)
	}
	args = append(args, "./test/guests/"+g.name, "--")
	args = append(args, g.args...)
	r := runTool(t, g.timeout+2*time.Minute, "", args...)
	r.stdout = strings.ReplaceAll(r.stdout, "\r\n", "\n")
	return r
}

// comparable returns the part of an output that the check compares.
func (g guest) comparable(out string) string {
	if g.normalize != nil {
		return g.normalize(out)
	}
	if g.cut != "" {
		if i := strings.Index(out, "\n"+g.cut); i >= 0 {
			return out[:i+1]
		}
	}
	return out
}

// checkNative checks a native run against the guest's expectations.
func checkNative(t *testing.T, g guest, r result) {
	t.Helper()
	if r.status != g.status {
		t.Errorf("native %s: exit status %d, want %d\n%s", g.name, r.status, g.status, r.stdout)
	}
	if g.mustHave != "" && !strings.Contains(r.stdout, g.mustHave) {
		t.Errorf("native %s: output lacks %q:\n%s", g.name, g.mustHave, r.stdout)
	}
	if strings.Contains(r.stdout, "FAIL") {
		t.Errorf("native %s reports a failure:\n%s", g.name, r.stdout)
	}
}

// TestGuestsNative runs every guest program on the host: the programs
// themselves must behave as the table says before their guest runs mean
// anything.
func TestGuestsNative(t *testing.T) {
	for key, g := range guests {
		t.Run(key, func(t *testing.T) { checkNative(t, g, runNative(t, g)) })
	}
}

// TestGuests boots each guest in the suite and compares its console output
// and exit status with the native run's.
func TestGuests(t *testing.T) {
	var waiting []string
	for key, g := range guests {
		if !selected(key) {
			waiting = append(waiting, key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			native := runNative(t, g)
			checkNative(t, g, native)
			got := runGuest(t, g, "")
			if got.status != g.status {
				t.Errorf("guest %s: exit status %d, want %d\nconsole:\n%s\nstderr:\n%s", key, got.status, g.status, got.stdout, got.stderr)
			}
			if a, b := g.comparable(native.stdout), g.comparable(got.stdout); a != b || a == "" && g.mustHave != "" {
				t.Errorf("guest %s: console output differs from the native run\n--- native\n%s\n--- guest\n%s\n--- tool stderr\n%s", key, a, b, got.stderr)
			}
		})
	}
	if len(waiting) > 0 {
		sort.Strings(waiting)
		t.Logf("not booted, waiting for the kernel (try -guests=NAME): %s", strings.Join(waiting, " "))
	}
}

// TestMachinesBootHello boots hello-world on each machine type.
func TestMachinesBootHello(t *testing.T) {
	for _, m := range qemurun.Machines {
		ok := *guestsFlag == "all"
		for _, b := range bootMachines {
			ok = ok || b == m
		}
		if !ok {
			t.Logf("machine %s: not booted, waiting for the kernel (try -guests=all)", m)
			continue
		}
		t.Run(m, func(t *testing.T) {
			r := runGuest(t, guests["hello"], m)
			if r.status != 0 || r.stdout != "hello, world\n" {
				t.Errorf("machine %s: status %d, console %q, stderr %q", m, r.status, r.stdout, r.stderr)
			}
		})
	}
}

// TestHungGuest boots a guest that never exits with -timeout: the tool
// must say so, exit 124 and leave no QEMU behind.
func TestHungGuest(t *testing.T) {
	if !selected("forever") {
		t.Log("hung guest not booted, waiting for the kernel (try -guests=forever)")
		return
	}
	img := filepath.Join(t.TempDir(), "forever.img")
	if r := runTool(t, 3*time.Minute, "", "build", "-o", img, "./test/guests/forever"); r.status != 0 {
		t.Fatalf("build: %d %s", r.status, r.stderr)
	}
	r := runTool(t, 2*time.Minute, "", "run", "-timeout", "5s", img)
	checkCleanError(t, r, "did not exit within 5s")
	if r.status != qemurun.StatusTimeout || !strings.Contains(r.stdout, "running forever") {
		t.Errorf("status %d, console %q; want %d after the guest ran", r.status, r.stdout, qemurun.StatusTimeout)
	}
	checkNoOrphans(t, img)
}

// TestNodeImage boots the node image, types commands on its console as a
// person would (each after the prompt, ended by CR) and halts it.
func TestNodeImage(t *testing.T) {
	if !selected("node") {
		t.Log("node image not booted, waiting for the kernel (try -guests=node)")
		return
	}
	lines := []string{"echo typed on the console", "nosuchcommand", "mem", "threads", "halt 0"}
	out, status, stderr := converse(t, 3*time.Minute, "xairrosx> ", lines, "run", "-timeout", "120s", "./images/node")
	out = strings.ReplaceAll(out, "\r\n", "\n")
	for _, want := range []string{"XairrosX node shell on XairrosX", "\ntyped on the console\n",
		"nosuchcommand: unknown command", "physical: ", " threads, ", "halting\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s\nstderr:\n%s", want, out, stderr)
		}
	}
	if status != 0 {
		t.Errorf("exit status %d after halt, want 0", status)
	}
}

// converse runs the tool with args and types each line (ended by CR) once
// the prompt has appeared one more time on its stdout. It returns the
// output, the exit status and the tool's stderr.
func converse(t *testing.T, limit time.Duration, prompt string, lines []string, args ...string) (string, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = root
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out, errb bytes.Buffer
	cmd.Stdout = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	for i, l := range lines {
		for strings.Count(snapshot(), prompt) <= i {
			if ctx.Err() != nil {
				t.Fatalf("no prompt %d within %v; console:\n%s\nstderr:\n%s", i+1, limit, snapshot(), errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := io.WriteString(stdin, l+"\r"); err != nil {
			t.Fatalf("typing %q: %v", l, err)
		}
	}
	err = cmd.Wait()
	stdin.Close()
	if ctx.Err() != nil {
		t.Fatalf("tool still running after %v; console:\n%s", limit, snapshot())
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return snapshot(), cmd.ProcessState.ExitCode(), errb.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
