// Package cmdline quotes and parses the XairrosX kernel command line on the
// host side.
//
// The kernel command line (QEMU's -append) is a list of words separated by
// spaces. A word may contain double-quoted parts; inside quotes, \" stands
// for a quote and \\ for a backslash, and spaces are part of the word. Outside
// quotes a backslash is an ordinary character. With these rules any list of
// strings, including empty strings and strings holding spaces, quotes or
// backslashes, survives Quote followed by Parse.
//
// Words before a lone "--" are kernel options (prefix "xairrosx.") or
// NAME=VALUE environment variables for the program; words after it are the
// program's os.Args[1:]. Split and Build apply that layout. The kernel has
// its own parser for the same grammar; this package is its host twin, used by
// the host tool and its unit tests.
package cmdline

import (
	"fmt"
	"sort"
	"strings"
)

// OptionPrefix starts every kernel option word.
const OptionPrefix = "xairrosx."

// Quote joins args into one command line that Parse turns back into args.
// Words made only of safe characters are written as they are; any other word
// is written inside double quotes.
func Quote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if plain(a) {
			b.WriteString(a)
			continue
		}
		b.WriteByte('"')
		for j := 0; j < len(a); j++ {
			c := a[j]
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	}
	return b.String()
}

// plain reports whether s can be written without quotes.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
}

// Parse splits a command line into words by the rules of the package doc.
// Any run of spaces, tabs or newlines separates words. It reports an error
// for an unterminated quote or a backslash at the end of a quoted part.
func Parse(line string) ([]string, error) {
	var words []string
	var cur []byte
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			inWord = true
			start := i
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					if i+1 >= len(line) {
						return nil, fmt.Errorf("cmdline: backslash at end of line in quote starting at byte %d", start)
					}
					if n := line[i+1]; n == '"' || n == '\\' {
						i++
					}
				}
				cur = append(cur, line[i])
			}
			if i >= len(line) {
				return nil, fmt.Errorf("cmdline: unterminated quote starting at byte %d", start)
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, string(cur))
				cur = cur[:0]
				inWord = false
			}
		default:
			inWord = true
			cur = append(cur, c)
		}
	}
	if inWord {
		words = append(words, string(cur))
	}
	return words, nil
}

// Line is the decoded content of a kernel command line.
type Line struct {
	// Options maps each kernel option name (without the "xairrosx." prefix)
	// to its value; an option written without "=" has the value "".
	Options map[string]string
	// Env holds the NAME=VALUE words for the program, in order.
	Env []string
	// Args holds the words after "--": the program's os.Args[1:].
	Args []string
}

// Build returns the command line that passes options, environment entries
// and program arguments. Options are written in sorted order of their names.
// Each env entry must have the form NAME=VALUE with a non-empty NAME that
// does not start with the option prefix.
func Build(options map[string]string, env, args []string) (string, error) {
	var words []string
	names := make([]string, 0, len(options))
	for k := range options {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "" || strings.ContainsAny(k, "= \t\n\"\\") {
			return "", fmt.Errorf("cmdline: bad kernel option name %q", k)
		}
		words = append(words, OptionPrefix+k+"="+options[k])
	}
	for _, e := range env {
		if err := CheckEnv(e); err != nil {
			return "", err
		}
		words = append(words, e)
	}
	words = append(words, "--")
	words = append(words, args...)
	return Quote(words), nil
}

// CheckEnv reports whether e is a usable NAME=VALUE environment entry.
func CheckEnv(e string) error {
	name, _, ok := strings.Cut(e, "=")
	switch {
	case !ok:
		return fmt.Errorf("environment entry %q: want NAME=VALUE", e)
	case name == "":
		return fmt.Errorf("environment entry %q: empty NAME", e)
	case strings.HasPrefix(name, OptionPrefix):
		return fmt.Errorf("environment entry %q: names starting with %q are kernel options", e, OptionPrefix)
	case strings.ContainsAny(name, " \t\n\"\\"):
		return fmt.Errorf("environment entry %q: NAME holds a space, quote or backslash", e)
	}
	return nil
}

// Decode parses a command line and sorts its words into options,
// environment entries and arguments. A word before "--" that is neither an
// option nor NAME=VALUE is an error.
func Decode(line string) (Line, error) {
	words, err := Parse(line)
	if err != nil {
		return Line{}, err
	}
	l := Line{Options: map[string]string{}}
	for i, w := range words {
		if w == "--" {
			l.Args = append([]string{}, words[i+1:]...)
			return l, nil
		}
		if rest, ok := strings.CutPrefix(w, OptionPrefix); ok {
			k, v, _ := strings.Cut(rest, "=")
			l.Options[k] = v
			continue
		}
		if err := CheckEnv(w); err != nil {
			return Line{}, fmt.Errorf("cmdline: word %d: %v", i, err)
		}
		l.Env = append(l.Env, w)
	}
	return l, nil
}
