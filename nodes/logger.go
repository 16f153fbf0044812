package nodes

import "fmt"

// QuietLogger is the raft.Logger of a simulated member (and of the bare
// raft baseline the benchmarks compare with): it drops debug, info and
// warning lines (formatting them would dominate the run time) and panics
// on fatal and panic, as raft requires.
type QuietLogger struct{}

func (QuietLogger) Debug(...any)            {}
func (QuietLogger) Debugf(string, ...any)   {}
func (QuietLogger) Info(...any)             {}
func (QuietLogger) Infof(string, ...any)    {}
func (QuietLogger) Warning(...any)          {}
func (QuietLogger) Warningf(string, ...any) {}
func (QuietLogger) Error(...any)            {}
func (QuietLogger) Errorf(string, ...any)   {}
func (QuietLogger) Fatal(v ...any)          { panic(fmt.Sprint(v...)) }
func (QuietLogger) Fatalf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
func (QuietLogger) Panic(v ...any) { panic(fmt.Sprint(v...)) }
func (QuietLogger) Panicf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
