package atomicfile

import "time"

// renameRetrying renames from to to, trying again while transient says the
// failure is another process holding to open for a moment, with a doubling
// pause, until the pauses would exceed budget; then it returns the last
// error. Windows refuses to replace a file any process has open (Go, like
// most programs, opens files without FILE_SHARE_DELETE): a connform reading
// the token file, a virus scanner, Data Sync reading a library entry.
func renameRetrying(from, to string, rename func(string, string) error, transient func(error) bool, sleep func(time.Duration), budget time.Duration) error {
	pause := 5 * time.Millisecond
	var waited time.Duration
	for {
		err := rename(from, to)
		if err == nil || !transient(err) || waited+pause > budget {
			return err
		}
		sleep(pause)
		waited += pause
		pause *= 2
	}
}
