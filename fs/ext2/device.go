package ext2

import "os"

// FileDevice adapts a host file (an image) to Device.
type FileDevice struct{ *os.File }

// Flush implements Device with fsync.
func (d FileDevice) Flush() error { return d.File.Sync() }

// Size implements Device.
func (d FileDevice) Size() int64 {
	st, err := d.File.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}
