// Package app is the XairrosX ABCI application: the deterministic state
// machine that CometBFT drives. It decodes and batch-verifies each block's
// transactions, applies them to the IAVL state (transfers, contract deploys
// and calls through chain/vm, model registration and on-chain inference),
// returns the tree's root as the app hash, answers proven queries and serves
// and restores state-sync snapshots.
package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	crypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	cmtlog "github.com/cometbft/cometbft/libs/log"

	"github.com/xairrosx/xairrosx/chain/sigverify"
	"github.com/xairrosx/xairrosx/chain/state"
	"github.com/xairrosx/xairrosx/chain/tx"
	"github.com/xairrosx/xairrosx/chain/vm"
)

// AppVersion is the application protocol version reported to CometBFT.
const AppVersion = 1

// QueryPathStore is the ABCI query path for a raw state key; with prove=true
// the response carries an ICS-23 proof op of type ProofOpType.
const (
	QueryPathStore = "/store"
	ProofOpType    = "ics23:iavl"
)

// Config configures an App.
type Config struct {
	ChainID string
	// SnapshotDir holds state-sync snapshots; empty disables them.
	SnapshotDir string
	// SnapshotInterval takes a snapshot every that many heights (0 = never).
	SnapshotInterval int64
	// SnapshotKeep is how many recent snapshots are kept (default 2).
	SnapshotKeep int
	VM           vm.Config
	Infer        InferFunc
	// CheckModel, when set, validates model bytes at register_model
	// (ai/infer.Inspect); a rejected model gets CodeInvalidModel.
	CheckModel func(model []byte) error
	Logger     cmtlog.Logger
}

// App implements abci.Application.
type App struct {
	abci.BaseApplication
	cfg   Config
	store *state.Store

	engOnce sync.Once
	eng     *vm.Engine
	engErr  error

	check *state.Overlay // mempool view: committed state + accepted txs

	snaps   *snapshots
	restore *restoring
}

var _ abci.Application = (*App)(nil)

// New returns an application over store.
func New(store *state.Store, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = cmtlog.NewNopLogger()
	}
	if cfg.SnapshotKeep <= 0 {
		cfg.SnapshotKeep = 2
	}
	a := &App{cfg: cfg, store: store}
	a.check = state.NewOverlay(store)
	if cfg.SnapshotDir != "" {
		s, err := openSnapshots(cfg.SnapshotDir)
		if err != nil {
			return nil, err
		}
		a.snaps = s
	}
	return a, nil
}

// Store returns the application's state store.
func (a *App) Store() *state.Store { return a.store }

// Close releases the VM engine.
func (a *App) Close() error {
	if a.eng != nil {
		return a.eng.Close(context.Background())
	}
	return nil
}

func (a *App) vmEngine() (*vm.Engine, error) {
	a.engOnce.Do(func() { a.eng, a.engErr = vm.NewEngine(context.Background(), a.cfg.VM) })
	return a.eng, a.engErr
}

// Info reports the last committed height and app hash; CometBFT replays
// the blocks after it.
func (a *App) Info(context.Context, *abci.InfoRequest) (*abci.InfoResponse, error) {
	res := &abci.InfoResponse{Data: "xairrosx", Version: "1", AppVersion: AppVersion, LastBlockHeight: a.store.Version()}
	if res.LastBlockHeight > 0 {
		res.LastBlockAppHash = a.store.Hash()
	}
	return res, nil
}

// GenesisAccount funds an account at genesis.
type GenesisAccount struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance,string"`
}

// GenesisState is the app_state of the genesis file.
type GenesisState struct {
	Accounts []GenesisAccount `json:"accounts"`
}

// InitChain loads the genesis accounts.
func (a *App) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	if req.ChainId != a.cfg.ChainID {
		return nil, fmt.Errorf("app: genesis chain id %q, app configured for %q", req.ChainId, a.cfg.ChainID)
	}
	if err := a.InitGenesis(req.AppStateBytes, req.InitialHeight); err != nil {
		return nil, err
	}
	return &abci.InitChainResponse{AppHash: a.store.WorkingHash()}, nil
}

// InitGenesis writes the genesis app_state (GenesisState JSON) into the
// working state.
func (a *App) InitGenesis(appState []byte, initialHeight int64) error {
	a.store.SetInitialVersion(initialHeight)
	if len(appState) == 0 {
		return nil
	}
	var g GenesisState
	if err := json.Unmarshal(appState, &g); err != nil {
		return fmt.Errorf("app: genesis app_state: %w", err)
	}
	for i, ga := range g.Accounts {
		addr, err := tx.ParseAddress(ga.Address)
		if err != nil {
			return fmt.Errorf("app: genesis account %d: %w", i, err)
		}
		if err := a.store.Set(AccountKey(addr), Account{Balance: ga.Balance}.Encode()); err != nil {
			return err
		}
	}
	return nil
}

// CheckTx admits a transaction to the mempool only if it would succeed on
// the committed state plus the transactions already admitted.
func (a *App) CheckTx(ctx context.Context, req *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	t, err := tx.Decode(req.Tx)
	if err != nil {
		r := fail(err)
		return &abci.CheckTxResponse{Code: uint32(r.code), Log: r.log, Codespace: "xairrosx"}, nil
	}
	// A recheck sees the same bytes that passed CheckTx before, so the
	// signature is still valid; only nonce, balance and state may have moved.
	ok := req.Type == abci.CHECK_TX_TYPE_RECHECK || sigverify.Verify(t.PubKey[:], t.SignBytes(), t.Sig[:])
	r := a.deliver(ctx, a.check, t, req.Tx, ok, a.store.Version()+1, false)
	return &abci.CheckTxResponse{Code: uint32(r.code), Log: r.log, Data: r.data, GasWanted: int64(t.GasLimit), GasUsed: int64(r.gasUsed), Codespace: codespace(r.code)}, nil
}

func codespace(c tx.Code) string {
	if c == tx.CodeOK {
		return ""
	}
	return "xairrosx"
}

// blockGas is the sum of the gas limits of the decodable transactions.
func blockGas(txs [][]byte) uint64 {
	var sum uint64
	for _, raw := range txs {
		if t, err := tx.Decode(raw); err == nil {
			sum += min(t.GasLimit, MaxGasLimit+1)
		}
	}
	return sum
}

// PrepareProposal takes mempool transactions in order while they fit the
// byte limit and MaxBlockGas.
func (a *App) PrepareProposal(_ context.Context, req *abci.PrepareProposalRequest) (*abci.PrepareProposalResponse, error) {
	var bytes int64
	var gas uint64
	txs := make([][]byte, 0, len(req.Txs))
	for _, raw := range req.Txs {
		g := blockGas([][]byte{raw})
		if bytes+int64(len(raw)) > req.MaxTxBytes || gas+g > MaxBlockGas {
			continue
		}
		bytes += int64(len(raw))
		gas += g
		txs = append(txs, raw)
	}
	return &abci.PrepareProposalResponse{Txs: txs}, nil
}

// ProcessProposal rejects a proposal whose transactions ask for more than
// MaxBlockGas in total, so that a proposer cannot make every validator run
// contracts for minutes.
func (a *App) ProcessProposal(_ context.Context, req *abci.ProcessProposalRequest) (*abci.ProcessProposalResponse, error) {
	if blockGas(req.Txs) > MaxBlockGas {
		return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_REJECT}, nil
	}
	return &abci.ProcessProposalResponse{Status: abci.PROCESS_PROPOSAL_STATUS_ACCEPT}, nil
}

// FinalizeBlock executes a decided block: all signatures are verified in one
// batch, then the transactions run in order.
func (a *App) FinalizeBlock(ctx context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	results := a.ExecuteBlock(ctx, req.Height, req.Txs)
	return &abci.FinalizeBlockResponse{TxResults: results, AppHash: a.store.WorkingHash()}, nil
}

// ExecuteBlock decodes, batch-verifies and applies txs to the working state.
func (a *App) ExecuteBlock(ctx context.Context, height int64, txs [][]byte) []*abci.ExecTxResult {
	decoded := make([]*tx.Tx, len(txs))
	errs := make([]error, len(txs))
	items := make([]sigverify.Item, 0, len(txs))
	pos := make([]int, 0, len(txs))
	for i, raw := range txs {
		decoded[i], errs[i] = tx.Decode(raw)
		if errs[i] == nil {
			t := decoded[i]
			items = append(items, sigverify.Item{PubKey: t.PubKey[:], Message: t.SignBytes(), Sig: t.Sig[:]})
			pos = append(pos, i)
		}
	}
	valid := sigverify.Batch(items)
	sigOK := make([]bool, len(txs))
	for j, i := range pos {
		sigOK[i] = valid[j]
	}
	out := make([]*abci.ExecTxResult, len(txs))
	for i, raw := range txs {
		var r result
		if errs[i] != nil {
			r = fail(errs[i])
		} else {
			r = a.deliver(ctx, a.store, decoded[i], raw, sigOK[i], height, true)
		}
		gw := int64(0)
		if decoded[i] != nil {
			gw = int64(decoded[i].GasLimit)
		}
		out[i] = &abci.ExecTxResult{Code: uint32(r.code), Log: r.log, Data: r.data, GasWanted: gw, GasUsed: int64(r.gasUsed), Events: r.events, Codespace: codespace(r.code)}
	}
	return out
}

// Commit persists the block's state, resets the mempool view and takes a
// snapshot when due.
func (a *App) Commit(context.Context, *abci.CommitRequest) (*abci.CommitResponse, error) {
	_, v, err := a.store.Commit()
	if err != nil {
		return nil, err
	}
	a.check = state.NewOverlay(a.store)
	if a.snaps != nil && a.cfg.SnapshotInterval > 0 && v%a.cfg.SnapshotInterval == 0 {
		if err := a.snaps.take(a.store, v, a.cfg.SnapshotKeep); err != nil {
			a.cfg.Logger.Error("snapshot failed", "height", v, "err", err)
		}
	}
	return &abci.CommitResponse{}, nil
}

// Query answers QueryPathStore: the value of the raw key in req.Data at
// req.Height (0 = latest), with an ICS-23 proof when req.Prove is set.
func (a *App) Query(_ context.Context, req *abci.QueryRequest) (*abci.QueryResponse, error) {
	if req.Path != QueryPathStore {
		return &abci.QueryResponse{Code: uint32(tx.CodeMalformed), Log: fmt.Sprintf("unknown query path %q; use %q", req.Path, QueryPathStore)}, nil
	}
	if a.store.Version() == 0 {
		return &abci.QueryResponse{Code: uint32(tx.CodeInternal), Log: "no committed state yet"}, nil
	}
	value, proof, _, h, err := a.store.Prove(req.Data, req.Height)
	if err != nil {
		return &abci.QueryResponse{Code: uint32(tx.CodeMalformed), Log: err.Error()}, nil
	}
	res := &abci.QueryResponse{Key: req.Data, Value: value, Height: h}
	if req.Prove {
		res.ProofOps = &crypto.ProofOps{Ops: []crypto.ProofOp{{Type: ProofOpType, Key: req.Data, Data: proof}}}
	}
	return res, nil
}
