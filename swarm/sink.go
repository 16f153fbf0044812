package swarm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The outputs of a sink, as an OutputError names them.
const (
	OutputJSON  = "json"  // the JSON lines file
	OutputSeeds = "seeds" // the directory of seed files
)

// OutputError is a failure to create or write one of a sink's outputs.
type OutputError struct {
	Output string // OutputJSON or OutputSeeds
	Err    error
}

// Error names the output and says what went wrong.
func (e *OutputError) Error() string { return e.Output + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *OutputError) Unwrap() error { return e.Err }

// Sink receives results in seed order: it keeps their Summary, writes each
// as one JSON line to a file, and writes a seed file for each failing one
// into a directory.
type Sink struct {
	Summary Summary
	f       *os.File
	w       *bufio.Writer
	dir     string
}

// NewSink returns a sink that writes JSON lines to jsonPath and seed files
// into seedDir (created if need be); either may be empty for none.
func NewSink(jsonPath, seedDir string) (*Sink, error) {
	s := &Sink{dir: seedDir}
	if seedDir != "" {
		if err := os.MkdirAll(seedDir, 0o755); err != nil {
			return nil, &OutputError{OutputSeeds, err}
		}
	}
	if jsonPath != "" {
		f, err := os.Create(jsonPath)
		if err != nil {
			return nil, &OutputError{OutputJSON, err}
		}
		s.f, s.w = f, bufio.NewWriter(f)
	}
	return s, nil
}

// Add takes the next result. A failing seed's file is named
// <bug>-<seed>.seed, a "+" joining the modes of a combined bug.
func (s *Sink) Add(r Result) error {
	s.Summary.Add(r)
	if s.w != nil {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := s.w.Write(append(b, '\n')); err != nil {
			return &OutputError{OutputJSON, err}
		}
	}
	if s.dir == "" || r.Invariant == "" {
		return nil
	}
	sf, err := r.SeedFile()
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%d.seed", strings.ReplaceAll(r.Bug, ",", "+"), r.Seed)
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(sf.String()), 0o644); err != nil {
		return &OutputError{OutputSeeds, err}
	}
	return nil
}

// Close flushes and closes the JSON lines file.
func (s *Sink) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &OutputError{OutputJSON, err}
	}
	return nil
}
