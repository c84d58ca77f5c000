// Command linuxguest is the kernel benchmark: it boots the same Go programs
// on XairrosX and on a Linux guest (a Debian kernel with the program as
// /init in an initramfs), on the same QEMU flags, side by side in one run,
// and prints one table with both columns and their ratio: QEMU start to
// exit for hello-world, the smallest -mem that still runs hello-world, the
// image size, and the in-guest microbenchmarks of benchguest.
//
// scripts/bench-kernel.sh fetches the Debian kernel and runs this command.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xairrosx/xairrosx/bench/linuxguest/benchtab"
	"github.com/xairrosx/xairrosx/bench/linuxguest/initramfs"
	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

var (
	vmlinuz  = flag.String("vmlinuz", "", "Linux kernel image (bzImage) for the Linux guest")
	kname    = flag.String("kernel-name", "", "name of the Linux kernel package, for the table")
	runs     = flag.Int("runs", 5, "boots per side for the boot-time median")
	machine  = flag.String("machine", qemu.DefaultMachine, "QEMU machine type for both guests")
	skipMem  = flag.Bool("skip-mem", false, "skip the smallest -mem search")
	linuxCmd = "console=ttyS0 quiet panic=-1"
)

// side is one guest kind: its boot files and how to run it.
type side struct {
	name   string
	kernel string   // -kernel
	initrd string   // -initrd ("" for XairrosX)
	size   []string // files counted in the image size
	// minMem is the smallest -mem worth trying, in MiB.
	minMem uint64
	// argv0 for the XairrosX command line.
	argv0 string
}

func main() {
	flag.Parse()
	if *vmlinuz == "" {
		fmt.Fprintln(os.Stderr, "linuxguest: -vmlinuz is required (scripts/bench-kernel.sh fetches one)")
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "linuxguest:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := image.FindRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "kernel-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	progs := map[string]string{"hello": "./test/guests/hello", "bench": "./bench/linuxguest/benchguest"}
	x := map[string]*side{}
	l := map[string]*side{}
	for name, pkg := range progs {
		img := filepath.Join(work, name+".img")
		xs := &side{name: "XairrosX", kernel: img, size: []string{img}, argv0: name}
		if _, err := image.Build(image.Options{Pkg: pkg, Dir: root, Out: img}); err != nil {
			xs.kernel = ""
			fmt.Fprintf(os.Stderr, "linuxguest: XairrosX image of %s: %v\n", pkg, err)
		} else if b, err := os.ReadFile(img); err == nil {
			info, _ := image.Inspect(b)
			xs.minMem = (info.End+image.Headroom)>>20 + 1
		}
		x[name] = xs
		bin := filepath.Join(work, name+".linux")
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s for Linux: %v\n%s", pkg, err, out)
		}
		prog, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		var cpio bytes.Buffer
		if err := initramfs.Write(&cpio, initramfs.Init(prog)); err != nil {
			return err
		}
		rd := filepath.Join(work, name+".cpio")
		if err := os.WriteFile(rd, cpio.Bytes(), 0o644); err != nil {
			return err
		}
		l[name] = &side{name: "Linux", kernel: *vmlinuz, initrd: rd, size: []string{*vmlinuz, rd}, minMem: 8}
	}

	var rows [][]string
	add := func(metric, xv, lv, ratio, target string) {
		rows = append(rows, []string{metric, xv, lv, ratio, target})
	}

	// Boot to exit.
	xt, lt, xerr, lerr := bootTimes(x["hello"], l["hello"])
	add("hello-world: QEMU start to exit (wall, median)", dur(xt, xerr), dur(lt, lerr), benchtab.Ratio(xt.Seconds(), lt.Seconds(), xerr, lerr), "X <= 1/15 of Linux (0.067)")

	// What QEMU and its firmware cost by themselves: the stub kernel
	// exits at its first instructions.
	st, serr := stubTime(root, work)
	add("  of which QEMU + firmware alone (stub kernel exits at once)", dur(st, serr), "", benchtab.Ratio(st.Seconds(), lt.Seconds(), serr, lerr), "")

	// Smallest memory.
	if !*skipMem {
		xm, xerr := minMem(x["hello"])
		lm, lerr := minMem(l["hello"])
		add("hello-world: smallest -mem that runs it", mib(xm, xerr), mib(lm, lerr), benchtab.Ratio(float64(xm), float64(lm), xerr, lerr), "X <= 16 MiB")
	}

	// Image size.
	xsz, xerr := sizes(x["hello"])
	lsz, lerr := sizes(l["hello"])
	add("hello-world: image size (Linux: bzImage + initramfs)", bytesOf(xsz, xerr), bytesOf(lsz, lerr), benchtab.Ratio(float64(xsz), float64(lsz), xerr, lerr), "")

	// Microbenchmarks.
	xb, lb, xerr, lerr := benchMedians(x["bench"], l["bench"], min(*runs, 3))
	for _, b := range []struct{ key, metric, target string }{
		{"getpid", "syscall round trip: getpid (ns)", "X <= 1/3 of Linux"},
		{"futex-switch", "thread switch: futex ping-pong, locked threads (ns)", "X <= 1/2 of Linux"},
		{"goroutine-pingpong", "goroutine ping-pong, unbuffered chan (ns/round trip)", ""},
	} {
		xv, xe := pick(xb, xerr, b.key)
		lv, le := pick(lb, lerr, b.key)
		add(b.metric, benchtab.Num(xv, 1, xe), benchtab.Num(lv, 1, le), benchtab.Ratio(xv, lv, xe, le), b.target)
	}

	name := benchtab.KernelName(*kname, *vmlinuz)
	fmt.Printf("\nKernel benchmark: XairrosX vs Linux guest (%s)\n", name)
	fmt.Printf("%s, TCG, -machine %s -cpu max -smp 1 -m 256M unless searching -mem; Linux: -append %q\n\n",
		benchtab.QEMUVersion(), *machine, linuxCmd)
	benchtab.Print([]string{"metric", "XairrosX", "Linux guest", "ratio X/L", "target"}, rows)
	return nil
}

// boot runs one guest once and returns its console output and wall time.
func boot(s *side, mem uint64, timeout time.Duration) (string, time.Duration, error) {
	if s.kernel == "" {
		return "", 0, errors.New("no image (build failed)")
	}
	var out bytes.Buffer
	c := qemu.Config{Image: s.kernel, Machine: *machine, Mem: mem << 20, Timeout: timeout, Stdout: &out}
	if s.initrd != "" {
		c.Cmdline = linuxCmd
		c.Extra = []string{"-initrd", s.initrd}
	} else {
		c.Cmdline = "xairrosx.argv0=" + s.argv0 + " --"
	}
	res, err := qemu.Run(context.Background(), c)
	if s.initrd != "" && errors.Is(err, qemu.ErrNoExit) {
		err = nil // Linux reboots (panic=-1, -no-reboot) when /init exits.
	}
	if err == nil && s.initrd == "" && res.Status != 0 {
		err = fmt.Errorf("exit status %d", res.Status)
	}
	// A Linux tty turns "\n" into "\r\n".
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), res.Elapsed, err
}

// bootTimes returns the median wall time of hello-world over -runs boots
// of each side. The two sides alternate, so that a change in the host's
// load during the run hits both alike.
func bootTimes(x, l *side) (xt, lt time.Duration, xerr, lerr error) {
	once := func(s *side) (time.Duration, error) {
		out, d, err := boot(s, 256, 120*time.Second)
		if err == nil && !strings.Contains(out, "hello, world\n") {
			err = fmt.Errorf("no hello-world output (console: %q)", tail(out))
		}
		return d, err
	}
	var xs, ls []time.Duration
	for i := 0; i < *runs; i++ {
		if xerr == nil {
			var d time.Duration
			if d, xerr = once(x); xerr == nil {
				xs = append(xs, d)
			}
		}
		if lerr == nil {
			var d time.Duration
			if d, lerr = once(l); lerr == nil {
				ls = append(ls, d)
			}
		}
	}
	return median(xs), median(ls), xerr, lerr
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// stubTime returns the median wall time of booting the stub kernel of
// test/qemu/stubkernel, which exits as soon as it runs.
func stubTime(root, work string) (time.Duration, error) {
	const stub = image.ModulePath + "/test/qemu/stubkernel"
	img := filepath.Join(work, "stub.img")
	if _, err := image.Build(image.Options{Pkg: "./test/guests/hello", Dir: root, Out: img, Kernel: stub, Entry: stub + ".entry32"}); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for i := 0; i < *runs; i++ {
		res, err := qemu.Run(context.Background(), qemu.Config{Image: img, Machine: *machine, Mem: 256 << 20, Cmdline: "-- 0", Timeout: time.Minute})
		if err != nil {
			return 0, err
		}
		ds = append(ds, res.Elapsed)
	}
	return median(ds), nil
}

// minMem bisects the smallest -mem (MiB) with which hello-world runs.
func minMem(s *side) (uint64, error) {
	ok := func(m uint64) bool {
		out, _, err := boot(s, m, 60*time.Second)
		return err == nil && strings.Contains(out, "hello, world\n")
	}
	lo, hi := s.minMem, uint64(256)
	if !ok(hi) {
		return 0, fmt.Errorf("does not run in %d MiB", hi)
	}
	if ok(lo) {
		return lo, nil
	}
	for hi-lo > 1 { // lo fails, hi works
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

func sizes(s *side) (int64, error) {
	if s.kernel == "" {
		return 0, errors.New("no image")
	}
	var n int64
	for _, f := range s.size {
		st, err := os.Stat(f)
		if err != nil {
			return 0, err
		}
		n += st.Size()
	}
	return n, nil
}

// benchMedians boots the bench guest n times on each side, alternating
// sides, and returns the median of each result.
func benchMedians(x, l *side, n int) (xm, lm map[string]float64, xerr, lerr error) {
	var xs, ls []map[string]float64
	for i := 0; i < n; i++ {
		if xerr == nil {
			var m map[string]float64
			if m, xerr = benches(x); xerr == nil {
				xs = append(xs, m)
			}
		}
		if lerr == nil {
			var m map[string]float64
			if m, lerr = benches(l); lerr == nil {
				ls = append(ls, m)
			}
		}
	}
	return benchtab.Medians(xs), benchtab.Medians(ls), xerr, lerr
}

// benches boots the bench guest and reads its "BENCH name value" lines.
func benches(s *side) (map[string]float64, error) {
	out, _, err := boot(s, 256, 300*time.Second)
	if err != nil {
		return nil, err
	}
	m, _ := benchtab.Parse(out)
	if !strings.Contains(out, "BENCH done") {
		return m, fmt.Errorf("bench guest did not finish (console: %q)", tail(out))
	}
	return m, nil
}

func pick(m map[string]float64, err error, key string) (float64, error) {
	if err != nil {
		return 0, err
	}
	v, ok := m[key]
	if !ok {
		return 0, fmt.Errorf("no %s result", key)
	}
	return v, nil
}

func tail(s string) string {
	if len(s) > 200 {
		return "..." + s[len(s)-200:]
	}
	return s
}

func dur(d time.Duration, err error) string {
	if err != nil {
		return benchtab.NA(err)
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

func mib(m uint64, err error) string {
	if err != nil {
		return benchtab.NA(err)
	}
	return fmt.Sprintf("%d MiB", m)
}

func bytesOf(n int64, err error) string {
	if err != nil {
		return benchtab.NA(err)
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}
