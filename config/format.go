package config

import (
	"io"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical layout (hclwrite.Format). It refuses a
// file that does not parse: formatting broken input could move the error
// somewhere confusing, so it returns the parse diagnostics and nil.
func Format(filename string, src []byte) ([]byte, hcl.Diagnostics) {
	_, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), diags
}

// WriteDiagnostics prints diags with the offending source lines taken from
// files (Config.Files). width wraps the text (0 = no wrapping; a terminal of
// unknown width should use DefaultDiagnosticWidth); color adds terminal
// colours.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		// A diagnostic about a whole directory (no configuration files, an
		// unreadable folder) has no line to quote; hcl would print "line 0"
		// and "(source code not available)".
		// Nor has one about a value from -var, the environment or a saved
		// plan ("<value for var.NAME>"), or about a file refused before
		// parsing (binary, too large, too deeply nested), whose line is not
		// fit to print: its detail names the source and the position.
		_, inFile := files[pathOf(d.Subject)]
		if d.Subject != nil && (d.Subject.Start.Line == 0 || !inFile) {
			c := *d
			c.Subject = nil
			d = &c
		}
		out[i] = d
	}
	return hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(out)
}

// pathOf is the file a diagnostic points into, "" for none.
func pathOf(r *hcl.Range) string {
	if r == nil {
		return ""
	}
	return r.Filename
}
