package benchtab

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	out := "boot noise\r\nBENCH getpid 123.5\r\nBENCH bad x\nBENCHERR fsync-per-s open /data/f: read-only file system\nBENCH tcp-MBps 7\nBENCH too many fields\n"
	vals, errs := Parse(out)
	if len(vals) != 2 || vals["getpid"] != 123.5 || vals["tcp-MBps"] != 7 {
		t.Errorf("values: %v", vals)
	}
	if len(errs) != 1 || errs["fsync-per-s"] != "open /data/f: read-only file system" {
		t.Errorf("errors: %q", errs)
	}
}

func TestMedians(t *testing.T) {
	if m := Median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median of 5 1 3 = %v", m)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 3 {
		t.Errorf("median of 4 1 3 2 = %v, want the upper middle 3", m)
	}
	if m := Median(nil); m != 0 {
		t.Errorf("median of nothing = %v", m)
	}
	ms := Medians([]map[string]float64{{"a": 1, "b": 10}, {"a": 3}, {"a": 2, "b": 30}})
	if ms["a"] != 2 || ms["b"] != 30 || len(ms) != 2 {
		t.Errorf("medians: %v", ms)
	}
}

func TestFormat(t *testing.T) {
	got := Format([]string{"metric", "X"}, [][]string{{"req/s", Num(21.25, 1, nil)}, {"long metric name", Num(0, 1, errors.New("guest did not boot"))}})
	want := "| metric           | X                        |\n" +
		"| ---------------- | ------------------------ |\n" +
		"| req/s            | 21.2                     |\n" +
		"| long metric name | n/a (guest did not boot) |\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if r := Ratio(1, 4, nil, nil); r != "0.250" {
		t.Errorf("ratio 1/4 = %s", r)
	}
	if r := Ratio(1, 0, nil, nil); r != "-" {
		t.Errorf("ratio 1/0 = %s", r)
	}
	if r := Ratio(1, 2, errors.New("x"), nil); r != "-" {
		t.Errorf("ratio with a missing value = %s", r)
	}
}
