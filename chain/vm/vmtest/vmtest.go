// Package vmtest provides an in-memory vm.Host for tests of the contract VM
// and of contracts: storage per contract address, recorded events, a table
// of deployed contracts for cross-contract calls, and a pluggable inference
// function. It mirrors what the node does, without a Merkle store.
package vmtest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"

	"github.com/xairrosx/xairrosx/chain/vm"
)

// Event is one emitted event with the address of the emitting contract.
type Event struct {
	Contract string
	Kind     string
	Attrs    map[string]string
}

// Chain is an in-memory world: deployed contracts and their storage.
// It is not safe for concurrent use.
type Chain struct {
	Engine *vm.Engine
	Height int64
	// Code maps a contract address to its prepared code.
	Code map[string][]byte
	// Storage maps a contract address to its key/value store.
	Storage map[string]map[string][]byte
	Events  []Event
	// Models maps the SHA-256 of a model's bytes to the model; Infer runs
	// InferFunc on the model bytes.
	Models    map[[32]byte][]byte
	InferFunc func(model, input []byte) ([]byte, error)
}

// NewChain returns an empty chain that executes on engine.
func NewChain(engine *vm.Engine) *Chain {
	return &Chain{Engine: engine, Height: 1, Code: map[string][]byte{},
		Storage: map[string]map[string][]byte{}, Models: map[[32]byte][]byte{}}
}

// Deploy prepares wasm and stores it at addr.
func (c *Chain) Deploy(addr []byte, wasm []byte, cfg vm.Config) error {
	code, err := vm.Prepare(wasm, cfg)
	if err != nil {
		return err
	}
	c.Code[string(addr)] = code
	return nil
}

// RegisterModel stores a model under the SHA-256 of its bytes and returns it.
func (c *Chain) RegisterModel(model []byte) [32]byte {
	h := sha256.Sum256(model)
	c.Models[h] = model
	return h
}

// Call runs method of the contract at contract as sent by sender, like a
// call-contract transaction: on error every storage write and event of the
// call (nested calls included) is rolled back.
func (c *Chain) Call(sender, contract []byte, method string, input []byte, gasLimit uint64) (vm.Result, error) {
	return c.call(sender, contract, method, input, gasLimit, 0)
}

func (c *Chain) call(sender, contract []byte, method string, input []byte, gasLimit uint64, depth int) (vm.Result, error) {
	code, ok := c.Code[string(contract)]
	if !ok {
		return vm.Result{}, fmt.Errorf("no contract at %x", contract)
	}
	snap, nev := c.snapshot(), len(c.Events)
	h := &host{chain: c, caller: sender, self: contract, depth: depth}
	res, err := c.Engine.Execute(context.Background(), code, method, input, gasLimit, h, depth)
	if err != nil {
		c.Storage, c.Events = snap, c.Events[:nev]
	}
	return res, err
}

func (c *Chain) snapshot() map[string]map[string][]byte {
	s := make(map[string]map[string][]byte, len(c.Storage))
	for a, kv := range c.Storage {
		m := make(map[string][]byte, len(kv))
		for k, v := range kv {
			m[k] = v
		}
		s[a] = m
	}
	return s
}

// Get returns a contract's stored value (nil when absent).
func (c *Chain) Get(contract, key []byte) []byte { return c.Storage[string(contract)][string(key)] }

// Keys returns a contract's storage keys, sorted.
func (c *Chain) Keys(contract []byte) []string {
	var ks []string
	for k := range c.Storage[string(contract)] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// host is the vm.Host of one execution.
type host struct {
	chain        *Chain
	caller, self []byte
	depth        int
}

func (h *host) Get(key []byte) ([]byte, error) {
	v, ok := h.chain.Storage[string(h.self)][string(key)]
	if !ok {
		return nil, nil
	}
	return append([]byte{}, v...), nil
}

func (h *host) Set(key, value []byte) error {
	kv := h.chain.Storage[string(h.self)]
	if kv == nil {
		kv = map[string][]byte{}
		h.chain.Storage[string(h.self)] = kv
	}
	kv[string(key)] = append([]byte{}, value...)
	return nil
}

func (h *host) Caller() []byte     { return h.caller }
func (h *host) Self() []byte       { return h.self }
func (h *host) BlockHeight() int64 { return h.chain.Height }

func (h *host) Emit(kind string, attrs map[string]string) error {
	h.chain.Events = append(h.chain.Events, Event{Contract: string(h.self), Kind: kind, Attrs: attrs})
	return nil
}

func (h *host) Call(contract []byte, method string, input []byte, gasLimit uint64) ([]byte, uint64, error) {
	res, err := h.chain.call(h.self, contract, method, input, gasLimit, h.depth+1)
	return res.Output, res.GasUsed, err
}

func (h *host) Infer(modelHash []byte, input []byte) ([]byte, error) {
	var k [32]byte
	copy(k[:], modelHash)
	m, ok := h.chain.Models[k]
	if !ok || len(modelHash) != 32 {
		return nil, fmt.Errorf("unknown model %x", modelHash)
	}
	if h.chain.InferFunc == nil {
		return nil, fmt.Errorf("no inference engine")
	}
	return h.chain.InferFunc(m, input)
}
