// Command ioguest is the I/O benchmark: the same Go workload (package
// guest) on XairrosX and on a Linux guest (Debian's cloud kernel, its
// virtio modules loaded by linuxinit as /init), on the same QEMU flags,
// side by side in one run:
//
//   - HTTP into the guest: the guest serves net/http on QEMU's user
//     network through a host port forward; a load generator on the host
//     runs N keep-alive clients for a fixed time: requests/s, p50 and p99;
//   - TCP between two guests of one OS joined by a QEMU socket network:
//     MB/s of one stream;
//   - disk: an ext2 image made by mkfs.ext2 -d on the host on virtio-blk,
//     mounted at /data: cold sequential read MB/s of a large file, 4 KiB
//     appends each followed by fsync per second; and the raw device read.
//
// It repeats everything -runs times, alternating the OSes, and prints one
// table of medians with both columns and the ratio XairrosX/Linux.
// scripts/bench-io.sh fetches the Debian kernel and runs it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xairrosx/xairrosx/bench/linuxguest/benchtab"
	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

var (
	vmlinuz   = flag.String("vmlinuz", "", "Linux kernel image (bzImage) of the Linux guest, from an unpacked Debian linux-image package")
	modules   = flag.String("modules", "", "its lib/modules/VERSION directory (default: found next to -vmlinuz's boot/)")
	kname     = flag.String("kernel-name", "", "name of the Linux kernel package, for the table")
	runs      = flag.Int("runs", 3, "repetitions of every measurement per OS (medians are reported)")
	machine   = flag.String("machine", qemu.DefaultMachine, "QEMU machine type of every guest")
	smp       = flag.Int("smp", 1, "virtual CPUs of every guest")
	memMiB    = flag.Uint64("mem", 256, "memory of every guest, MiB")
	only      = flag.String("only", "http,tcp,disk,raw", "comma-separated measurements to run: http, tcp, disk, raw")
	clientsF  = flag.String("clients", "1,8", "comma-separated concurrent HTTP client counts")
	httpTime  = flag.Duration("http-time", 4*time.Second, "load-generator time per client count")
	tcpMiB    = flag.Int("tcp-mib", 64, "MiB sent from one guest to the other")
	diskMiB   = flag.Int("disk-mib", 64, "size of the file read sequentially, MiB")
	diskCache = flag.String("disk-cache", "unsafe", "QEMU cache mode of the disk (unsafe: fsync reaches the emulated device but not the host's disk)")
	tcpMixed  = flag.Bool("tcp-mixed", false, "also time TCP between one guest of each OS, both ways (a second table)")
	verbose   = flag.Bool("v", false, "print command lines and guest consoles")
)

func main() {
	flag.Parse()
	err := errors.New("-vmlinuz is required (scripts/bench-io.sh fetches one)")
	if *vmlinuz != "" {
		err = run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ioguest:", err)
		os.Exit(1)
	}
}

// results gathers one OS's outcomes over the runs.
type results struct {
	vals []map[string]float64
	errs map[string]string  // BENCHERR lines, by key
	fail map[string][]error // the failed runs of each measurement, by its name
}

func (r *results) add(bench string, vals map[string]float64, errs map[string]string, err error) {
	if err != nil {
		r.fail[bench] = append(r.fail[bench], err)
		fmt.Fprintln(os.Stderr, "ioguest:", err)
		return
	}
	r.vals = append(r.vals, vals)
	for k, v := range errs {
		r.errs[k] = v
	}
}

// value returns the median of key over the runs that measured it, or why
// there is none.
func (r *results) value(bench, key string) (float64, error) {
	if e, ok := r.errs[key]; ok {
		return 0, errors.New(e)
	}
	var vs []float64
	for _, m := range r.vals {
		if v, ok := m[key]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		if f := r.fail[bench]; len(f) > 0 {
			return 0, f[0]
		}
		return 0, fmt.Errorf("not measured")
	}
	return benchtab.Median(vs), nil
}

func run() error {
	root, err := image.FindRoot()
	if err != nil {
		return err
	}
	clients, err := parseClients(*clientsF)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, b := range strings.Split(*only, ",") {
		switch b {
		case "http", "tcp", "disk", "raw":
			want[b] = true
		default:
			return fmt.Errorf("-only: unknown measurement %q (want http, tcp, disk, raw)", b)
		}
	}
	if _, err := os.Stat(*vmlinuz); err != nil {
		return fmt.Errorf("-vmlinuz: %v", err)
	}
	modDir := *modules
	if modDir == "" {
		ver := strings.TrimPrefix(filepath.Base(*vmlinuz), "vmlinuz-")
		modDir = filepath.Join(filepath.Dir(filepath.Dir(*vmlinuz)), "lib", "modules", ver)
	}
	work, err := os.MkdirTemp("", "io-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	x, l, err := buildSides(root, work, *vmlinuz, modDir)
	if err != nil {
		return err
	}
	var disk *diskImage
	if want["disk"] || want["raw"] {
		if disk, err = newDiskImage(work, *diskMiB); err != nil {
			return err
		}
	}

	res := map[*side]*results{}
	for _, s := range []*side{x, l} {
		res[s] = &results{errs: map[string]string{}, fail: map[string][]error{}}
	}
	began := time.Now()
	for i := 0; i < *runs; i++ {
		// Alternate which OS goes first, so that a change in the host's
		// load hits both alike.
		order := []*side{x, l}
		if i%2 == 1 {
			order = []*side{l, x}
		}
		for _, s := range order {
			r := res[s]
			if want["http"] {
				v, err := httpBench(s, clients, *httpTime)
				r.add("http", v, nil, err)
			}
			if want["tcp"] {
				v, err := tcpBench(s, s, *tcpMiB)
				r.add("tcp", v, nil, err)
			}
			if want["disk"] {
				v, e, err := diskBench(s, disk)
				r.add("disk", v, e, err)
			}
			if want["raw"] {
				v, e, err := rawBench(s, disk)
				r.add("raw", v, e, err)
			}
		}
		fmt.Fprintf(os.Stderr, "ioguest: run %d of %d done after %v\n", i+1, *runs, time.Since(began).Round(time.Second))
	}

	type metric struct {
		bench, key, name, goal string
		decimals               int
	}
	var ms []metric
	for _, n := range clients {
		c := fmt.Sprintf("HTTP GET, %d keep-alive client(s)", n)
		k := "http-c" + strconv.Itoa(n)
		ms = append(ms,
			metric{"http", k + "-rps", c + ": requests/s", "X >= L", 1},
			metric{"http", k + "-p50ms", c + ": p50 latency (ms)", "X <= L", 2},
			metric{"http", k + "-p99ms", c + ": p99 latency (ms)", "X <= L", 2})
	}
	ms = append(ms,
		metric{"tcp", "tcp-MBps", fmt.Sprintf("TCP guest to guest, one stream of %d MiB (MB/s)", *tcpMiB), "X >= L", 1},
		metric{"disk", "seqread-MBps", fmt.Sprintf("ext2 /data: cold sequential read, %d MiB file, 1 MiB reads (MB/s)", *diskMiB), "X >= L", 1},
		metric{"disk", "fsync-per-s", "ext2 /data: 4 KiB append + fsync (per s)", "X >= L", 1},
		metric{"raw", "raw-MBps", "virtio-blk raw read, 1 MiB reads (Linux: O_DIRECT /dev/vda; X: blk driver) (MB/s)", "X >= L", 1})
	var rows [][]string
	for _, m := range ms {
		if !want[m.bench] {
			continue
		}
		xv, xe := res[x].value(m.bench, m.key)
		lv, le := res[l].value(m.bench, m.key)
		rows = append(rows, []string{m.name, benchtab.Num(xv, m.decimals, xe), benchtab.Num(lv, m.decimals, le), benchtab.Ratio(xv, lv, xe, le), m.goal})
	}

	name := benchtab.KernelName(*kname, *vmlinuz)
	fmt.Printf("\nI/O benchmark: XairrosX vs Linux guest (%s), medians of %d runs (%v in all)\n", name, *runs, time.Since(began).Round(time.Second))
	fmt.Printf("%s, TCG, -machine %s -cpu max -smp %d -m %dM, virtio-net-pci, virtio-blk-pci (cache=%s); Linux: -append %q\n\n",
		benchtab.QEMUVersion(), *machine, *smp, *memMiB, *diskCache, linuxCmd)
	benchtab.Print([]string{"metric", "XairrosX", "Linux guest", "ratio X/L", "goal"}, rows)
	if *tcpMixed {
		mixed(x, l)
	}
	for _, s := range []*side{x, l} {
		for _, b := range []string{"http", "tcp", "disk", "raw"} {
			if f := res[s].fail[b]; len(f) > 0 {
				fmt.Printf("\n%s, %s: %d of %d runs failed (medians of the others); first: %v\n", s.name, b, len(f), *runs, f[0])
			}
		}
	}
	return nil
}

func parseClients(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 60 {
			return nil, fmt.Errorf("-clients: %q is not a client count from 1 to 60", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// mixed times TCP between a guest of each OS, both ways, -runs times, and
// prints the medians: which side of XairrosX's stack, sending or
// receiving, holds the stream back.
func mixed(x, l *side) {
	var rows [][]string
	for _, p := range [][2]*side{{x, x}, {x, l}, {l, x}, {l, l}} {
		r := &results{errs: map[string]string{}, fail: map[string][]error{}}
		for i := 0; i < *runs; i++ {
			v, err := tcpBench(p[0], p[1], *tcpMiB)
			r.add("tcp", v, nil, err)
		}
		v, err := r.value("tcp", "tcp-MBps")
		rows = append(rows, []string{p[1].name, p[0].name, benchtab.Num(v, 1, err)})
	}
	fmt.Printf("\nTCP, one stream of %d MiB between two guests, medians of %d runs\n\n", *tcpMiB, *runs)
	benchtab.Print([]string{"sender", "receiver", "MB/s"}, rows)
}
