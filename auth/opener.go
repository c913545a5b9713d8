package auth

import (
	"io"
	"sync"

	"github.com/cli/browser"
)

// Opener opens a URL in the user's browser.
type Opener interface {
	Open(url string) error
}

// SystemBrowser opens URLs with the desktop's browser (xdg-open and friends
// on Linux).
type SystemBrowser struct{}

var quietBrowser sync.Once

// Open opens url in the system browser.
func (SystemBrowser) Open(url string) error {
	// The helpers it runs (xdg-open, a browser) may print on their stdout,
	// which is connform's: plan output and -json streams must stay clean.
	quietBrowser.Do(func() {
		browser.Stdout = io.Discard
		browser.Stderr = io.Discard
	})
	return browser.OpenURL(url)
}

// RecordingOpener records the URLs it is asked to open, and calls OnOpen
// (when set) for each, for tests and the emulator's scripted sign-in.
type RecordingOpener struct {
	mu     sync.Mutex
	URLs   []string
	OnOpen func(url string) error
}

// Open records url and calls OnOpen.
func (o *RecordingOpener) Open(url string) error {
	o.mu.Lock()
	o.URLs = append(o.URLs, url)
	f := o.OnOpen
	o.mu.Unlock()
	if f != nil {
		return f(url)
	}
	return nil
}

// Opened returns a copy of the URLs opened so far.
func (o *RecordingOpener) Opened() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.URLs...)
}
