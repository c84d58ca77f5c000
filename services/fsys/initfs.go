package fsys

// embeddedInitFS is the initial root file system, a tar archive. It is empty
// here: `xairrosx build -files DIR` replaces this file, through go build's
// overlay, with one that embeds DIR packed as a tar (internal/image), so the
// archive is there before any package's init runs.
var embeddedInitFS string
