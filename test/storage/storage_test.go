package storage_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPowerCut appends fsync'd 4 KiB records to /data/log and kills QEMU
// (SIGKILL) while the loop runs, once it has reported a number of records
// synced. The next boot must repair the file system, find every reported
// record intact and leave the image clean; then the log goes on from there
// and is cut again, three times, at different sizes (1 KiB blocks: the
// first cut comes soon after the file needs its indirect block).
func TestPowerCut(t *testing.T) {
	disk := newDisk(t, "32M", 1024)
	lastSynced, intact := 0, 0
	for _, cutAt := range []int{10, 40, 70} {
		cut := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"log-write", "/data"},
			watch: func(line string) bool {
				if n, ok := strings.CutPrefix(line, "synced "); ok {
					if v, err := strconv.Atoi(n); err == nil {
						lastSynced = v
					}
				}
				return lastSynced >= cutAt
			}})
		if lastSynced < cutAt {
			t.Fatalf("saw %d synced records before the cut:\n%s", lastSynced, cut.out)
		}
		if want := fmt.Sprintf("resuming after %d\n", intact); !strings.Contains(cut.out, want) {
			t.Errorf("the writer did not go on after the %d intact records:\n%s", intact, cut.out)
		}
		check := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"log-check", "/data"}})
		wantClean(t, "log-check", check)
		// The file system was not unmounted: the mount repairs it first.
		if !strings.Contains(check.out, "xairrosx: /data was not cleanly unmounted: repaired\n") {
			t.Errorf("the mount after the power cut did not report a repair:\n%s", check.out)
		}
		m := regexp.MustCompile(`intact records: (\d+)\ntail bytes: (\d+)\n`).FindStringSubmatch(check.out)
		if m == nil {
			t.Fatalf("log-check output:\n%s", check.out)
		}
		intact, _ = strconv.Atoi(m[1])
		t.Logf("power cut after %d records reported synced; after the reboot %d intact records, %s bytes of torn tail", lastSynced, intact, m[2])
		if intact < lastSynced {
			t.Errorf("%d intact records after the power cut, but %d were reported synced:\n%s", intact, lastSynced, check.out)
		}
		if tail, _ := strconv.Atoi(m[2]); tail >= 2*4096 {
			t.Errorf("%d bytes after the intact records: more than one torn record", tail)
		}
		fsck(t, disk)
	}
}

// TestGoleveldbReboot writes a goleveldb database on /data in one boot and
// reads every key back in the next; the output must match the same
// program run natively on the host.
func TestGoleveldbReboot(t *testing.T) {
	dir := t.TempDir()
	want := native(t, storagePkg, "leveldb-write", dir) + native(t, storagePkg, "leveldb-read", dir)

	disk := newDisk(t, "32M", 4096)
	w := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"leveldb-write", "/data"}})
	wantClean(t, "leveldb-write", w)
	fsck(t, disk)
	r := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"leveldb-read", "/data"}})
	wantClean(t, "leveldb-read", r)
	sameOutput(t, "guest vs native", w.out+r.out, want)
	t.Logf("guest: %s", strings.TrimSpace(r.out))
	fsck(t, disk)
}

// TestFilesOnDisk runs os file I/O with directories, renames, truncation,
// symlinks and hard links on /data, compares what the program sees with a
// native run, checks the image with e2fsck and debugfs, and reads the tree
// back after a reboot.
func TestFilesOnDisk(t *testing.T) {
	dir := t.TempDir()
	want := native(t, storagePkg, "files", dir)

	disk := newDisk(t, "16M", 1024)
	r := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"files", "/data"}})
	wantClean(t, "files", r)
	sameOutput(t, "guest vs native", r.out, want)
	fsck(t, disk)

	// What the host's tools read from the image.
	if got := debugfs(t, disk, "cat /a/one.txt"); got != "second version\n" {
		t.Errorf("debugfs cat /a/one.txt = %q", got)
	}
	ls := debugfs(t, disk, "ls -l /")
	for _, name := range []string{"a", "moved", "link", "sparse", "lost+found"} {
		if !regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `\s`).MatchString(ls + " ") {
			t.Errorf("debugfs ls -l / lacks %s:\n%s", name, ls)
		}
	}
	if st := debugfs(t, disk, "stat /moved/hard"); !strings.Contains(st, "Links: 2") || !strings.Contains(st, "Size: 5000") {
		t.Errorf("debugfs stat /moved/hard:\n%s", st)
	}

	// The next boot sees the same tree.
	tree := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"tree", "/data"}})
	wantClean(t, "tree", tree)
	sameOutput(t, "tree after the reboot", tree.out, want[strings.Index(want, "./ dir\n"):])
	fsck(t, disk)
}

// TestDiskFull fills a small disk until writes fail with ENOSPC, frees
// space and writes again; the image stays clean and the files written
// before and after the full disk survive a reboot.
func TestDiskFull(t *testing.T) {
	disk := newDisk(t, "4M", 1024)
	r := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"fill", "/data"}})
	wantClean(t, "fill", r)
	for _, line := range []string{
		"filler write error is ENOSPC: true",
		"filler size matches what was written: true",
		"second file on a full disk fails with ENOSPC: true",
		"written after freeing space",
	} {
		if !strings.Contains(r.out, line+"\n") {
			t.Errorf("output lacks %q:\n%s", line, r.out)
		}
	}
	fsck(t, disk)
	i := strings.Index(r.out, "./ dir\n")
	if i < 0 {
		t.Fatalf("no tree in the output:\n%s", r.out)
	}
	tree := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"tree", "/data"}})
	wantClean(t, "tree", tree)
	sameOutput(t, "tree after the reboot", tree.out, r.out[i:])
	fsck(t, disk)
}

// TestDevnetOnDisk runs a single-validator chain with its home on /data:
// it commits blocks, stops, and after a reboot on the same disk restarts
// from the stored state and continues from the height it had reached.
func TestDevnetOnDisk(t *testing.T) {
	disk := newDisk(t, "256M", 4096)
	heights := func(out string) (start, reached int) {
		t.Helper()
		m := regexp.MustCompile(`start height: (-?\d+)\nreached: (-?\d+)\nnode stopped: true\n`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("devnet output:\n%s", out)
		}
		start, _ = strconv.Atoi(m[1])
		reached, _ = strconv.Atoi(m[2])
		return start, reached
	}
	first := boot(t, guest{pkg: devnetPkg, disk: disk, args: []string{"/data"}, mem: 1 << 30})
	wantClean(t, "first run", first)
	if !strings.HasPrefix(first.out, "init: <nil>\n") {
		t.Errorf("first run did not initialize the home:\n%s", first.out)
	}
	s1, r1 := heights(first.out)
	fsck(t, disk)
	second := boot(t, guest{pkg: devnetPkg, disk: disk, args: []string{"/data"}, mem: 1 << 30})
	wantClean(t, "second run", second)
	if strings.Contains(second.out, "init:") {
		t.Errorf("second run initialized the home again:\n%s", second.out)
	}
	s2, r2 := heights(second.out)
	t.Logf("first boot: heights %d -> %d; second boot: %d -> %d", s1, r1, s2, r2)
	if r1 < s1+5 || s2 < r1 || r2 < s2+5 {
		t.Errorf("heights: first boot %d -> %d, second boot %d -> %d; want 5 blocks in each and the second to start where the first ended", s1, r1, s2, r2)
	}
	fsck(t, disk)
}

// TestReadOnlyAndRefused boots on a disk mounted read-only
// (xairrosx.data=ext2ro), where writes fail with EROFS, and in three
// setups where /data cannot be mounted: a damaged superblock, an unknown
// xairrosx.data value, no disk at all. Those are reported on stderr and
// the program runs on without /data. No boot changes a byte of the image.
func TestReadOnlyAndRefused(t *testing.T) {
	t.Run("ro", func(t *testing.T) {
		disk := newDisk(t, "4M", 1024)
		before := digest(t, disk)
		r := boot(t, guest{pkg: storagePkg, disk: disk, args: []string{"probe", "/data"}, data: "ext2ro"})
		wantClean(t, "probe", r)
		sameOutput(t, "read-only /data", r.out, "write: open /data/probe: read-only file system\nlist: [lost+found] <nil>\n")
		if digest(t, disk) != before {
			t.Error("a read-only boot changed the image")
		}
	})
	// The program's output without /data.
	const without = "write: open /data/probe: no such file or directory\nlist: [] open /data: no such file or directory\n"
	refused := func(t *testing.T, g guest, message *regexp.Regexp) {
		t.Helper()
		var before [32]byte
		if g.disk != "" {
			before = digest(t, g.disk)
		}
		r := boot(t, g)
		wantClean(t, "probe", r)
		first, rest, _ := strings.Cut(r.out, "\n")
		if !message.MatchString(first) {
			t.Errorf("want the refusal matching %s first, got:\n%s", message, r.out)
		}
		sameOutput(t, "without /data", rest, without)
		if g.disk != "" && digest(t, g.disk) != before {
			t.Error("the boot changed the image")
		}
	}
	t.Run("corrupt", func(t *testing.T) {
		disk := newDisk(t, "4M", 1024)
		f, err := os.OpenFile(disk, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		// The superblock's magic number (offset 56 in the superblock at 1024).
		_, err = f.WriteAt([]byte{0, 0}, 1024+56)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		refused(t, guest{pkg: storagePkg, disk: disk, args: []string{"probe", "/data"}},
			regexp.MustCompile(`^xairrosx: /data not mounted: ext2: .*bad magic 0x0`))
	})
	t.Run("unknown-option", func(t *testing.T) {
		refused(t, guest{pkg: storagePkg, disk: newDisk(t, "4M", 1024), args: []string{"probe", "/data"}, data: "ext4"},
			regexp.MustCompile(`^xairrosx: /data not mounted: xairrosx.data=ext4: want ext2 \(read-write\) or ext2ro \(read-only\)$`))
	})
	t.Run("no-disk", func(t *testing.T) {
		refused(t, guest{pkg: storagePkg, args: []string{"probe", "/data"}},
			regexp.MustCompile(`^xairrosx: /data not mounted: xairrosx.data=ext2 but there is no virtio-blk disk$`))
	})
}
