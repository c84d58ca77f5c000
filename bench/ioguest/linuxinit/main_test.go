package main

import (
	"reflect"
	"testing"
)

func TestParseOptions(t *testing.T) {
	got := parseOptions("console=ttyS0 quiet xairrosx.argv0=guest xairrosx.data=ext2\n xairrosx.ip=10.7.0.1/24 xairrosx.flag -- xairrosx.gw=1.2.3.4 disk /data\n")
	want := map[string]string{"argv0": "guest", "data": "ext2", "ip": "10.7.0.1/24", "flag": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q (words after -- are the program's)", got, want)
	}
}
