// Package cli implements `xairrosx ai`: eval, quantize, bench, inspect and
// test, the command-line face of the AI engine.
package cli

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: xairrosx ai COMMAND [ARGS]

commands:
  eval      [-model M] [-n N]            MNIST test-set accuracy and output hash
  quantize  [-calib N] IN.onnx OUT.onnx  post-training integer-only int8 quantization (MNIST calibration)
            -transformer IN.onnx OUT.onnx  integer-only transformer encoder (fixed unit-normal calibration)
            -dynamic IN.onnx OUT.onnx   int8 weights for MatMuls, activations quantized at run time
  bench     [-iters N] [-models L] [-rounds R]  latency/throughput vs ONNX Runtime: ratios, their range, CPU time
  inspect   MODEL.onnx                   graph summary
  test      DIR                          run an ONNX backend test case (DIR/model.onnx, test_data_set_*)
`

// Main runs `xairrosx ai` with the arguments after "ai" and returns the exit
// status.
func Main(args []string) int { return run(args, os.Stdout, os.Stderr) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "eval":
		err = cmdEval(args[1:], stdout, stderr)
	case "quantize":
		err = cmdQuantize(args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "inspect":
		err = cmdInspect(args[1:], stdout)
	case "test":
		var ok bool
		ok, err = cmdTest(args[1:], stdout)
		if err == nil && !ok {
			return 1
		}
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "xairrosx ai: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "xairrosx ai "+args[0]+":", err)
		return 1
	}
	return 0
}

// progress draws a progress bar on w for long runs.
type progress struct {
	w     io.Writer
	total int
	last  int
	label string
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, total: total, last: -1, label: label}
}

func (p *progress) set(done int) {
	if p.total <= 0 {
		return
	}
	pct := done * 100 / p.total / 5 * 5 // redraw every 5%
	if pct == p.last {
		return
	}
	p.last = pct
	const width = 30
	fill := pct * width / 100
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < fill {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(p.w, "\r%s [%s] %3d%% %d/%d", p.label, bar, pct, done, p.total)
	if done >= p.total {
		fmt.Fprintln(p.w)
	}
}
