package initramfs

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulesDir is where Modules puts the module files in the archive, and
// ModulesList the file that names them in load order, one path a line.
const (
	ModulesDir  = "lib/modules"
	ModulesList = "etc/modules"
)

// Source finds kernel modules by name and returns their object files
// (decompressed) and dependencies.
type Source interface {
	Module(name string) (ko []byte, deps []string, err error)
}

// Modules returns the archive entries for the modules names and everything
// they depend on: each module's .ko under ModulesDir, and ModulesList,
// which lists them so that every module comes after its dependencies (the
// order to load them in with finit_module(2)). A missing module or a
// dependency cycle is an error that names the module.
func Modules(src Source, names []string) ([]Entry, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var order []string
	kos := map[string][]byte{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("initramfs: module dependency cycle: %s", strings.Join(append(path, name), " -> "))
		}
		state[name] = visiting
		ko, deps, err := src.Module(name)
		if err != nil {
			if len(path) > 0 {
				return fmt.Errorf("initramfs: module %s (needed by %s): %w", name, path[len(path)-1], err)
			}
			return fmt.Errorf("initramfs: module %s: %w", name, err)
		}
		for _, d := range deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		kos[name] = ko
		order = append(order, name)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	entries := []Entry{{Name: "lib", Mode: ModeDir | 0o755}, {Name: ModulesDir, Mode: ModeDir | 0o755}, {Name: "etc", Mode: ModeDir | 0o755}}
	var list strings.Builder
	for _, n := range order {
		p := ModulesDir + "/" + n + ".ko"
		entries = append(entries, Entry{Name: p, Mode: ModeFile | 0o644, Data: kos[n]})
		fmt.Fprintln(&list, "/"+p)
	}
	return append(entries, Entry{Name: ModulesList, Mode: ModeFile | 0o644, Data: []byte(list.String())}), nil
}

// Modinfo returns the fields of a module's .modinfo section (NUL-separated
// key=value strings), e.g. "depends" and "vermagic"; a key that appears more
// than once keeps its values joined by commas.
func Modinfo(section []byte) map[string]string {
	m := map[string]string{}
	for _, f := range bytes.Split(section, []byte{0}) {
		k, v, ok := strings.Cut(string(f), "=")
		if !ok || k == "" {
			continue
		}
		if old, dup := m[k]; dup && old != "" {
			v = old + "," + v
		}
		m[k] = v
	}
	return m
}

// Dependencies returns the "depends" list of a module object file.
func Dependencies(ko []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, fmt.Errorf("not an ELF module: %v", err)
	}
	s := f.Section(".modinfo")
	if s == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	b, err := s.Data()
	if err != nil {
		return nil, fmt.Errorf(".modinfo: %v", err)
	}
	var deps []string
	for _, d := range strings.Split(Modinfo(b)["depends"], ",") {
		if d != "" {
			deps = append(deps, d)
		}
	}
	return deps, nil
}

// Tree is a Source over an unpacked kernel package's lib/modules/VERSION
// directory: it finds NAME.ko, NAME.ko.xz or NAME.ko.zst anywhere below
// it (module names treat '-' and '_' alike) and decompresses the last two
// with the host's xz or zstd.
type Tree struct {
	Dir   string
	index map[string]string
}

func modName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// Module implements Source.
func (t *Tree) Module(name string) ([]byte, []string, error) {
	if t.index == nil {
		t.index = map[string]string{}
		err := filepath.WalkDir(t.Dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			base := d.Name()
			for _, ext := range []string{".ko", ".ko.xz", ".ko.zst"} {
				if n, ok := strings.CutSuffix(base, ext); ok && !d.IsDir() {
					t.index[modName(n)] = p
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("module tree %s: %v", t.Dir, err)
		}
	}
	p, ok := t.index[modName(name)]
	if !ok {
		return nil, nil, fmt.Errorf("not found under %s (built into the kernel? see modules.builtin)", t.Dir)
	}
	var ko []byte
	var err error
	switch {
	case strings.HasSuffix(p, ".xz"):
		ko, err = exec.Command("xz", "-dc", p).Output()
	case strings.HasSuffix(p, ".zst"):
		ko, err = exec.Command("zstd", "-dc", p).Output()
	default:
		ko, err = os.ReadFile(p)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %v", p, err)
	}
	deps, err := Dependencies(ko)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", p, err)
	}
	return ko, deps, nil
}
