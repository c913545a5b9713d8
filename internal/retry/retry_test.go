package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// answer is what one try returns.
type answer struct {
	retryAfter time.Duration
	retry      bool
	err        error
}

var (
	errBusy   = errors.New("HTTP 429 busy")
	errDown   = errors.New("HTTP 503 down")
	errDenied = errors.New("HTTP 401 denied")
)

func busy(after time.Duration) answer { return answer{after, true, errBusy} }

var (
	ok   = answer{}
	down = answer{0, true, errDown}
)

func TestDo(t *testing.T) {
	policy := Policy{Attempts: 4, FirstBackoff: 500 * time.Millisecond, MaxWait: 30 * time.Second}
	tests := []struct {
		name      string
		policy    Policy
		answers   []answer // the last repeats
		wantErr   error
		wantWaits []time.Duration
	}{
		{"success at once", policy, []answer{ok}, nil, nil},
		{"backoff then success", policy, []answer{down, down, ok}, nil, []time.Duration{500 * time.Millisecond, time.Second}},
		{"gives up after Attempts with the last error", policy, []answer{down, down, down, busy(0)}, errBusy, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{"a failure not worth retrying is returned at once", policy, []answer{{0, false, errDenied}}, errDenied, nil},
		{"Retry-After is honoured", policy, []answer{busy(7 * time.Second), ok}, nil, []time.Duration{7 * time.Second}},
		{"Retry-After is capped at MaxWait", policy, []answer{busy(time.Hour), ok}, nil, []time.Duration{30 * time.Second}},
		{"Retry-After does not reset the backoff", policy, []answer{busy(2 * time.Second), down, ok}, nil, []time.Duration{2 * time.Second, time.Second}},
		{"no MaxWait means no cap", Policy{Attempts: 2, FirstBackoff: time.Second}, []answer{busy(time.Hour), ok}, nil, []time.Duration{time.Hour}},
		{"Attempts below 1 means one try", Policy{FirstBackoff: time.Second}, []answer{down, ok}, errDown, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waits []time.Duration
			p := tt.policy
			p.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			calls := 0
			err := Do(context.Background(), p, func() (time.Duration, bool, error) {
				a := tt.answers[min(calls, len(tt.answers)-1)]
				calls++
				return a.retryAfter, a.retry, a.err
			})
			if err != tt.wantErr {
				t.Errorf("Do = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("waits %v, want %v", waits, tt.wantWaits)
			}
			if calls != len(tt.wantWaits)+1 {
				t.Errorf("%d tries for %d waits", calls, len(waits))
			}
		})
	}
}

// TestDoCancelled: when the context ends, Do stops trying and its error
// wraps the context's, not the service's, yet tells the last failure.
func TestDoCancelled(t *testing.T) {
	tests := []struct {
		name string
		// try is the only try's outcome; cancelDuringTry ends the context
		// while it runs, else the context ends while Do waits.
		try             func(ctx context.Context) error
		cancelDuringTry bool
		wantText        string
		wantNotIs       error
	}{
		{
			name:      "while waiting to retry",
			try:       func(context.Context) error { return errBusy },
			wantText:  errBusy.Error(),
			wantNotIs: errBusy,
		},
		{
			name:            "during a try that failed on its own",
			try:             func(context.Context) error { return errDown },
			cancelDuringTry: true,
			wantText:        errDown.Error(),
			wantNotIs:       errDown,
		},
		{
			name: "during a try cut short by the context",
			try: func(ctx context.Context) error {
				return fmt.Errorf("GET https://org.example/api: %w", ctx.Err())
			},
			cancelDuringTry: true,
			wantText:        "GET https://org.example/api: context canceled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			p := Policy{Attempts: 4, FirstBackoff: time.Hour, Sleep: func(ctx context.Context, d time.Duration) error {
				cancel()
				return Sleep(ctx, d) // must end at once, not after an hour
			}}
			err := Do(ctx, p, func() (time.Duration, bool, error) {
				calls++
				if tt.cancelDuringTry {
					cancel()
				}
				return 0, true, tt.try(ctx)
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Do = %v, want it to wrap context.Canceled", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Do = %v, want it to tell %q", err, tt.wantText)
			}
			if tt.wantNotIs != nil && errors.Is(err, tt.wantNotIs) {
				t.Errorf("Do = %v wraps the service's error %v, so a caller would take it for the service's answer", err, tt.wantNotIs)
			}
			if calls != 1 {
				t.Errorf("%d tries after cancelling, want 1", calls)
			}
		})
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep with a live context = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with an ended context = %v, want context.Canceled", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 7 ", 7 * time.Second},
		{"86400", 24 * time.Hour}, // not capped: Policy.MaxWait does that
		{"0", 0},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"99999999999999999999", 0},            // not an int64 nor a date
		{"9223372036854775807", math.MaxInt64}, // saturates instead of wrapping negative
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(2 * time.Minute).Format(time.RFC850), 2 * time.Minute},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// TestOnRetry: a watcher hears of every wait, before it starts, with the
// try to come and the failure that caused it, in words a person reads.
func TestOnRetry(t *testing.T) {
	var heard []string
	var slept []time.Duration
	p := Policy{Attempts: 4, FirstBackoff: 500 * time.Millisecond, MaxWait: 30 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
		OnRetry: func(n Notice) {
			if len(slept) != n.Attempt-2 {
				t.Errorf("notice for attempt %d after %d waits: it must come before its wait", n.Attempt, len(slept))
			}
			heard = append(heard, n.Err.Error()+", "+n.String())
		},
	}
	answers := []answer{down, busy(4 * time.Second), busy(time.Minute), ok}
	calls := 0
	err := Do(context.Background(), p, func() (time.Duration, bool, error) {
		a := answers[calls]
		calls++
		return a.retryAfter, a.retry, a.err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"HTTP 503 down, retrying in 0.5 s (attempt 2 of 4)",
		"HTTP 429 busy, retrying in 4 s (attempt 3 of 4)",
		"HTTP 429 busy, retrying in 30 s (attempt 4 of 4)",
	}
	if !slices.Equal(heard, want) {
		t.Errorf("heard\n%s\nwant\n%s", strings.Join(heard, "\n"), strings.Join(want, "\n"))
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{500 * time.Millisecond, "0.5 s"},
		{time.Second, "1 s"},
		{1234 * time.Millisecond, "1.2 s"},
		{4 * time.Second, "4 s"},
		{12600 * time.Millisecond, "13 s"},
		{0, "0 s"},
	} {
		if got := Seconds(tc.d); got != tc.want {
			t.Errorf("Seconds(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
