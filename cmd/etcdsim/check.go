package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/sim"
)

// exitUnknown is the status of a check that ran out of its budget: the
// history is neither passed nor failed.
const exitUnknown = 6

// cmdCheck is `etcdsim check FILE [--html OUT] [--timeout D] [--memory MiB]`:
// the linearizability checker over a history recorded elsewhere, in the
// JSON-lines format of docs/check-format.md or as the client reports of
// etcd's robustness tests (a report directory, or one operations.json).
// Exit status: 0 linearizable, 4 not, 6 unknown (the budget ran out), 2
// bad input.
func cmdCheck(args []string, stdout io.Writer) (int, error) {
	path, args := fileArg(args)
	fs := newFlags("check")
	html := fs.String("html", "", "write porcupine's picture of the history to this file")
	timeout := fs.Duration("timeout", time.Minute, "time budget of the search (0: none)")
	memory := fs.Int64("memory", 512, "memory budget of the search, MiB (the process stays under about twice it)")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	switch {
	case path == "" && fs.NArg() == 1:
		path = fs.Arg(0)
	case path == "" || fs.NArg() > 0:
		return 0, usagef("check takes one history file (see docs/check-format.md)")
	case *memory < 1 || *timeout < 0:
		return 0, usagef("check: --memory must be at least 1 MiB and --timeout not negative")
	}
	ops, err := readHistoryFile(path)
	if err != nil {
		return 0, err
	}
	b := linearizable.Budget{Time: *timeout, Memory: *memory << 20, Now: time.Now}
	start := time.Now()
	res := linearizable.CheckBudget(nil, ops, b)
	printCheck(stdout, ops, res, time.Since(start))
	if *html != "" && !res.Unknown {
		complete, err := linearizable.VisualizeWithin(ops, *html, nil, *timeout)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(stdout, "history: %s%s\n", *html, map[bool]string{false: " (porcupine ran out of time: partial)"}[complete])
	}
	switch {
	case !res.OK:
		return sim.ExitLinearizable, nil
	case res.Unknown:
		return exitUnknown, nil
	}
	return sim.ExitClean, nil
}

// readHistoryFile reads a history: etcd's client reports (a directory, or
// a file whose first request has an "Input"), or the JSON-lines format.
// Bad input is one line naming the file and the line.
func readHistoryFile(path string) ([]linearizable.Op, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, usagef("check: %v", err)
	}
	var ops []linearizable.Op
	if st.IsDir() {
		ops, err = linearizable.ReadEtcdReport(path)
	} else {
		ops, err = readFile(path)
	}
	var ie *linearizable.InputError
	if errors.As(err, &ie) {
		return nil, usagef("check: %s", strings.TrimPrefix(ie.Error(), "linearizable: "))
	}
	return ops, err
}

func readFile(path string) ([]linearizable.Op, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, &linearizable.InputError{Path: path, Msg: err.Error()}
	}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, len(text)+1)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 && line[0] != '#' {
			if linearizable.IsEtcdReport(line) {
				return linearizable.ReadEtcdReport(path)
			}
			break
		}
	}
	return linearizable.ReadHistory(bytes.NewReader(text), path)
}

// printCheck prints what the history holds and the verdict: PASS, FAIL
// with each failed sub-check's evidence on a line, or UNKNOWN and why.
func printCheck(w io.Writer, ops []linearizable.Op, res linearizable.Result, took time.Duration) {
	var unknown, noRev int
	for i := range ops {
		if linearizable.Uncertain(&ops[i]) {
			unknown++
		}
		if ops[i].NoRev {
			noRev++
		}
	}
	hang(w, "", "    ", fmt.Sprintf("history: %d requests, %d writes of unknown outcome, %d replies without revisions; checked %d requests over %d keys in %s",
		len(ops), unknown, noRev, res.Ops, res.Partitions, took.Round(time.Millisecond)))
	switch {
	case !res.OK:
		fmt.Fprintf(w, "FAIL %s\n", strings.Join(res.Failed, ", "))
		for _, d := range res.Details {
			hang(w, "  ", "      ", d)
		}
	case res.Unknown:
		hang(w, "", "    ", "UNKNOWN "+res.Reason)
	default:
		fmt.Fprintln(w, "PASS")
	}
}
