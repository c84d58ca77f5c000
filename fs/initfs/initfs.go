// Package initfs is the read-only initial file system of XairrosX: the
// program's data and configuration files, packed into the boot image by
// `xairrosx build` as a tar archive (FromTar) or taken from an io/fs.FS
// such as an embed.FS (FromFS). Contents are held in memory; every change
// is refused with EROFS.
package initfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/xairrosx/xairrosx/fs/internal/rotree"
)

// Magic is the statfs type reported (RAMFS_MAGIC).
const Magic = 0x858458f6

// FS is a read-only file system tree.
type FS struct {
	*rotree.Tree
}

// MaxFileSize bounds one file read from an archive (1 GiB), so a corrupt
// header cannot ask for unbounded memory.
const MaxFileSize = 1 << 30

func newFS() *FS { return &FS{rotree.New("initfs", Magic, time.Unix(0, 0))} }

// FromFS copies fsys (directories, regular files and, where fsys supports
// fs.ReadLinkFS, symbolic links) into a new FS.
func FromFS(fsys fs.FS) (*FS, error) {
	t := newFS()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("initfs: %s: %w", p, err)
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("initfs: %s: %w", p, err)
		}
		perm := uint32(info.Mode().Perm())
		mt := info.ModTime()
		switch {
		case d.IsDir():
			err = t.Mkdir(p, perm, mt)
		case d.Type()&fs.ModeSymlink != 0:
			var target string
			if target, err = fs.ReadLink(fsys, p); err == nil {
				err = t.AddSymlink(p, target, nil, mt)
			}
		case d.Type().IsRegular():
			var data []byte
			if data, err = fs.ReadFile(fsys, p); err == nil {
				err = t.AddFile(p, perm, mt, data)
			}
		default:
			err = fmt.Errorf("unsupported file type %v", d.Type())
		}
		if err != nil {
			return fmt.Errorf("initfs: %s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// FromTar reads a tar archive (directories, regular files, symbolic and
// hard links) into a new FS. Entries may come in any order; missing parent
// directories are made with mode 0555, and a later entry replaces an
// earlier file of the same name. Paths leaving the root, other entry types
// and truncated archives are errors naming the entry.
func FromTar(r io.Reader) (*FS, error) {
	t := newFS()
	tr := tar.NewReader(r)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("initfs: tar entry %d: %w", i, err)
		}
		perm := uint32(h.Mode) & 0o7777
		switch h.Typeflag {
		case tar.TypeDir:
			err = t.Mkdir(h.Name, perm, h.ModTime)
		case tar.TypeReg, tar.TypeRegA:
			if h.Size < 0 || h.Size > MaxFileSize {
				err = fmt.Errorf("size %d out of range", h.Size)
				break
			}
			data := make([]byte, h.Size)
			if _, err = io.ReadFull(tr, data); err == nil {
				err = t.AddFile(h.Name, perm, h.ModTime, data)
			}
		case tar.TypeSymlink:
			err = t.AddSymlink(h.Name, h.Linkname, nil, h.ModTime)
		case tar.TypeLink:
			err = t.AddHardLink(h.Name, h.Linkname)
		case tar.TypeXGlobalHeader:
		default:
			err = fmt.Errorf("unsupported entry type %q", h.Typeflag)
		}
		if err != nil {
			return nil, fmt.Errorf("initfs: tar entry %d %q: %w", i, h.Name, err)
		}
	}
}
