package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"
	cmttime "github.com/cometbft/cometbft/types/time"

	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/keys"
)

// Default ports, as CometBFT's.
const (
	DefaultP2PPort = 26656
	DefaultRPCPort = 26657
)

// FaucetKey is the name of the key funded in a generated genesis.
const FaucetKey = "faucet"

// Options describe one node home.
type Options struct {
	ChainID string
	Moniker string
	// P2PPort and RPCPort on 127.0.0.1 for testnets, 0.0.0.0 for init
	// (0 = CometBFT defaults 26656/26657).
	P2PPort, RPCPort int
	Loopback         bool // listen on 127.0.0.1 only
	PersistentPeers  string
	// Fast uses short consensus timeouts (tests, loopback testnets) with
	// BlockPause between blocks.
	Fast       bool
	BlockPause time.Duration
	Settings   Settings
	// StateSync, when RPCServers is set, makes the node restore a snapshot
	// instead of replaying from genesis.
	StateSyncRPC []string
	TrustHeight  int64
	TrustHash    string
}

// Home is what a generated home contains.
type Home struct {
	Dir    string
	NodeID string
	PubKey []byte // validator consensus key
	P2P    string // host:port
	RPC    string // tcp://host:port
}

// writeHome creates config.toml, node and validator keys under dir.
func writeHome(dir string, o Options) (*Home, *cfg.Config, error) {
	conf := cfg.DefaultConfig()
	conf.SetRoot(dir)
	cfg.EnsureRoot(dir)
	if o.Moniker != "" {
		conf.Moniker = o.Moniker
	}
	host := "0.0.0.0"
	if o.Loopback {
		host = "127.0.0.1"
	}
	p2pPort, rpcPort := o.P2PPort, o.RPCPort
	if p2pPort == 0 {
		p2pPort = DefaultP2PPort
	}
	if rpcPort == 0 {
		rpcPort = DefaultRPCPort
	}
	conf.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", host, p2pPort)
	conf.RPC.ListenAddress = fmt.Sprintf("tcp://%s:%d", host, rpcPort)
	conf.P2P.PersistentPeers = o.PersistentPeers
	conf.DBBackend = "goleveldb"
	conf.TxIndex.Indexer = "kv"
	conf.Instrumentation.Prometheus = false
	conf.GRPC.ListenAddress = ""
	conf.RPC.TimeoutBroadcastTxCommit = 30 * time.Second
	// CheckTx tracks each sender's pending nonces in the mempool view, which
	// CometBFT rebuilds by rechecking after every block; give the recheck
	// time to finish on loaded machines (default 1 s) so that a new
	// transaction is never checked against a half-rebuilt view.
	conf.Mempool.RecheckTimeout = 10 * time.Second
	if o.Loopback {
		conf.P2P.AllowDuplicateIP = true
		conf.P2P.AddrBookStrict = false
		conf.P2P.PexReactor = false
	}
	if o.Fast {
		pause := o.BlockPause
		if pause == 0 {
			pause = 200 * time.Millisecond
		}
		fastConsensus(conf.Consensus, pause)
	}
	if len(o.StateSyncRPC) > 0 {
		conf.StateSync.Enable = true
		conf.StateSync.RPCServers = o.StateSyncRPC
		conf.StateSync.TrustHeight = o.TrustHeight
		conf.StateSync.TrustHash = o.TrustHash
		conf.StateSync.TrustPeriod = 168 * time.Hour
		conf.StateSync.DiscoveryTime = 5 * time.Second
	}
	if err := conf.ValidateBasic(); err != nil {
		return nil, nil, err
	}
	cfg.WriteConfigFile(filepath.Join(dir, "config", "config.toml"), conf)
	if err := saveSettings(dir, o.Settings); err != nil {
		return nil, nil, err
	}
	nk, err := p2p.LoadOrGenNodeKey(conf.NodeKeyFile())
	if err != nil {
		return nil, nil, err
	}
	pv, err := privval.LoadOrGenFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile(), nil)
	if err != nil {
		return nil, nil, err
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		return nil, nil, err
	}
	return &Home{Dir: dir, NodeID: string(nk.ID()), PubKey: pub.Bytes(),
		P2P: fmt.Sprintf("127.0.0.1:%d", p2pPort), RPC: fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort)}, conf, nil
}

// Init creates a node home. With genesisFile empty it writes a new genesis in
// which this node is the only validator and a new "faucet" key (saved in the
// home's keyring) holds faucetBalance; otherwise it copies genesisFile (a
// node joining an existing chain).
func Init(dir string, o Options, genesisFile string, faucetBalance uint64) (*Home, error) {
	if _, err := os.Stat(filepath.Join(dir, "config", "genesis.json")); err == nil {
		return nil, fmt.Errorf("node: %s is already initialised", dir)
	}
	h, conf, err := writeHome(dir, o)
	if err != nil {
		return nil, err
	}
	if genesisFile != "" {
		b, err := os.ReadFile(genesisFile)
		if err != nil {
			return nil, err
		}
		if _, err := types.GenesisDocFromJSON(b); err != nil {
			return nil, fmt.Errorf("node: %s: %w", genesisFile, err)
		}
		return h, os.WriteFile(conf.GenesisFile(), b, 0o644)
	}
	faucet, err := keys.New(FaucetKey, nil)
	if err != nil {
		return nil, err
	}
	if err := keys.Save(dir, faucet); err != nil {
		return nil, err
	}
	pv := privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
	pub, _ := pv.GetPubKey()
	gen, err := genesis(o.ChainID, []types.GenesisValidator{{Address: pub.Address(), PubKey: pub, Power: 10, Name: conf.Moniker}},
		[]app.GenesisAccount{{Address: faucet.Address, Balance: faucetBalance}})
	if err != nil {
		return nil, err
	}
	return h, gen.SaveAs(conf.GenesisFile())
}

func genesis(chainID string, vals []types.GenesisValidator, accts []app.GenesisAccount) (*types.GenesisDoc, error) {
	st, err := json.Marshal(app.GenesisState{Accounts: accts})
	if err != nil {
		return nil, err
	}
	params := types.DefaultConsensusParams()
	params.Block.MaxGas = app.MaxBlockGas // the mempool reaps by gas wanted
	gen := &types.GenesisDoc{
		GenesisTime:     cmttime.Now(),
		ChainID:         chainID,
		InitialHeight:   1,
		ConsensusParams: params,
		Validators:      vals,
		AppState:        st,
	}
	return gen, gen.ValidateAndComplete()
}

// Testnet writes n validator homes node0..node{n-1} under dir that form one
// chain on loopback: node i listens for P2P on basePort+10i and RPC on
// basePort+10i+1, all are persistent peers of each other, and every home's
// keyring holds the same funded "faucet" key.
func Testnet(dir string, n int, o Options, basePort int, faucetBalance uint64) ([]*Home, error) {
	if n < 1 {
		return nil, fmt.Errorf("node: testnet needs at least 1 node, got %d", n)
	}
	if basePort == 0 {
		basePort = DefaultP2PPort
	}
	homes := make([]*Home, n)
	var vals []types.GenesisValidator
	for i := range n {
		oi := o
		oi.Moniker = fmt.Sprintf("node%d", i)
		oi.P2PPort, oi.RPCPort, oi.Loopback = basePort+10*i, basePort+10*i+1, true
		h, conf, err := writeHome(filepath.Join(dir, oi.Moniker), oi)
		if err != nil {
			return nil, err
		}
		homes[i] = h
		pv := privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
		pub, _ := pv.GetPubKey()
		vals = append(vals, types.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: oi.Moniker})
	}
	faucet, err := keys.New(FaucetKey, nil)
	if err != nil {
		return nil, err
	}
	gen, err := genesis(o.ChainID, vals, []app.GenesisAccount{{Address: faucet.Address, Balance: faucetBalance}})
	if err != nil {
		return nil, err
	}
	for i, h := range homes {
		if err := gen.SaveAs(filepath.Join(h.Dir, "config", "genesis.json")); err != nil {
			return nil, err
		}
		if err := keys.Save(h.Dir, faucet); err != nil {
			return nil, err
		}
		var peers []string
		for j, p := range homes {
			if j != i {
				peers = append(peers, p.NodeID+"@"+p.P2P)
			}
		}
		if err := setPeers(h.Dir, strings.Join(peers, ",")); err != nil {
			return nil, err
		}
	}
	return homes, nil
}

func setPeers(home, peers string) error {
	conf, err := LoadConfig(home)
	if err != nil {
		return err
	}
	conf.P2P.PersistentPeers = peers
	cfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), conf)
	return nil
}
