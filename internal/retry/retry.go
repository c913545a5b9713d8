// Package retry owns how connform retries a request that failed for a
// reason that may pass (HTTP 429, 5xx, Entra's temporarily_unavailable): how
// many tries, how long to wait between them, how a server's Retry-After is
// read and bounded, and what is returned when the caller gives up waiting.
// The token endpoint (package auth) and the Web API (package dynamics) both
// use it, so a busy service is treated the same way everywhere.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy says how often and how long Do tries.
type Policy struct {
	// Attempts is the number of tries in all, the first included; less
	// than 1 means 1.
	Attempts int
	// FirstBackoff is the wait after the first failure when the server
	// asked for none; it doubles after each further failure.
	FirstBackoff time.Duration
	// MaxWait caps a wait the server asks for, so that a server cannot
	// stall a run for long; 0 means no cap.
	MaxWait time.Duration
	// Sleep waits between tries; nil means the package's Sleep. Tests
	// replace it to record the waits without spending them.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, when set, is told of each wait before it starts, so that a
	// person watching a slow run learns why it is slow.
	OnRetry func(Notice)
}

// Notice is one wait before another try.
type Notice struct {
	Attempt  int           // the try about to be made: 2 after the first failure
	Attempts int           // the tries allowed in all
	Wait     time.Duration // how long Do waits first
	Err      error         // the failure being retried
}

// String is the notice for people, e.g. "retrying in 4 s (attempt 2 of 4)";
// the caller says what failed.
func (n Notice) String() string {
	return fmt.Sprintf("retrying in %s (attempt %d of %d)", Seconds(n.Wait), n.Attempt, n.Attempts)
}

// Seconds writes a wait as people read it: "4 s", "0.5 s", "1.2 s".
func Seconds(d time.Duration) string {
	if d >= 10*time.Second {
		return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10) + " s"
	}
	return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + " s"
}

// Do calls try until it succeeds, reports a failure not worth retrying, or
// p.Attempts tries have failed, and returns try's last error. After a
// retryable failure it waits retryAfter when that is positive (capped at
// p.MaxWait), else the backoff.
//
// When ctx ends (or Sleep fails), Do stops at once and returns an error that
// wraps ctx.Err() (or Sleep's error) and tells the last failure, so that a
// cancelled run reads as cancelled rather than as the service's fault.
func Do(ctx context.Context, p Policy, try func() (retryAfter time.Duration, retry bool, err error)) error {
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	backoff := p.FirstBackoff
	for attempt := 1; ; attempt++ {
		retryAfter, retry, err := try()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return stopped(ctx.Err(), err)
		}
		if !retry || attempt >= p.Attempts {
			return err
		}
		wait := backoff
		if retryAfter > 0 {
			wait = retryAfter
			if p.MaxWait > 0 {
				wait = min(wait, p.MaxWait)
			}
		}
		if p.OnRetry != nil {
			p.OnRetry(Notice{Attempt: attempt + 1, Attempts: p.Attempts, Wait: wait, Err: err})
		}
		if serr := sleep(ctx, wait); serr != nil {
			return stopped(serr, err)
		}
		backoff *= 2
	}
}

// stopped is the error for giving up because of cause (the context's end)
// after the failure last.
func stopped(cause, last error) error {
	// A request cut short by the context already says so, with what it was
	// doing.
	if errors.Is(last, cause) {
		return last
	}
	// last is formatted, not wrapped: a caller looking for the service's
	// error type must not take a cancelled run for a service answer.
	return fmt.Errorf("%w; the last try failed: %v", cause, last)
}

// Sleep waits d, or less when ctx ends first, and then returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ParseRetryAfter reads a Retry-After header: a number of seconds, or an
// HTTP date that is turned into the time left from now. It returns 0 when
// the header is absent, malformed or in the past. The wait is not capped:
// a caller may want to show what the server asked for; Policy.MaxWait caps
// what Do waits.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(math.MaxInt64/time.Second) {
			return math.MaxInt64
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
