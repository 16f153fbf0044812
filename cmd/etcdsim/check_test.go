package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	stale := write("stale.jsonl", `{"client":0,"call":0,"return":10,"op":"put","key":"a","value":"1","rev":2}
{"client":1,"call":20,"return":30,"op":"range","key":"a","rev":2}
`)
	for _, tt := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"check", "../../invariants/linearizable/testdata/example.jsonl"}, 0, "PASS", ""},
		{[]string{"check", "../../invariants/linearizable/testdata/etcd-report"}, 0, "PASS", ""},
		{[]string{"check", stale, "--html", filepath.Join(dir, "h.html")}, 4, "FAIL kv-model\n  kv-model: key a: 1 of 2 requests linearize", ""},
		{[]string{"check", stale, "--memory", "0"}, 2, "", "--memory must be at least 1 MiB"},
		{[]string{"check", write("bad.jsonl", "\n{\"client\":0,\"call\":1,\"op\":\"put\",\"key\":\"a\",\"value\":\"1\"}\n{\"client\":0}\n")}, 2, "",
			"etcdsim: check: " + dir + "/bad.jsonl:3: no \"call\"\n"},
		{[]string{"check"}, 2, "", "check takes one history file"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) ||
			strings.Count(stderr.String(), "\n") > 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "h.html")); err != nil {
		t.Errorf("no picture: %v", err)
	}
}

func TestCheckUnknown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	text := `{"client":0,"call":0,"return":10,"op":"put","key":"a","value":"0"}` + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", path, "--timeout", "1ns"}, &stdout, &stderr); code != exitUnknown ||
		!strings.Contains(stdout.String(), "UNKNOWN the search ran out of its time budget (1ns) on key a") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
