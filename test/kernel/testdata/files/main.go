// Command files exercises the os package's file API: directories, files,
// appends, renames, links, listings, truncation, pipes and the errors of bad
// operations. It prints what it saw, the same on Linux and on XairrosX.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func check(what string, err error) {
	if err != nil {
		fmt.Printf("%s: error %v\n", what, errors.Unwrap(err))
		return
	}
	fmt.Printf("%s: ok\n", what)
}

func main() {
	dir, err := os.MkdirTemp("", "files-")
	if err != nil {
		fmt.Println("MkdirTemp:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	p := func(name string) string { return filepath.Join(dir, name) }

	check("write a.txt", os.WriteFile(p("a.txt"), []byte("hello\n"), 0o644))
	f, err := os.OpenFile(p("a.txt"), os.O_APPEND|os.O_WRONLY, 0)
	check("open for append", err)
	if err == nil {
		fmt.Fprintf(f, "world %d\n", 42)
		f.Close()
	}
	b, err := os.ReadFile(p("a.txt"))
	check("read a.txt", err)
	fmt.Printf("content %q\n", b)

	check("mkdir sub", os.Mkdir(p("sub"), 0o755))
	check("mkdir sub again", os.Mkdir(p("sub"), 0o755))
	check("mkdirall deep", os.MkdirAll(p("sub/x/y/z"), 0o755))
	check("rename a.txt", os.Rename(p("a.txt"), p("sub/b.txt")))
	_, err = os.Stat(p("a.txt"))
	fmt.Println("old name gone:", errors.Is(err, fs.ErrNotExist))
	st, err := os.Stat(p("sub/b.txt"))
	check("stat b.txt", err)
	if err == nil {
		fmt.Println("size", st.Size(), "mode", st.Mode(), "dir", st.IsDir())
	}
	check("symlink", os.Symlink("sub/b.txt", p("link")))
	target, err := os.Readlink(p("link"))
	check("readlink", err)
	fmt.Println("link ->", target)
	lb, err := os.ReadFile(p("link"))
	check("read through link", err)
	fmt.Printf("via link %q\n", lb)

	check("truncate", os.Truncate(p("sub/b.txt"), 3))
	tb, _ := os.ReadFile(p("sub/b.txt"))
	fmt.Printf("truncated %q\n", tb)

	for i := 0; i < 5; i++ {
		os.WriteFile(p(fmt.Sprintf("sub/f%d", i)), []byte(strings.Repeat("x", i*100)), 0o600)
	}
	entries, err := os.ReadDir(p("sub"))
	check("readdir", err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	fmt.Println("entries", names)

	check("remove non-empty dir", os.Remove(p("sub")))
	check("removeall", os.RemoveAll(p("sub")))
	_, err = os.Open(p("missing"))
	fmt.Println("missing file:", errors.Is(err, fs.ErrNotExist))
	_, err = os.ReadFile(dir)
	fmt.Println("read a directory fails:", err != nil)

	// Seek, ReadAt, WriteAt on one file.
	g, err := os.Create(p("rw"))
	check("create rw", err)
	if err == nil {
		g.WriteString("0123456789")
		g.WriteAt([]byte("AB"), 4)
		g.Seek(2, io.SeekStart)
		buf := make([]byte, 5)
		n, _ := g.Read(buf)
		fmt.Printf("seek+read %q\n", buf[:n])
		n, _ = g.ReadAt(buf, 7)
		fmt.Printf("readat %q\n", buf[:n])
		g.Close()
	}

	// A pipe between two goroutines.
	r, w, err := os.Pipe()
	check("pipe", err)
	if err == nil {
		go func() {
			for i := 0; i < 3; i++ {
				fmt.Fprintf(w, "line %d\n", i)
			}
			w.Close()
		}()
		all, _ := io.ReadAll(r)
		fmt.Printf("pipe read %q\n", all)
		r.Close()
	}
	// Files the runtime and common programs read.
	sm, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	fmt.Println("somaxconn readable:", err == nil && len(sm) > 0)
	_, err = os.ReadFile("/proc/self/mountinfo")
	fmt.Println("mountinfo readable:", err == nil)
	wd, err := os.Getwd()
	check("getwd", err)
	fmt.Println("cwd is absolute:", filepath.IsAbs(wd))
}
