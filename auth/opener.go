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

// OpenerFunc adapts a function to Opener, as http.HandlerFunc does.
type OpenerFunc func(url string) error

// Open calls f(url).
func (f OpenerFunc) Open(url string) error { return f(url) }

// RecordingOpener records the URLs it is asked to open, and calls OnOpen
// (when set) for each: the browser of tests, which play the user's part at
// the emulator's sign-in page from OnOpen.
type RecordingOpener struct {
	OnOpen func(url string) error

	mu   sync.Mutex
	urls []string
}

// Open records url and calls OnOpen.
func (o *RecordingOpener) Open(url string) error {
	o.mu.Lock()
	o.urls = append(o.urls, url)
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
	return append([]string(nil), o.urls...)
}
