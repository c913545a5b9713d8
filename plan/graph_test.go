package plan

import (
	"context"
	"errors"
	"slices"
	"testing"

	"connform/internal/dag"
)

// The plan's graph puts referred-to resources first when creating, last
// when deleting, and lets covered sign-ins run after a failed cover.
func TestPlanGraph(t *testing.T) {
	const app, conn, other = "connection.app", "connection.conn", "connection.other"
	tests := []struct {
		name    string
		changes []*Change
		fail    string
		ran     []string
		skipped map[string]string
	}{{
		name: "create: what is referred to comes first",
		changes: []*Change{
			{Addr: conn, Action: Create, DependsOn: []string{app}},
			{Addr: app, Action: Create},
		},
		ran: []string{app, conn},
	}, {
		name: "delete: the reverse of create",
		changes: []*Change{
			{Addr: app, Action: Delete},
			{Addr: conn, Action: Delete, DependsOn: []string{app}},
		},
		ran: []string{conn, app},
	}, {
		name: "a failed reference stops the change referring to it",
		changes: []*Change{
			{Addr: conn, Action: Update, DependsOn: []string{app}},
			{Addr: app, Action: Replace},
			{Addr: other, Action: Create},
		},
		fail:    app,
		ran:     []string{app, other},
		skipped: map[string]string{conn: "not started: depends on connection.app, which failed"},
	}, {
		name: "a failed delete keeps what it refers to",
		changes: []*Change{
			{Addr: app, Action: Delete},
			{Addr: conn, Action: Delete, DependsOn: []string{app}},
		},
		fail:    conn,
		ran:     []string{conn},
		skipped: map[string]string{app: "not started: depends on connection.conn, which failed"},
	}, {
		name: "a covered sign-in runs after its cover, even a failed one",
		changes: []*Change{
			{Addr: app, Action: Create, Auth: Auth{Kind: AuthRefresh, CoveredBy: other}},
			{Addr: other, Action: Create, Auth: Auth{Kind: AuthInteractive}},
		},
		fail: other,
		ran:  []string{other, app},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := (&Plan{Changes: tt.changes}).Graph()
			if err != nil {
				t.Fatal(err)
			}
			var ran []string
			res, err := g.Walk(context.Background(), 1, func(_ context.Context, addr string, _ *dag.Step) error {
				ran = append(ran, addr)
				if addr == tt.fail {
					return errors.New("failed")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ran, tt.ran) {
				t.Errorf("ran %v, want %v", ran, tt.ran)
			}
			for addr, want := range tt.skipped {
				if res[addr] == nil || res[addr].Error() != want {
					t.Errorf("%s: %v, want %q", addr, res[addr], want)
				}
			}
		})
	}
}
