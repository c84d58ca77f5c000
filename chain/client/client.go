// Package client talks to a XairrosX node over CometBFT's standard RPC: it
// builds and signs transactions, broadcasts them, and reads state with
// Merkle proofs that it verifies itself against the app hash of a header
// signed by more than two thirds of the validator set.
//
// Trust model: the validator set is fetched from the same node (trust on
// first use, like a light client's trusted root); the value is then only
// accepted if the ICS-23 proof links it to the app hash in a header whose
// commit carries +2/3 of that set's voting power.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/state"
	"github.com/xairrosx/xairrosx/chain/tx"
)

// DefaultNode is CometBFT's default RPC address.
const DefaultNode = "tcp://127.0.0.1:26657"

// Client is a connection to one node's RPC.
type Client struct {
	RPC *rpchttp.HTTP
}

// Dial connects to a node's RPC address (tcp://host:port or http://...).
func Dial(addr string) (*Client, error) {
	c, err := rpchttp.New(addr)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", addr, err)
	}
	return &Client{RPC: c}, nil
}

// ChainID returns the node's chain id.
func (c *Client) ChainID(ctx context.Context) (string, error) {
	st, err := c.RPC.Status(ctx)
	if err != nil {
		return "", err
	}
	return st.NodeInfo.Network, nil
}

// Proven is a state value verified against a signed header.
type Proven struct {
	Key     []byte
	Value   []byte // nil: proven absent
	Height  int64  // state version (block height) the value belongs to
	AppHash []byte // from the header at Height+1
}

// Get reads key from the latest state with a proof and verifies it.
func (c *Client) Get(ctx context.Context, key []byte) (*Proven, error) {
	res, err := c.RPC.ABCIQueryWithOptions(ctx, app.QueryPathStore, key, rpcclient.ABCIQueryOptions{Prove: true})
	if err != nil {
		return nil, fmt.Errorf("client: abci_query: %w", err)
	}
	r := res.Response
	if r.Code != 0 {
		return nil, fmt.Errorf("client: abci_query: code %d: %s", r.Code, r.Log)
	}
	if r.ProofOps == nil || len(r.ProofOps.Ops) != 1 || r.ProofOps.Ops[0].Type != app.ProofOpType {
		return nil, errors.New("client: response carries no " + app.ProofOpType + " proof")
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	hdr, err := c.verifiedHeader(ctx, chainID, r.Height+1)
	if err != nil {
		return nil, err
	}
	if err := state.VerifyProof(hdr.AppHash, key, r.Value, r.ProofOps.Ops[0].Data); err != nil {
		return nil, fmt.Errorf("client: key %x at height %d: %w", key, r.Height, err)
	}
	return &Proven{Key: key, Value: r.Value, Height: r.Height, AppHash: hdr.AppHash}, nil
}

// verifiedHeader waits for the header at height and checks that the
// validator set of that height matches the header and signed its commit
// with +2/3 of the voting power.
func (c *Client) verifiedHeader(ctx context.Context, chainID string, height int64) (*types.Header, error) {
	var com *ctypes.ResultCommit
	deadline := time.Now().Add(20 * time.Second)
	for {
		h := height
		var err error
		com, err = c.RPC.Commit(ctx, &h)
		if err == nil && com.Commit != nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("client: no commit for height %d: %v", height, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := com.SignedHeader.ValidateBasic(chainID); err != nil {
		return nil, fmt.Errorf("client: header %d: %w", height, err)
	}
	h := height
	perPage := 100
	vals, err := c.RPC.Validators(ctx, &h, nil, &perPage)
	if err != nil {
		return nil, fmt.Errorf("client: validators at %d: %w", height, err)
	}
	vs, err := types.ValidatorSetFromExistingValidators(vals.Validators)
	if err != nil {
		return nil, fmt.Errorf("client: validators at %d: %w", height, err)
	}
	if !bytes.Equal(vs.Hash(), com.Header.ValidatorsHash) {
		return nil, fmt.Errorf("client: validator set at %d does not match the header's validators hash", height)
	}
	if err := vs.VerifyCommitLight(chainID, com.Commit.BlockID, height, com.Commit); err != nil {
		return nil, fmt.Errorf("client: commit %d: %w", height, err)
	}
	return com.Header, nil
}

// Account reads an account with a verified proof (zero when absent).
func (c *Client) Account(ctx context.Context, a tx.Address) (app.Account, *Proven, error) {
	p, err := c.Get(ctx, app.AccountKey(a))
	if err != nil {
		return app.Account{}, nil, err
	}
	acct, ok := app.DecodeAccount(p.Value)
	if !ok {
		return app.Account{}, nil, fmt.Errorf("client: account %s: corrupt value", a)
	}
	return acct, p, nil
}

// Result is the outcome of a broadcast transaction.
type Result struct {
	Hash    []byte
	Height  int64 // 0 when rejected by CheckTx
	Code    tx.Code
	Log     string
	Data    []byte
	GasUsed int64
}

// BroadcastCommit submits raw and waits until it is in a block.
func (c *Client) BroadcastCommit(ctx context.Context, raw []byte) (*Result, error) {
	res, err := c.RPC.BroadcastTxCommit(ctx, raw)
	if err != nil {
		if r := rejected(raw, err); r != nil {
			return r, nil
		}
		return nil, fmt.Errorf("client: broadcast_tx_commit: %w", err)
	}
	if res.CheckTx.Code != 0 {
		return &Result{Hash: res.Hash, Code: tx.Code(res.CheckTx.Code), Log: res.CheckTx.Log}, nil
	}
	return &Result{Hash: res.Hash, Height: res.Height, Code: tx.Code(res.TxResult.Code), Log: res.TxResult.Log,
		Data: res.TxResult.Data, GasUsed: res.TxResult.GasUsed}, nil
}

// invalidTx matches the RPC error by which CometBFT v1's mempool reports a
// CheckTx rejection (mempool.ErrInvalidTx).
var invalidTx = regexp.MustCompile(`is invalid: code=(\d+), data=[0-9A-Fa-f]*, log='(.*)', codespace=`)

// rejected turns a CheckTx rejection reported as an RPC error into a Result.
func rejected(raw []byte, err error) *Result {
	m := invalidTx.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	code, _ := strconv.ParseUint(m[1], 10, 32)
	h := tx.Hash(raw)
	return &Result{Hash: h[:], Code: tx.Code(code), Log: m[2]}
}

// BroadcastSync submits raw after CheckTx, without waiting for a block.
func (c *Client) BroadcastSync(ctx context.Context, raw []byte) (*Result, error) {
	res, err := c.RPC.BroadcastTxSync(ctx, raw)
	if err != nil {
		if r := rejected(raw, err); r != nil {
			return r, nil
		}
		return nil, fmt.Errorf("client: broadcast_tx_sync: %w", err)
	}
	return &Result{Hash: res.Hash, Code: tx.Code(res.Code), Log: res.Log, Data: res.Data}, nil
}

// Prepare fills chain id, nonce (from the proven account state when nonce
// is negative) and, when fee is 0, the minimum fee, then signs t.
func (c *Client) Prepare(ctx context.Context, t *tx.Tx, priv ed25519.PrivateKey, nonce int64) error {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return err
	}
	t.ChainID = chainID
	if nonce < 0 {
		acct, _, err := c.Account(ctx, tx.AddressOf(priv.Public().(ed25519.PublicKey)))
		if err != nil {
			return err
		}
		t.Nonce = acct.Nonce
	} else {
		t.Nonce = uint64(nonce)
	}
	Sign(t, priv)
	return nil
}

// Sign sets the minimum fee when t.Fee is 0 and signs t.
func Sign(t *tx.Tx, priv ed25519.PrivateKey) {
	if t.Fee == 0 {
		copy(t.PubKey[:], priv.Public().(ed25519.PublicKey))
		// The fee varint changes the size; iterate to the fixed point.
		for {
			need := app.RequiredFee(len(t.Encode()), t.GasLimit)
			if t.Fee >= need {
				break
			}
			t.Fee = need
		}
	}
	t.Sign(priv)
}
