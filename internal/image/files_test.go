package image

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestPackFiles(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc/app"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc/app/config.toml"), []byte("a = 1\n"), 0o600)
	os.Symlink("etc/app/config.toml", filepath.Join(dir, "config"))
	os.Mkdir(filepath.Join(dir, "tmp"), 0o1777)
	out := filepath.Join(t.TempDir(), "fs.tar")
	if err := packFiles(dir, out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		switch h.Name {
		case "etc/app/config.toml":
			b, _ := io.ReadAll(tr)
			if string(b) != "a = 1\n" || h.Mode != 0o600 {
				t.Errorf("config: %q mode %o", b, h.Mode)
			}
		case "config":
			if h.Typeflag != tar.TypeSymlink || h.Linkname != "etc/app/config.toml" {
				t.Errorf("symlink: %+v", h)
			}
		}
	}
	sort.Strings(names)
	// The mount points the file-system service needs are added once.
	want := "config etc/ etc/app/ etc/app/config.toml proc/ sys/ tmp/"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("archive holds %q, want %q", got, want)
	}
}

func TestPackFilesRefusesBadInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "fs.tar")
	if err := packFiles(filepath.Join(t.TempDir(), "missing"), out); err == nil || !strings.Contains(err.Error(), "-files") {
		t.Errorf("missing directory: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if err := packFiles(file, out); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}
}
