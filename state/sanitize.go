package state

import "connform/internal/safetext"

// maxValue bounds one string of a state file as it is read. Nothing
// connform writes comes near it.
const maxValue = 64 << 10

// sanitize escapes the control characters of every string a state file
// holds, as it is read: the file may have been edited (a pull request, a
// tamperer), and its strings reach the terminal through plan, show and
// state list. connform never writes such characters into an address, an
// id or a path; an attribute value keeps its line breaks and tabs (a
// heredoc may have them), which renderers quote.
func sanitize(s *State) {
	line := func(v *string) { *v = safetext.Line(*v, maxValue) }
	line(&s.Lineage)
	line(&s.ConnformVersion)
	for _, c := range s.Connections {
		for _, v := range []*string{&c.Addr, &c.Name, &c.Key, &c.OrganizationID, &c.UserID, &c.BusinessUnitID,
			&c.Account, &c.TokenKey, &c.OrganizationServiceURL, &c.WebAPIURL, &c.LibraryPath, &c.LibraryHash} {
			line(v)
		}
		c.Attributes = sanitizeMap(c.Attributes)
		c.SensitiveFingerprints = sanitizeMap(c.SensitiveFingerprints)
	}
}

func sanitizeMap(m map[string]string) map[string]string {
	clean := true
	for k, v := range m {
		if !safetext.Safe(k) || !safetext.Safe(v) {
			clean = false
			break
		}
	}
	if clean {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[safetext.Line(k, maxValue)] = safetext.Text(v, maxValue)
	}
	return out
}
