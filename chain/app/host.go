package app

import (
	"encoding/hex"
	"sort"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/xairrosx/xairrosx/chain/state"
	"github.com/xairrosx/xairrosx/chain/vm"
)

// host implements vm.Host over the state of one contract execution.
type host struct {
	ex     *execution
	kv     state.KV
	caller []byte
	self   []byte
	depth  int
}

var _ vm.Host = (*host)(nil)

func (h *host) Get(key []byte) ([]byte, error) { return h.kv.Get(StorageKey(h.self, key)) }

func (h *host) Set(key, value []byte) error { return h.kv.Set(StorageKey(h.self, key), value) }

func (h *host) Caller() []byte { return append([]byte(nil), h.caller...) }

func (h *host) Self() []byte { return append([]byte(nil), h.self...) }

func (h *host) BlockHeight() int64 { return h.ex.height }

// Emit records an event; attributes are sorted by key so that the event is
// identical on every node whatever the map order.
func (h *host) Emit(kind string, attrs map[string]string) error {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ev := abci.Event{Type: "contract." + kind}
	ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: "contract", Value: hex.EncodeToString(h.self), Index: true})
	for _, k := range keys {
		ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: k, Value: attrs[k]})
	}
	h.ex.events = append(h.ex.events, ev)
	return nil
}

func (h *host) Call(contract []byte, method string, input []byte, gasLimit uint64) ([]byte, uint64, error) {
	return h.ex.callContract(h.kv, h.self, contract, method, input, gasLimit, h.depth+1)
}

func (h *host) Infer(modelHash []byte, input []byte) ([]byte, error) {
	return h.ex.runModel(h.kv, modelHash, input)
}
