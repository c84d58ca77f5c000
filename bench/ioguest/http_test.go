package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestGenerate(t *testing.T) {
	var conns, reqs atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		time.Sleep(time.Millisecond)
		w.Write([]byte("ok\n"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	l, err := generate(srv.URL, 3, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if l.requests < 10 || int64(l.requests)+3 != reqs.Load() {
		t.Errorf("counted %d requests, the server answered %d (3 of them untimed)", l.requests, reqs.Load())
	}
	if c := conns.Load(); c != 3 {
		t.Errorf("%d connections for 3 keep-alive clients", c)
	}
	if l.p50 < time.Millisecond || l.p99 < l.p50 || l.elapsed < 300*time.Millisecond {
		t.Errorf("p50 %v p99 %v elapsed %v", l.p50, l.p99, l.elapsed)
	}
}

func TestGenerateFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()
	if _, err := generate(srv.URL, 2, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("got %v, want an error naming status 500", err)
	}
}
