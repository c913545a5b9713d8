package state_test

import (
	"path/filepath"
	"testing"

	"connform/state"
	"connform/state/backendtest"
)

func TestLocalBackendConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) func() state.Backend {
		path := filepath.Join(t.TempDir(), "connform.state.json")
		return func() state.Backend { return state.NewLocal(path) }
	})
}
