package cmdline

import (
	"reflect"
	"strings"
	"testing"
	"testing/quick"
)

func TestQuoteParseRoundTrip(t *testing.T) {
	cases := [][]string{
		{},
		{"a"},
		{""},
		{"", "", ""},
		{"hello world", "x"},
		{`say "hi"`, `back\slash`, `\`, `"`, `\"`, `\\`},
		{"tab\there", "new\nline", "ünïcödé", "--", "a=b c"},
		{"xairrosx.argv0=prog", "HOME=/", "--", "-flag", "value with  two spaces"},
	}
	for _, c := range cases {
		line := Quote(c)
		got, err := Parse(line)
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		if len(got) == 0 && len(c) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("Quote(%q) = %q, parsed back as %q", c, line, got)
		}
	}
}

func TestQuoteRoundTripRandom(t *testing.T) {
	f := func(args []string) bool {
		got, err := Parse(Quote(args))
		if err != nil {
			return false
		}
		return len(got) == len(args) && (len(args) == 0 || reflect.DeepEqual(got, args))
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
}

func TestQuoteLeavesPlainWordsAlone(t *testing.T) {
	if got, want := Quote([]string{"xairrosx.argv0=hello", "A=1", "--", "x"}), "xairrosx.argv0=hello A=1 -- x"; got != want {
		t.Errorf("Quote = %q, want %q", got, want)
	}
	if got, want := Quote([]string{"", "a b", `q"`}), `"" "a b" "q\""`; got != want {
		t.Errorf("Quote = %q, want %q", got, want)
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"a  b\tc", []string{"a", "b", "c"}},
		{`pre"mid dle"post`, []string{"premid dlepost"}},
		{`"" x`, []string{"", "x"}},
		{`a\b`, []string{`a\b`}},       // backslash outside quotes is literal
		{`"a\qb"`, []string{`a\qb`}},   // unknown escape keeps the backslash
		{`"\\\""`, []string{`\"`}},     // both escapes
		{`x=" y "`, []string{"x= y "}}, // quoted value
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{`"abc`, `a "b`, `"\"`, `"ab\`} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", in, got)
		} else if !strings.Contains(err.Error(), "quote") && !strings.Contains(err.Error(), "backslash") {
			t.Errorf("Parse(%q) error %q does not say what is wrong", in, err)
		}
	}
}

func TestBuildDecode(t *testing.T) {
	opts := map[string]string{"argv0": "my prog", "debug": ""}
	env := []string{"HOME=/root", "EMPTY=", "SPACE=a b"}
	args := []string{"-x", "", `"quoted"`, "--", "xairrosx.notanoption"}
	line, err := Build(opts, env, args)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, `"xairrosx.argv0=my prog" xairrosx.debug= HOME=/root`) {
		t.Errorf("Build = %q: options not first and sorted", line)
	}
	l, err := Decode(line)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Options, opts) || !reflect.DeepEqual(l.Env, env) || !reflect.DeepEqual(l.Args, args) {
		t.Errorf("Decode(Build) = %+v, want %v %v %v", l, opts, env, args)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	for _, env := range []string{"NOEQUALS", "=value", "xairrosx.argv0=x", "A B=c"} {
		if _, err := Build(nil, []string{env}, nil); err == nil {
			t.Errorf("Build accepted environment entry %q", env)
		}
	}
	if _, err := Build(map[string]string{"a b": "x"}, nil, nil); err == nil {
		t.Error("Build accepted option name with a space")
	}
}

func TestDecodeRejectsStrayWord(t *testing.T) {
	if _, err := Decode("xairrosx.argv0=a stray -- x"); err == nil {
		t.Error("Decode accepted a word that is neither option nor NAME=VALUE")
	}
}
