// Package benchtab holds what the side-by-side benchmarks (XairrosX next to
// a Linux guest: bench/linuxguest, bench/ioguest) share: reading the
// "BENCH name value" lines a guest prints, medians over runs, and the
// formatting of one table with both columns and their ratio.
package benchtab

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Parse returns the values of the "BENCH name value" lines in a guest's
// console output, and the errors of its "BENCHERR name message" lines.
// Carriage returns (a Linux tty writes "\r\n") are ignored.
func Parse(out string) (map[string]float64, map[string]string) {
	vals, errs := map[string]float64{}, map[string]string{}
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r", ""), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "BENCH":
			if v, err := strconv.ParseFloat(f[2], 64); err == nil {
				vals[f[1]] = v
			}
		case len(f) >= 2 && f[0] == "BENCHERR":
			errs[f[1]] = strings.Join(f[2:], " ")
		}
	}
	return vals, errs
}

// Median returns the median of vs (the upper one of an even count), 0 for
// none. It sorts vs.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	sort.Float64s(vs)
	return vs[len(vs)/2]
}

// Medians returns, for each key of the first map, the median of its values
// over all maps that have it.
func Medians(ms []map[string]float64) map[string]float64 {
	out := map[string]float64{}
	if len(ms) == 0 {
		return out
	}
	for k := range ms[0] {
		var vs []float64
		for _, m := range ms {
			if v, ok := m[k]; ok {
				vs = append(vs, v)
			}
		}
		out[k] = Median(vs)
	}
	return out
}

// NA formats a missing value with a short reason.
func NA(err error) string {
	msg := err.Error()
	if len(msg) > 60 {
		msg = msg[:60] + "..."
	}
	return "n/a (" + msg + ")"
}

// Num formats v with the given number of decimals, or the reason it is
// missing.
func Num(v float64, decimals int, err error) string {
	if err != nil {
		return NA(err)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// Ratio formats a/b, or "-" when either is missing or b is 0.
func Ratio(a, b float64, ea, eb error) string {
	if ea != nil || eb != nil || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", a/b)
}

// Print writes a Markdown table with the header head to stdout.
func Print(head []string, rows [][]string) {
	fmt.Print(Format(head, rows))
}

// Format returns a Markdown table with the header head, columns padded to
// their widest cell.
func Format(head []string, rows [][]string) string {
	w := make([]int, len(head))
	for _, r := range append([][]string{head}, rows...) {
		for i, c := range r {
			if i < len(w) {
				w[i] = max(w[i], len(c))
			}
		}
	}
	var b strings.Builder
	line := func(r []string) {
		for i := range w {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			fmt.Fprintf(&b, "| %-*s ", w[i], c)
		}
		b.WriteString("|\n")
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = strings.Repeat("-", w[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

// QEMUVersion returns the first line of qemu-system-x86_64 --version, for
// a table's heading.
func QEMUVersion() string {
	out, err := exec.Command("qemu-system-x86_64", "--version").Output()
	if err != nil {
		return "qemu-system-x86_64 (version unknown: " + err.Error() + ")"
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return first
}

// KernelName returns name, or the base name of the kernel image vmlinuz
// when name is empty: the Linux guest's kernel in a table's heading.
func KernelName(name, vmlinuz string) string {
	if name == "" {
		return filepath.Base(vmlinuz)
	}
	return name
}
