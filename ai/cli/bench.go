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
// inference (per image or sequence for throughput rows), the best of the
// rounds for each side; lo and hi are the smallest and largest ratio of
// the rounds (each round measures both sides, one after the other).
type benchRow struct {
	model, mode     string
	ours, ort       float64
	oursCPU, ortCPU float64 // process CPU seconds per inference
	lo, hi          float64
	note            string
}

// side measures one implementation once: wall-clock and process CPU
// seconds per inference.
type side func() (wall, cpu float64, err error)

// rounds is how many times each pair of measurements is repeated.
var rounds = 3

// measure runs ours and then ort, rounds times, and returns the row.
func measure(model, mode, note string, ours, ort side) (benchRow, error) {
	r := benchRow{model: model, mode: mode, note: note}
	for i := 0; i < rounds; i++ {
		ow, oc, err := ours()
		if err != nil {
			return r, err
		}
		tw, tc, err := ort()
		if err != nil {
			return r, err
		}
		ratio := ow / tw
		if i == 0 {
			r.ours, r.oursCPU, r.ort, r.ortCPU, r.lo, r.hi = ow, oc, tw, tc, ratio, ratio
			continue
		}
		r.ours, r.oursCPU, r.ort, r.ortCPU = min(r.ours, ow), min(r.oursCPU, oc), min(r.ort, tw), min(r.ortCPU, tc)
		r.lo, r.hi = min(r.lo, ratio), max(r.hi, ratio)
	}
	return r, nil
}

// ortSide measures ONNX Runtime on model with threads intra-op threads;
// per divides the time of one run (a batch) into per-inference time.
func ortSide(model string, threads, iters int, feeds []map[string]*tensor.Tensor, per float64) side {
	return func() (float64, float64, error) {
		res, err := ortref.Bench(model, threads, iters, feeds)
		if err != nil {
			return 0, 0, err
		}
		return res.MeanMS / 1e3 / per, res.CPUMS / 1e3 / per, nil
	}
}

// progSide measures p.Exec over iters runs; per as in ortSide.
func progSide(p *runtime.Program, iters int, per float64) side {
	return func() (float64, float64, error) {
		w, c := timeRuns(p, iters)
		return w / per, c / per, nil
	}
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

// cpuSeconds returns the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// throughputSide runs n independent single-input programs of the model
// across all cores, reps times, and measures seconds per input.
func throughputSide(path string, n, reps int) (side, error) {
	workers := goruntime.NumCPU()
	progs := make([]*runtime.Program, workers)
	for i := range progs {
		p, err := compile(path, 1, nil)
		if err != nil {
			return nil, err
		}
		progs[i] = p
		p.Exec()
	}
	return func() (float64, float64, error) {
		w, c := throughput(progs, n, reps)
		return w, c, nil
	}, nil
}

// throughput runs the programs on n inputs, rounds times, and returns
// wall-clock and CPU seconds per input.
func throughput(progs []*runtime.Program, n, rounds int) (float64, float64) {
	workers := len(progs)
	c0 := cpuSeconds()
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
	return time.Since(t0).Seconds() / float64(n*rounds), (cpuSeconds() - c0) / float64(n*rounds)
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
	fs.IntVar(&rounds, "rounds", 3, "measure each pair this many times (ours, then ONNX Runtime); the table shows the best of each side and the range of the ratios")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ncpu := goruntime.NumCPU()
	f32Impl, i8Impl := kernels.Current()
	var rows []benchRow
	add := func(model, mode, note string, ours, ort side) error {
		fmt.Fprintf(stderr, "bench: %s %s\n", model, mode)
		r, err := measure(model, mode, note, ours, ort)
		rows = append(rows, r)
		return err
	}
	if strings.Contains(*models, "mnist") {
		fpath, qpath := testmodels.MNIST(), testmodels.MNISTInt8()
		x := mnistInput()
		feeds := []map[string]*tensor.Tensor{{"Input3": x}}
		pf, err := compile(fpath, 1, nil)
		if err != nil {
			return err
		}
		if _, err := pf.Run(x); err != nil {
			return err
		}
		pq, err := compile(qpath, 1, nil)
		if err != nil {
			return err
		}
		ort1 := ortSide(fpath, 1, *iters, feeds, 1)
		reps := max(1, *iters/64)
		tf, err := throughputSide(fpath, 64, reps)
		if err != nil {
			return err
		}
		tq, err := throughputSide(qpath, 64, reps)
		if err != nil {
			return err
		}
		ortT := ortSide(fpath, ncpu, 64*reps, feeds, 1)
		for _, e := range []error{
			add("mnist-8", "float32 batch-1 latency, 1 thread", "", progSide(pf, *iters, 1), ort1),
			add("mnist-8", "int8 batch-1 latency, 1 thread", "vs ORT float32", progSide(pq, *iters, 1), ort1),
			add("mnist-8", fmt.Sprintf("float32 64 images, %d cores", ncpu), "per image; model has batch 1", tf, ortT),
			add("mnist-8", fmt.Sprintf("int8 64 images, %d cores", ncpu), "per image, vs ORT float32", tq, ortT),
		} {
			if e != nil {
				return e
			}
		}
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
		x1, x64 := mk(1), mk(64)
		shape1, shape64 := map[string][]int{"x": {1, 128, 256}}, map[string][]int{"x": {64, 128, 256}}
		p1, err := compile(tpath, 1, shape1)
		if err != nil {
			return err
		}
		p64, err := compile(tpath, ncpu, shape64)
		if err != nil {
			return err
		}
		q1, err := compileDynamic(tpath, 1, shape1)
		if err != nil {
			return err
		}
		q64, err := compileDynamic(tpath, ncpu, shape64)
		if err != nil {
			return err
		}
		for _, pr := range []struct {
			p *runtime.Program
			x *tensor.Tensor
		}{{p1, x1}, {p64, x64}, {q1, x1}, {q64, x64}} {
			if _, err := pr.p.Run(pr.x); err != nil {
				return err
			}
		}
		ipath := testmodels.TransformerInt8()
		i1, err := compile(ipath, 1, nil)
		if err != nil {
			return err
		}
		i64, err := throughputSide(ipath, 64, 1)
		if err != nil {
			return err
		}
		ort1 := ortSide(tpath, 1, it, []map[string]*tensor.Tensor{{"x": x1}}, 1)
		ort64 := ortSide(tpath, ncpu, 3, []map[string]*tensor.Tensor{{"x": x64}}, 64)
		for _, e := range []error{
			add("transformer", "float32 batch-1 latency, 1 thread", "", progSide(p1, it, 1), ort1),
			add("transformer", fmt.Sprintf("float32 batch-64, %d cores", ncpu), "per sequence", progSide(p64, 3, 64), ort64),
			add("transformer", "int8 batch-1 latency, 1 thread", "integer-only int8, vs ORT float32", progSide(i1, it, 1), ort1),
			add("transformer", fmt.Sprintf("int8 64 sequences, %d cores", ncpu), "per sequence, integer-only int8 (batch-1 model), vs ORT float32", i64, ort64),
			add("transformer", "dyn-int8 batch-1 latency, 1 thread", "dynamic int8 MatMuls, vs ORT float32", progSide(q1, it, 1), ort1),
			add("transformer", fmt.Sprintf("dyn-int8 batch-64, %d cores", ncpu), "per sequence, dynamic int8, vs ORT float32", progSide(q64, 3, 64), ort64),
		} {
			if e != nil {
				return e
			}
		}
	}
	fmt.Fprintf(stdout, "XairrosX AI engine vs ONNX Runtime (onnxruntime-node), same machine, one run, %d rounds of (ours, ORT) per row; kernels: float32 %v, int8 %v; %d CPUs\n", rounds, f32Impl, i8Impl, ncpu)
	fmt.Fprintf(stdout, "%-12s %-36s %11s %11s %6s %11s %11s %11s %6s  %s\n", "model", "measure", "xairrosx", "onnxruntime", "ratio", "range", "cpu ours", "cpu ort", "ratio", "note")
	for _, r := range rows {
		if r.ours == 0 || r.ort == 0 {
			continue
		}
		cpuRatio := "-"
		if r.oursCPU > 0 && r.ortCPU > 0 {
			cpuRatio = fmt.Sprintf("%.2f", r.oursCPU/r.ortCPU)
		}
		fmt.Fprintf(stdout, "%-12s %-36s %11s %11s %6.2f %11s %11s %11s %6s  %s\n", r.model, r.mode, dur(r.ours), dur(r.ort), r.ours/r.ort,
			fmt.Sprintf("%.2f-%.2f", r.lo, r.hi), dur(r.oursCPU), dur(r.ortCPU), cpuRatio, r.note)
	}
	fmt.Fprintln(stdout, "ratio = xairrosx / onnxruntime, best round of each (below 1: faster than ONNX Runtime); range: the ratios of the single rounds;")
	fmt.Fprintln(stdout, "cpu: process CPU time per inference (all threads; ONNX Runtime's includes its helper threads).")
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
