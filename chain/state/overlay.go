package state

import "sort"

// KV is the read/write view that transaction execution works on.
type KV interface {
	Get(key []byte) ([]byte, error)
	Set(key, value []byte) error
	Delete(key []byte) error
}

// Overlay buffers writes over a parent KV so that a transaction (or a nested
// contract call) can be applied atomically or discarded. Write applies the
// buffered writes to the parent in sorted key order, so the resulting IAVL
// tree shape, and hence the app hash, does not depend on the order in which a
// contract touched its keys.
type Overlay struct {
	parent KV
	writes map[string][]byte // nil value = deleted
}

// NewOverlay returns an empty overlay over parent.
func NewOverlay(parent KV) *Overlay {
	return &Overlay{parent: parent, writes: map[string][]byte{}}
}

// Get reads through the overlay.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		return v, nil
	}
	return o.parent.Get(key)
}

// Set buffers a write.
func (o *Overlay) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	o.writes[string(key)] = append([]byte{}, value...)
	return nil
}

// Delete buffers a deletion.
func (o *Overlay) Delete(key []byte) error {
	o.writes[string(key)] = nil
	return nil
}

// Len is the number of buffered writes.
func (o *Overlay) Len() int { return len(o.writes) }

// Write applies the buffered writes to the parent in key order and empties
// the overlay.
func (o *Overlay) Write() error {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := o.writes[k]
		var err error
		if v == nil {
			err = o.parent.Delete([]byte(k))
		} else {
			err = o.parent.Set([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	clear(o.writes)
	return nil
}
