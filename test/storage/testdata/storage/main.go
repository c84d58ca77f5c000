// Command storage exercises a persistent file system with unmodified Go
// programs: it runs in a XairrosX guest on the ext2 disk mounted at /data
// and natively on the host on a temporary directory, and prints only what
// must be the same in both places. The first argument picks the workload,
// the second is the directory it works in:
//
//	log-write DIR     append checksummed 4 KiB records to DIR/log after
//	                  the intact ones, fsync after each and print
//	                  "synced N", until killed
//	log-check DIR     count the intact records at the start of DIR/log
//	leveldb-write DIR write a goleveldb database in DIR/db and close it
//	leveldb-read DIR  reopen it, check every key, print a digest
//	files DIR         directories, renames, truncate, symlinks, links
//	fill DIR          fill the disk until ENOSPC, free space, write again
//	tree DIR          print every file under DIR with its size and digest
//	probe DIR         try to write in DIR and list it
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: storage log-write|log-check|leveldb-write|leveldb-read|files|fill|tree|probe DIR")
		os.Exit(2)
	}
	dir := os.Args[2]
	var err error
	switch os.Args[1] {
	case "log-write":
		err = logWrite(dir)
	case "log-check":
		err = logCheck(dir)
	case "leveldb-write":
		err = leveldbWrite(dir)
	case "leveldb-read":
		err = leveldbRead(dir)
	case "files":
		err = files(dir)
	case "fill":
		err = fill(dir)
	case "tree":
		err = tree(dir)
	case "probe":
		probe(dir)
	default:
		err = fmt.Errorf("unknown workload %q", os.Args[1])
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

// Records of the log: 4 KiB each, the record number, a payload derived
// from it, and a CRC-32 of everything before it in the last 4 bytes.
const (
	recSize    = 4096
	maxRecords = 4000 // 16 MiB: the loop ends by itself if nobody kills it
)

func record(n uint32) []byte {
	b := make([]byte, recSize)
	binary.LittleEndian.PutUint32(b, n)
	x := n*2654435761 + 1
	for i := 4; i < recSize-4; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	binary.LittleEndian.PutUint32(b[recSize-4:], crc32.ChecksumIEEE(b[:recSize-4]))
	return b
}

// syncDir makes a new name in dir durable (Linux needs it; on XairrosX the
// file's fsync already writes the directory).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// logWrite appends records to DIR/log after the intact ones already there
// (a log a power cut interrupted goes on where it was cut), with an fsync
// after each.
func logWrite(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syncDir(dir); err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	n := intact(b)
	if err := f.Truncate(int64(n) * recSize); err != nil {
		return err
	}
	if _, err := f.Seek(int64(n)*recSize, io.SeekStart); err != nil {
		return err
	}
	fmt.Println("resuming after", n)
	for i := uint32(n + 1); i <= maxRecords; i++ {
		if _, err := f.Write(record(i)); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		fmt.Println("synced", i)
	}
	return f.Close()
}

// intact counts the records at the start of b that are whole and right.
func intact(b []byte) int {
	n := 0
	for ; (n+1)*recSize <= len(b); n++ {
		if string(b[n*recSize:(n+1)*recSize]) != string(record(uint32(n+1))) {
			break
		}
	}
	return n
}

func logCheck(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		return err
	}
	n := intact(b)
	// What follows the intact records is a torn tail at most: a record
	// that was being written, or zeros from a size set before its data.
	fmt.Printf("intact records: %d\ntail bytes: %d\n", n, len(b)-n*recSize)
	return nil
}

// The database: keys k%05d with values whose length and bytes depend on
// the key and the batch that wrote them last; later batches overwrite and
// delete some of the earlier keys.
const (
	dbKeys    = 3000
	dbBatches = 4
)

func value(k, batch int) []byte {
	v := make([]byte, 16+(k*37+batch*11)%400)
	for i := range v {
		v[i] = byte(k*7 + batch*13 + i)
	}
	return v
}

func key(k int) []byte { return []byte(fmt.Sprintf("k%05d", k)) }

// expected returns the value key k must have after all batches, or nil if
// it was deleted.
func expected(k int) []byte {
	var v []byte
	for b := 0; b < dbBatches; b++ {
		switch {
		case b > 0 && k%(b+5) == 0:
			v = nil // deleted by batch b
		case b == 0 || k%(b+2) == 0:
			v = value(k, b)
		}
	}
	return v
}

func leveldbWrite(dir string) error {
	// Small tables and write buffer so that a few thousand keys make
	// several table files and level-0 compactions.
	o := &opt.Options{WriteBuffer: 64 << 10, CompactionTableSize: 64 << 10}
	db, err := leveldb.OpenFile(filepath.Join(dir, "db"), o)
	if err != nil {
		return err
	}
	for b := 0; b < dbBatches; b++ {
		batch := new(leveldb.Batch)
		for k := 0; k < dbKeys; k++ {
			switch {
			case b > 0 && k%(b+5) == 0:
				batch.Delete(key(k))
			case b == 0 || k%(b+2) == 0:
				batch.Put(key(k), value(k, b))
			}
		}
		if err := db.Write(batch, &opt.WriteOptions{Sync: true}); err != nil {
			db.Close()
			return err
		}
	}
	if err := db.CompactRange(util.Range{}); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Println("database written:", dbBatches, "batches")
	return nil
}

func leveldbRead(dir string) error {
	db, err := leveldb.OpenFile(filepath.Join(dir, "db"), &opt.Options{ErrorIfMissing: true})
	if err != nil {
		return err
	}
	defer db.Close()
	want := 0
	for k := 0; k < dbKeys; k++ {
		v, err := db.Get(key(k), nil)
		e := expected(k)
		switch {
		case e == nil && !errors.Is(err, leveldb.ErrNotFound):
			return fmt.Errorf("key %s: deleted, but Get says %v", key(k), err)
		case e != nil && err != nil:
			return fmt.Errorf("key %s: %v", key(k), err)
		case e != nil && string(v) != string(e):
			return fmt.Errorf("key %s: value of %d bytes differs from the %d written", key(k), len(v), len(e))
		}
		if e != nil {
			want++
		}
	}
	h := sha256.New()
	n := 0
	it := db.NewIterator(nil, nil)
	for it.Next() {
		h.Write(it.Key())
		h.Write(it.Value())
		n++
	}
	it.Release()
	if err := it.Error(); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("iterator found %d keys, want %d", n, want)
	}
	fmt.Printf("keys checked: %d, iterated: %d, digest %x\n", dbKeys, n, h.Sum(nil)[:8])
	return db.Close()
}

// files runs the os calls programs make on a data directory and prints
// what it sees after each group of them.
func files(dir string) error {
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	steps := []func() error{
		func() error { return os.MkdirAll(p("a", "b", "c"), 0o755) },
		func() error { return os.WriteFile(p("a", "one.txt"), []byte("first version\n"), 0o644) },
		func() error { return os.WriteFile(p("a", "two.txt"), []byte(strings.Repeat("two ", 3000)), 0o644) },
		func() error { return os.WriteFile(p("a", "b", "new.tmp"), []byte("second version\n"), 0o600) },
		func() error { return os.Rename(p("a", "b", "new.tmp"), p("a", "one.txt")) }, // over an existing file
		func() error { return os.Rename(p("a", "b", "c"), p("moved")) },              // a directory, to another parent
		func() error { return os.Truncate(p("a", "two.txt"), 5000) },
		func() error { return os.Symlink("a/one.txt", p("link")) },
		func() error { return os.Symlink(strings.Repeat("long/", 30)+"target", p("a", "longlink")) },
		func() error { return os.Link(p("a", "two.txt"), p("moved", "hard")) },
		func() error { return os.Remove(p("a", "b")) },
		func() error {
			f, err := os.OpenFile(p("sparse"), os.O_CREATE|os.O_RDWR, 0o644)
			if err != nil {
				return err
			}
			if _, err := f.WriteAt([]byte("end"), 300<<10); err != nil {
				f.Close()
				return err
			}
			if err := f.Truncate(100 << 10); err != nil {
				f.Close()
				return err
			}
			if _, err := f.WriteAt([]byte("middle"), 50<<10); err != nil {
				f.Close()
				return err
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
		func() error {
			// Many entries: the directory grows past one block.
			name := func(i int) string { return p("moved", fmt.Sprintf("entry-%03d-%s", i, strings.Repeat("x", 40))) }
			for i := 0; i < 60; i++ {
				if err := os.WriteFile(name(i), []byte{byte(i)}, 0o644); err != nil {
					return err
				}
			}
			for i := 0; i < 60; i += 3 {
				if err := os.Remove(name(i)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	if _, err := os.Stat(p("a", "b")); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("a/b still there: %v", err)
	}
	if err := os.Remove(p("a")); err == nil {
		return errors.New("removing the non-empty directory a succeeded")
	} else {
		fmt.Println("remove non-empty a:", errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST))
	}
	ents, err := os.ReadDir(p("a"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		fmt.Println("a/ entry:", e.Name(), e.Type())
	}
	return tree(dir)
}

// tree prints every name under dir (but lost+found) in lexical order with
// its type, size and a digest of its contents or link target.
func tree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "lost+found" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			fmt.Printf("%s/ dir\n", rel)
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Printf("%s -> %q\n", rel, t)
		default:
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			h := sha256.New()
			n, err := io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			links := uint64(1)
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				links = st.Nlink
			}
			fmt.Printf("%s %d bytes %v links %d sha256 %x\n", rel, n, info.Mode().Perm(), links, h.Sum(nil)[:8])
		}
		return nil
	})
}

// fill writes a file that must survive, fills the disk until the write
// fails with ENOSPC, removes the filler and writes again.
func fill(dir string) error {
	keep := make([]byte, 100<<10)
	for i := range keep {
		keep[i] = byte(i * 31)
	}
	if err := os.WriteFile(filepath.Join(dir, "keep"), keep, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		return err
	}
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 0xa5
	}
	var total int64
	for {
		n, err := f.Write(chunk)
		total += int64(n)
		if err != nil {
			fmt.Println("filler write error is ENOSPC:", errors.Is(err, syscall.ENOSPC))
			fmt.Fprintln(os.Stderr, "filler:", err, "after", total, "bytes")
			break
		}
		if total > 1<<30 {
			f.Close()
			return errors.New("wrote 1 GiB without running out of space")
		}
	}
	if err := f.Close(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	st, err := os.Stat(filepath.Join(dir, "filler"))
	if err != nil {
		return err
	}
	fmt.Println("filler size matches what was written:", st.Size() == total)
	if err := os.WriteFile(filepath.Join(dir, "more"), chunk, 0o644); err == nil {
		return errors.New("a second file was written on a full disk")
	} else {
		fmt.Println("second file on a full disk fails with ENOSPC:", errors.Is(err, syscall.ENOSPC))
	}
	if err := os.Remove(filepath.Join(dir, "more")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		return err
	}
	after := make([]byte, 256<<10)
	for i := range after {
		after[i] = byte(i * 7)
	}
	if err := os.WriteFile(filepath.Join(dir, "after"), after, 0o644); err != nil {
		return fmt.Errorf("writing after freeing space: %w", err)
	}
	fmt.Println("written after freeing space")
	return tree(dir)
}

// probe tries to create a file in dir and lists dir, printing the errors:
// what a program sees of a read-only or missing data disk.
func probe(dir string) {
	fmt.Println("write:", os.WriteFile(filepath.Join(dir, "probe"), []byte("x"), 0o644))
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	fmt.Println("list:", names, err)
}
