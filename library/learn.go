package library

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"connform/config"
	"connform/dynamics"
	"connform/internal/safetext"
)

// The data-sync tool's parameter names are unconfirmed, so import learns
// them from the entries the tool saved: a parameter is taken for an
// attribute only when its value proves it (an org URL, a grant type, a
// loopback redirect, an endpoint) or, for the two GUIDs, its value and name
// together do. Two candidates, or one parameter fitting two attributes, is
// refused rather than guessed; -param and the library_parameter_names of a
// configuration in the current folder are never overridden.

// learnRule tells whether a parameter holds attr.
type learnRule struct {
	attr string
	// what is the value, as an error names the candidates ("an org URL").
	what  string
	holds func(name, value string) bool
}

var learnRules = []learnRule{
	{"url", "an org URL", func(_, v string) bool {
		_, err := dynamics.ParseOrgURL(v)
		return err == nil && !isRedirectValue(v)
	}},
	{"tenant_id", "a GUID under a tenant's name", func(n, v string) bool {
		return isGUID(v) && nameHas(n, "tenant", "directory", "authority")
	}},
	{"client_id", "a GUID under an app's name", func(n, v string) bool {
		return isGUID(v) && nameHas(n, "client", "app")
	}},
	{"authorization_url", "an authorize endpoint", func(_, v string) bool { return isEndpoint(v, "/authorize") }},
	{"token_url", "a token endpoint", func(_, v string) bool { return isEndpoint(v, "/token") }},
	{"grant_type", "a grant type", func(_, v string) bool {
		return v == config.GrantAuthorizationCode || v == config.GrantDeviceCode || v == config.GrantClientCredentials
	}},
	{"redirect", "a loopback redirect", func(_, v string) bool { return isRedirectValue(v) }},
}

// maxLearnedName bounds a learned parameter name: the tool's are short
// identifiers.
const maxLearnedName = 128

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isGUID(v string) bool { return guidPattern.MatchString(v) }

func nameHas(name string, words ...string) bool {
	n := strings.ToLower(name)
	return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(n, w) })
}

// isRedirectValue is a loopback redirect: plain http to localhost or
// 127.0.0.1 with no path beyond "/". The path rule keeps an emulator's org
// endpoint (http://127.0.0.1:PORT/XRMServices/...) an org URL.
func isRedirectValue(v string) bool {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return (h == "localhost" || h == "127.0.0.1") && (u.Path == "" || u.Path == "/")
}

// isEndpoint is an https (or loopback http) URL whose path ends in suffix.
func isEndpoint(v, suffix string) bool {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && dynamics.IsLoopbackHost(u.Hostname())) {
		return false
	}
	return strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), suffix)
}

// entryNames is what one entry says about parameter names.
type entryNames struct {
	path string
	// uses maps an attribute to the parameter name the entry keeps it
	// under, configured or learned; learned holds the learned ones.
	uses, learned map[string]string
	hasURL        bool
	problems      []string
}

// learnEntry reads which parameters of e hold which attribute.
func (imp *importer) learnEntry(e Entry, path string) entryNames {
	en := entryNames{path: path, uses: map[string]string{}, learned: map[string]string{}}
	byAttr := map[string][]string{} // a learned parameter → the attributes it fits
	for _, r := range learnRules {
		if has := e.findParam(imp.names[r.attr]); has {
			en.uses[r.attr] = imp.names[r.attr]
			continue
		}
		var cands []string
		for _, p := range e.Params {
			// A parameter another attribute is configured to read is not
			// free to learn, and a secret's is never looked at.
			if _, claimed := imp.byParam[strings.ToLower(p.Name)]; claimed || LooksSecret(p.Name) || p.Value == "" {
				continue
			}
			// A name that would not print as it is (escapes, a screenful)
			// is no name to put into a configuration and show the user.
			if !safetext.Safe(p.Name) || len(p.Name) > maxLearnedName || strings.ContainsAny(p.Name, "\n\t") {
				continue
			}
			if r.holds(p.Name, p.Value) && !slices.Contains(cands, p.Name) {
				cands = append(cands, p.Name)
			}
		}
		if r.attr == "url" && len(cands) > 0 {
			en.hasURL = true
		}
		if _, explicit := imp.opt.Names[r.attr]; explicit {
			// -param (or library_parameter_names here) wins: the entry is
			// read by that name or refused.
			continue
		}
		switch len(cands) {
		case 0:
		case 1:
			en.learned[r.attr], en.uses[r.attr] = cands[0], cands[0]
			byAttr[cands[0]] = append(byAttr[cands[0]], r.attr)
		default:
			var give []string
			for _, c := range cands {
				give = append(give, "-param "+r.attr+"="+c)
			}
			en.problems = append(en.problems, fmt.Sprintf("%s has no %s parameter, and the parameters %s each hold %s: connform does not guess which is %s; import again with %s",
				path, imp.names[r.attr], strings.Join(cands, ", "), r.what, r.attr, strings.Join(give, " or ")))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byAttr)) {
		attrs := byAttr[name]
		if len(attrs) < 2 {
			continue
		}
		var give []string
		for _, a := range attrs {
			give = append(give, "-param "+a+"=NAME")
			delete(en.learned, a)
			delete(en.uses, a)
		}
		en.problems = append(en.problems, fmt.Sprintf("%s: parameter %s could hold %s: connform does not guess which; import again with %s",
			path, name, strings.Join(attrs, " or "), strings.Join(give, " ")))
	}
	if _, ok := en.uses["url"]; ok {
		en.hasURL = true
	}
	return en
}

// findParam reports whether e has a parameter called name (any case, as
// import reads them).
func (e Entry) findParam(name string) bool {
	return name != "" && slices.ContainsFunc(e.Params, func(p Param) bool { return strings.EqualFold(p.Name, name) && p.Value != "" })
}

// learn learns the parameter names of the folder's Dynamics entries and
// reads every entry by them from then on. Entries that disagree on a name
// are refused: a configuration has one name per attribute, and apply would
// rewrite the others.
func (imp *importer) learn(entries []Entry, paths []string) []string {
	all := make([]entryNames, len(entries))
	dynamicsTypes := map[string]bool{config.DefaultLibraryDataType: true, imp.opt.DataType: true}
	for i, e := range entries {
		all[i] = imp.learnEntry(e, paths[i])
		if all[i].hasURL {
			dynamicsTypes[e.DataType] = true
		}
	}
	delete(dynamicsTypes, "")
	var problems []string
	first := map[string]*entryNames{} // attribute → the first entry naming it
	for i, e := range entries {
		en := &all[i]
		if !en.hasURL && !dynamicsTypes[e.DataType] {
			continue
		}
		problems = append(problems, en.problems...)
		for _, attr := range config.ImportAttributes() {
			name, ok := en.uses[attr]
			if !ok {
				continue
			}
			prev := first[attr]
			if prev == nil {
				first[attr] = en
				continue
			}
			if other := prev.uses[attr]; !strings.EqualFold(other, name) {
				problems = append(problems, fmt.Sprintf("%s keeps %s in the parameter %s but %s in %s: a configuration names one parameter per attribute; rename the parameter in one of them, or import them from separate folders",
					prev.path, attr, other, en.path, name))
			}
		}
	}
	if len(problems) > 0 {
		return problems
	}
	// Say what was learned, once, from the entry that taught it first.
	for _, attr := range config.ImportAttributes() {
		en := first[attr]
		if en == nil || en.learned[attr] == "" {
			continue
		}
		name := en.learned[attr]
		imp.names[attr] = name
		imp.byParam[strings.ToLower(name)] = attr
		if name != DefaultParameterNames[attr] {
			imp.overrides[attr] = name
		}
		imp.teach(en.path, attr+" is "+name)
	}
	return nil
}

// teach records a fact learned from the entry at path, for Learned.
func (imp *importer) teach(path, fact string) {
	if imp.taught == nil {
		imp.taught = map[string][]string{}
	}
	if imp.taught[path] == nil {
		imp.taughtOrder = append(imp.taughtOrder, path)
	}
	imp.taught[path] = append(imp.taught[path], fact)
}

// learnedLines says what was learned, one line per entry that taught it,
// the DataType after the names.
func (imp *importer) learnedLines(dataType, dataTypeFrom string) []string {
	if dataType != "" {
		if imp.taught[dataTypeFrom] == nil {
			imp.taughtOrder = append(imp.taughtOrder, dataTypeFrom)
		}
	}
	var lines []string
	for _, p := range imp.taughtOrder {
		line := "learned from " + safetext.Line(p, safetext.FieldMax) + ": " + strings.Join(imp.taught[p], ", ")
		if dataType != "" && p == dataTypeFrom {
			if len(imp.taught[p]) > 0 {
				line += "; "
			}
			line += "DataType " + safetext.Line(dataType, safetext.FieldMax)
		}
		lines = append(lines, line)
	}
	return lines
}
