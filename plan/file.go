package plan

import (
	"encoding/json"
	"fmt"
	"os"

	"connform/internal/atomicfile"
)

// WriteFile saves p as a plan file: JSON, mode 0600, written to a temporary
// file and renamed so a crash never leaves half a plan. It holds no secret:
// sensitive values appear only as "(sensitive)" and sensitive variables are
// not saved (apply reads them again from the same sources).
func WriteFile(path string, p *Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("cannot write plan file %s: %w", path, err)
	}
	return nil
}

// ReadFile loads a plan file written by WriteFile.
func ReadFile(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read plan file: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s is not a connform plan file: %v", path, err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%s has plan format %d; this connform reads format %d: make the plan again with this version", path, p.FormatVersion, FormatVersion)
	}
	return &p, nil
}

// CheckFresh refuses a saved plan whose inputs changed since it was made:
// applying it would act on a diff that no longer holds.
func (p *Plan) CheckFresh(configHash, lineage string, serial uint64) error {
	if p.ConfigHash != configHash {
		return fmt.Errorf("the configuration or its variables changed since this plan was made; run connform plan again")
	}
	if p.StateLineage != "" && lineage != "" && p.StateLineage != lineage {
		return fmt.Errorf("the plan was made for another state (lineage %s, the state now has %s); run connform plan again", p.StateLineage, lineage)
	}
	if p.StateSerial != serial || (p.StateLineage == "" && lineage != "") {
		return fmt.Errorf("the state changed since this plan was made (serial %d, now %d); run connform plan again", p.StateSerial, serial)
	}
	return nil
}
