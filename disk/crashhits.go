package disk

// CrashFault is one kind of damage a crash image did to a file, as the
// coverage probes of a world count it.
type CrashFault uint8

// The kinds of crash damage.
const (
	CrashTorn          CrashFault = iota // the in-flight write was torn (TornWrite)
	CrashKeptUnsynced                    // some unsynced sectors survived (KeepUnsynced)
	CrashDirUndone                       // a create, rename or remove was undone (DirLoss)
	CrashLostUnsynced                    // some unsynced sectors were lost (always on)
	CrashTornUnordered                   // a torn write kept a sector after a lost one (TornWrite)
)

// CrashHit is one kind of damage to one file at a crash: the file's name
// (for an undone rename, the name it was renamed from) and the damage.
type CrashHit struct {
	Fault CrashFault
	Name  string
}

// CrashHits returns what the last crash did to which file, in the order
// of CrashLog; like CrashLog, on the image it describes the crash that
// made it.
func (fs *FS) CrashHits() []CrashHit { return fs.crashHits }

// hit records one kind of damage to the file name.
func (c *crasher) hit(f CrashFault, name string) {
	c.hits = append(c.hits, CrashHit{Fault: f, Name: name})
}

// hitUnsynced records which way the unsynced sectors of name went.
func (c *crasher) hitUnsynced(name string, kept, of int) {
	if kept > 0 {
		c.hit(CrashKeptUnsynced, name)
	}
	if kept < of {
		c.hit(CrashLostUnsynced, name)
	}
}
