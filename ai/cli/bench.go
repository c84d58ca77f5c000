package cli

import (
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/ai/internal/ortref"
	"github.com/xairrosx/xairrosx/ai/internal/testmodels"
	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/quant"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// benchRow is one line of the comparison table; times are seconds per
// inference (per image for throughput rows).
type benchRow struct {
	model, mode     string
	ours, ort       float64
	oursCPU, ortCPU float64 // CPU seconds per run, for the 1-thread rows
	note            string
}

func compile(path string, threads int, shapes map[string][]int) (*runtime.Program, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := onnx.Load(b)
	if err != nil {
		return nil, err
	}
	return runtime.Compile(m, runtime.Options{Threads: threads, Shapes: shapes})
}

// compileDynamic compiles the dynamically int8-quantized form of a model.
func compileDynamic(path string, threads int, shapes map[string][]int) (*runtime.Program, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := onnx.Load(b)
	if err != nil {
		return nil, err
	}
	qm, _, err := quant.QuantizeDynamic(m)
	if err != nil {
		return nil, err
	}
	return runtime.Compile(qm, runtime.Options{Threads: threads, Shapes: shapes})
}

// timeRuns returns wall-clock and process CPU seconds per Exec over iters
// runs after a warm-up.
func timeRuns(p *runtime.Program, iters int) (wall, cpu float64) {
	for i := 0; i < max(2, iters/10); i++ {
		p.Exec()
	}
	c0 := cpuSeconds()
	t0 := time.Now()
	for i := 0; i < iters; i++ {
		p.Exec()
	}
	return time.Since(t0).Seconds() / float64(iters), (cpuSeconds() - c0) / float64(iters)
}

// rounds is how many times each measurement is repeated; the table reports
// the best round of each side, which filters out load from other processes.
var rounds = 3

// bestRuns is timeRuns repeated rounds times, keeping the fastest round.
func bestRuns(p *runtime.Program, iters int) (wall, cpu float64) {
	for r := 0; r < rounds; r++ {
		w, c := timeRuns(p, iters)
		if r == 0 || w < wall {
			wall = w
		}
		if r == 0 || c < cpu {
			cpu = c
		}
	}
	return wall, cpu
}

// bestORT is ortref.Bench repeated rounds times, keeping the fastest round.
func bestORT(model string, threads, iters int, feeds []map[string]*tensor.Tensor) (*ortref.BenchResult, error) {
	var best *ortref.BenchResult
	for r := 0; r < rounds; r++ {
		res, err := ortref.Bench(model, threads, iters, feeds)
		if err != nil {
			return nil, err
		}
		if best == nil {
			best = res
			continue
		}
		best.MeanMS = min(best.MeanMS, res.MeanMS)
		best.CPUMS = min(best.CPUMS, res.CPUMS)
	}
	return best, nil
}

// bestThroughput is throughput repeated rounds times, keeping the fastest.
func bestThroughput(path string, n, reps int) (float64, error) {
	best := 0.0
	for r := 0; r < rounds; r++ {
		t, err := throughput(path, n, reps)
		if err != nil {
			return 0, err
		}
		if r == 0 || t < best {
			best = t
		}
	}
	return best, nil
}

// cpuSeconds returns the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// throughput runs n independent single-image programs across all cores and
// returns seconds per image.
func throughput(path string, n, rounds int) (float64, error) {
	workers := goruntime.NumCPU()
	progs := make([]*runtime.Program, workers)
	for i := range progs {
		p, err := compile(path, 1, nil)
		if err != nil {
			return 0, err
		}
		progs[i] = p
		p.Exec()
	}
	t0 := time.Now()
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					progs[w].Exec()
				}
			}()
		}
		wg.Wait()
	}
	return time.Since(t0).Seconds() / float64(n*rounds), nil
}

func mnistInput() *tensor.Tensor {
	set, err := loadMNIST(false)
	x := tensor.MustNew(tensor.Float32, 1, 1, 28, 28)
	if err == nil {
		for j, v := range set.Images[0] {
			x.F32()[j] = float32(v)
		}
	}
	return x
}

func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	iters := fs.Int("iters", 2000, "batch-1 iterations for MNIST (the transformer uses iters/100)")
	models := fs.String("models", "mnist,transformer", "models to measure")
	fs.IntVar(&rounds, "rounds", 3, "repeat each measurement this many times and keep the best")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ncpu := goruntime.NumCPU()
	f32Impl, i8Impl := kernels.Current()
	var rows []benchRow
	step := func(s string) { fmt.Fprintf(stderr, "bench: %s\n", s) }
	if strings.Contains(*models, "mnist") {
		fpath, qpath := testmodels.MNIST(), testmodels.MNISTInt8()
		x := mnistInput()
		feeds := []map[string]*tensor.Tensor{{"Input3": x}}
		step("MNIST-8 batch-1 latency")
		pf, err := compile(fpath, 1, nil)
		if err != nil {
			return err
		}
		if _, err := pf.Run(x); err != nil {
			return err
		}
		oursF, oursFC := bestRuns(pf, *iters)
		pq, err := compile(qpath, 1, nil)
		if err != nil {
			return err
		}
		oursQ, oursQC := bestRuns(pq, *iters)
		ortF, err := bestORT(fpath, 1, *iters, feeds)
		if err != nil {
			return err
		}
		rows = append(rows,
			benchRow{"mnist-8", "float32 batch-1 latency, 1 thread", oursF, ortF.MeanMS / 1e3, oursFC, ortF.CPUMS / 1e3, ""},
			benchRow{"mnist-8", "int8 batch-1 latency, 1 thread", oursQ, ortF.MeanMS / 1e3, oursQC, ortF.CPUMS / 1e3, "vs ORT float32"})
		step("MNIST-8 batch-64 throughput")
		tf, err := bestThroughput(fpath, 64, max(1, *iters/64))
		if err != nil {
			return err
		}
		tq, err := bestThroughput(qpath, 64, max(1, *iters/64))
		if err != nil {
			return err
		}
		ortT, err := bestORT(fpath, ncpu, 64*max(1, *iters/64), feeds)
		if err != nil {
			return err
		}
		rows = append(rows,
			benchRow{"mnist-8", fmt.Sprintf("float32 64 images, %d cores", ncpu), tf, ortT.MeanMS / 1e3, 0, 0, "per image; model has batch 1"},
			benchRow{"mnist-8", fmt.Sprintf("int8 64 images, %d cores", ncpu), tq, ortT.MeanMS / 1e3, 0, 0, "per image, vs ORT float32"})
	}
	if strings.Contains(*models, "transformer") {
		tpath, err := testmodels.Transformer()
		if err != nil {
			return err
		}
		mk := func(batch int) *tensor.Tensor {
			x := tensor.MustNew(tensor.Float32, batch, 128, 256)
			r := rand.New(rand.NewSource(1))
			for i := range x.F32()[:x.Len()] {
				x.F32()[i] = float32(r.NormFloat64())
			}
			return x
		}
		it := max(3, *iters/100)
		step("transformer batch-1 latency")
		x1 := mk(1)
		p1, err := compile(tpath, 1, map[string][]int{"x": {1, 128, 256}})
		if err != nil {
			return err
		}
		if _, err := p1.Run(x1); err != nil {
			return err
		}
		ours1, ours1C := bestRuns(p1, it)
		ort1, err := bestORT(tpath, 1, it, []map[string]*tensor.Tensor{{"x": x1}})
		if err != nil {
			return err
		}
		step("transformer batch-64 throughput")
		x64 := mk(64)
		p64, err := compile(tpath, ncpu, map[string][]int{"x": {64, 128, 256}})
		if err != nil {
			return err
		}
		if _, err := p64.Run(x64); err != nil {
			return err
		}
		ours64, _ := bestRuns(p64, 3)
		ours64 /= 64
		step("transformer dynamic int8")
		q1, err := compileDynamic(tpath, 1, map[string][]int{"x": {1, 128, 256}})
		if err != nil {
			return err
		}
		if _, err := q1.Run(x1); err != nil {
			return err
		}
		oursQ1, oursQ1C := bestRuns(q1, it)
		q64, err := compileDynamic(tpath, ncpu, map[string][]int{"x": {64, 128, 256}})
		if err != nil {
			return err
		}
		if _, err := q64.Run(x64); err != nil {
			return err
		}
		oursQ64, _ := bestRuns(q64, 3)
		oursQ64 /= 64
		ort64, err := bestORT(tpath, ncpu, 3, []map[string]*tensor.Tensor{{"x": x64}})
		if err != nil {
			return err
		}
		step("transformer integer-only int8")
		ipath := testmodels.TransformerInt8()
		i1, err := compile(ipath, 1, nil)
		if err != nil {
			return err
		}
		oursI1, oursI1C := bestRuns(i1, it)
		oursI64, err := bestThroughput(ipath, 64, 1)
		if err != nil {
			return err
		}
		rows = append(rows,
			benchRow{"transformer", "float32 batch-1 latency, 1 thread", ours1, ort1.MeanMS / 1e3, ours1C, ort1.CPUMS / 1e3, ""},
			benchRow{"transformer", fmt.Sprintf("float32 batch-64, %d cores", ncpu), ours64, ort64.MeanMS / 1e3 / 64, 0, 0, "per sequence"},
			benchRow{"transformer", "int8 batch-1 latency, 1 thread", oursI1, ort1.MeanMS / 1e3, oursI1C, ort1.CPUMS / 1e3, "integer-only int8, vs ORT float32"},
			benchRow{"transformer", fmt.Sprintf("int8 64 sequences, %d cores", ncpu), oursI64, ort64.MeanMS / 1e3 / 64, 0, 0, "per sequence, integer-only int8 (batch-1 model), vs ORT float32"},
			benchRow{"transformer", "dyn-int8 batch-1 latency, 1 thread", oursQ1, ort1.MeanMS / 1e3, oursQ1C, ort1.CPUMS / 1e3, "dynamic int8 MatMuls, vs ORT float32"},
			benchRow{"transformer", fmt.Sprintf("dyn-int8 batch-64, %d cores", ncpu), oursQ64, ort64.MeanMS / 1e3 / 64, 0, 0, "per sequence, dynamic int8, vs ORT float32"})
	}
	fmt.Fprintf(stdout, "XairrosX AI engine vs ONNX Runtime (onnxruntime-node), same machine, one run, best of %d rounds each; kernels: float32 %v, int8 %v; %d CPUs\n", rounds, f32Impl, i8Impl, ncpu)
	fmt.Fprintf(stdout, "%-12s %-36s %12s %12s %6s %12s %12s %6s  %s\n", "model", "measure", "xairrosx", "onnxruntime", "ratio", "cpu xairrosx", "cpu ort", "ratio", "note")
	for _, r := range rows {
		if r.ours == 0 {
			fmt.Fprintf(stdout, "%-12s %-36s %12s %12s %6s %12s %12s %6s  %s\n", r.model, r.mode, "-", "-", "-", "-", "-", "-", r.note)
			continue
		}
		cpuO, cpuR, cpuRatio := "-", "-", "-"
		if r.oursCPU > 0 && r.ortCPU > 0 {
			cpuO, cpuR, cpuRatio = dur(r.oursCPU), dur(r.ortCPU), fmt.Sprintf("%.2f", r.oursCPU/r.ortCPU)
		}
		fmt.Fprintf(stdout, "%-12s %-36s %12s %12s %6.2f %12s %12s %6s  %s\n", r.model, r.mode, dur(r.ours), dur(r.ort), r.ours/r.ort, cpuO, cpuR, cpuRatio, r.note)
	}
	fmt.Fprintln(stdout, "ratio = xairrosx / onnxruntime (below 1: faster than ONNX Runtime); wall-clock time, and process CPU time per run for 1-thread rows.")
	fmt.Fprintln(stdout, "Goals: int8 batch-1 <= 1.00 vs ORT float32; float32 <= 1.50.")
	return nil
}

func dur(s float64) string {
	switch {
	case s < 1e-3:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.3f ms", s*1e3)
	}
	return fmt.Sprintf("%.3f s", s)
}
