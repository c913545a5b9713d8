package emulator

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// The Web API's metadata and data routes: EntityDefinitions and one entity
// set per sample entity. An unknown entity set needs no route: the org
// handler answers 404 for it, as Dynamics does.
func init() {
	webAPIRoutes["EntityDefinitions"] = entityDefinitions
	for _, m := range sampleEntities {
		webAPIRoutes[m.setName] = entitySet
	}
}

// Dynamics' error codes the routes answer with.
const (
	codeNotFound    = "0x8006088a" // a segment or property that does not exist
	codeBadQuery    = "0x80060888" // a query the server cannot read
	codeNoSuchRow   = "0x80040217" // a record key that matches no row
	defaultPageSize = 10           // small on purpose (Dataverse's is 5000), so that clients page
	maxPageSize     = 5000
)

// label is a Label object as the metadata holds it: every language's label
// and the one of the caller's language.
func label(text, metadataID string) map[string]any {
	l := map[string]any{
		"Label":        text,
		"LanguageCode": 1033,
		"IsManaged":    true,
		"MetadataId":   metadataID,
		"HasChanged":   nil,
	}
	return map[string]any{"LocalizedLabels": []any{l}, "UserLocalizedLabel": l}
}

// metadata is an entity's full EntityMetadata, or rather a fair part of it:
// the real object has well over a hundred properties, which is why clients
// must $select.
func (m *entityMeta) metadata() map[string]any {
	id := m.metadataID()
	sub := func(what string) string { return uuid.NewSHA1(dataNamespace, []byte(what+"/"+m.logicalName)).String() }
	return map[string]any{
		"MetadataId":             id,
		"LogicalName":            m.logicalName,
		"SchemaName":             strings.ToUpper(m.logicalName[:1]) + m.logicalName[1:],
		"EntitySetName":          m.setName,
		"LogicalCollectionName":  m.setName,
		"CollectionSchemaName":   strings.ToUpper(m.setName[:1]) + m.setName[1:],
		"DisplayName":            label(m.displayName, sub("displayname")),
		"DisplayCollectionName":  label(m.collectionName, sub("displaycollectionname")),
		"Description":            label("Sample "+strings.ToLower(m.displayName)+" data of the connform emulator.", sub("description")),
		"PrimaryIdAttribute":     m.primaryID,
		"PrimaryNameAttribute":   m.primaryName,
		"ObjectTypeCode":         m.objectTypeCode,
		"OwnershipType":          "UserOwned",
		"IsCustomEntity":         false,
		"IsActivity":             false,
		"IsManaged":              true,
		"IsValidForAdvancedFind": true,
		"IsAuditEnabled":         map[string]any{"Value": true, "CanBeChanged": true, "ManagedPropertyLogicalName": "canmodifyauditsettings"},
		"ChangeTrackingEnabled":  true,
		"HasNotes":               true,
		"HasActivities":          true,
		"IntroducedVersion":      "5.0.0.0",
		"TableType":              "Standard",
	}
}

// odataProblem is an error a route answers with.
type odataProblem struct {
	status        int
	code, message string
}

func (p *odataProblem) write(w http.ResponseWriter) { writeOData(w, p.status, p.code, p.message) }

func badQuery(msg string) *odataProblem {
	return &odataProblem{http.StatusBadRequest, codeBadQuery, msg}
}

func noProperty(name, typ string) *odataProblem {
	return badQuery("Could not find a property named '" + name + "' on type '" + typ + "'.")
}

// queryOptions reads the request's OData system query options, refusing
// any the route does not support so that a client never silently gets
// more rows or columns than it asked for.
func queryOptions(r *http.Request, allowed ...string) (url.Values, *odataProblem) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badQuery("The query string is malformed: " + err.Error())
	}
	for k := range q {
		if strings.HasPrefix(k, "$") && !slices.Contains(allowed, k) {
			return nil, badQuery("The query option '" + k + "' is not supported by the connform emulator here; it supports " + strings.Join(allowed, ", ") + ".")
		}
	}
	return q, nil
}

// parseSelect splits a $select into its properties, each of which must be
// one of known.
func parseSelect(raw, typ string, known func(string) bool) ([]string, *odataProblem) {
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, badQuery("The $select option '" + raw + "' has an empty property name.")
		}
		if !known(p) {
			return nil, noProperty(p, typ)
		}
		out = append(out, p)
	}
	return out, nil
}

func entityDefinitions(e *Emulator, w http.ResponseWriter, r *http.Request, c *webAPICall) {
	if !methodAllowed(w, r, http.MethodGet) {
		return
	}
	q, p := queryOptions(r, "$select")
	if p != nil {
		p.write(w)
		return
	}
	const typ = "Microsoft.Dynamics.CRM.EntityMetadata"
	sample := sampleEntities[0].metadata()
	sel, p := parseSelect(q.Get("$select"), typ, func(s string) bool { _, ok := sample[s]; return ok })
	if p != nil {
		p.write(w)
		return
	}
	project := func(m *entityMeta) map[string]any {
		full := m.metadata()
		if sel == nil {
			return full
		}
		// Dynamics returns the key with any selection.
		out := map[string]any{"MetadataId": full["MetadataId"]}
		for _, s := range sel {
			out[s] = full[s]
		}
		return out
	}
	context := c.org.URL + webAPIPath + "$metadata#EntityDefinitions"
	if sel != nil {
		context += "(" + strings.Join(sel, ",") + ")"
	}
	w.Header().Set("OData-Version", "4.0")

	key, ok := strings.CutPrefix(c.path, "EntityDefinitions")
	switch {
	case key == "":
		value := []any{}
		for _, m := range sampleEntities {
			value = append(value, project(m))
		}
		writeJSON(w, http.StatusOK, map[string]any{"@odata.context": context, "value": value})
	case ok && strings.HasPrefix(key, "(") && strings.HasSuffix(key, ")"):
		m, p := entityByKey(key[1 : len(key)-1])
		if p != nil {
			p.write(w)
			return
		}
		body := project(m)
		body["@odata.context"] = context + "/$entity"
		writeJSON(w, http.StatusOK, body)
	default:
		writeOData(w, http.StatusNotFound, codeNotFound, "Resource not found for the segment '"+c.path+"'; the connform emulator serves EntityDefinitions and EntityDefinitions(LogicalName='name') only.")
	}
}

// entityByKey finds the entity an EntityDefinitions key names: a MetadataId
// or LogicalName='name'.
func entityByKey(key string) (*entityMeta, *odataProblem) {
	if id, err := uuid.Parse(key); err == nil {
		for _, m := range sampleEntities {
			if m.metadataID() == id.String() {
				return m, nil
			}
		}
		return nil, &odataProblem{http.StatusNotFound, codeBadQuery, "Could not find an entity with the MetadataId '" + id.String() + "'."}
	}
	name, ok := strings.CutPrefix(key, "LogicalName=")
	lit, rest, litOK := stringLiteral(name)
	if !ok || !litOK || rest != "" {
		return nil, badQuery("The key '" + key + "' is not valid for EntityDefinitions: use EntityDefinitions(LogicalName='account') or a MetadataId.")
	}
	m := entityByLogicalName(lit)
	if m == nil {
		return nil, &odataProblem{http.StatusNotFound, codeBadQuery, "Could not find an entity with the name '" + lit + "'. Check the logical name (lower case, such as account) in EntityDefinitions."}
	}
	return m, nil
}

// stringLiteral reads an OData string literal ('text', with ” for a
// quote) at the start of s and returns it and what follows.
func stringLiteral(s string) (lit, rest string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", s, false
}

func entitySet(e *Emulator, w http.ResponseWriter, r *http.Request, c *webAPICall) {
	if !methodAllowed(w, r, http.MethodGet) {
		return
	}
	set, key, hasKey := strings.Cut(c.path, "(")
	m := entityBySetName(set)
	if hasKey && strings.HasSuffix(key, ")") {
		oneRecord(w, r, c, m, key[:len(key)-1])
		return
	}
	if hasKey || c.path != set {
		writeOData(w, http.StatusNotFound, codeNotFound, "Resource not found for the segment '"+c.path+"'.")
		return
	}
	q, p := queryOptions(r, "$select", "$filter", "$top", "$skiptoken")
	if p != nil {
		p.write(w)
		return
	}
	typ := "Microsoft.Dynamics.CRM." + m.logicalName
	sel, p := parseSelect(q.Get("$select"), typ, func(s string) bool { return slices.Contains(m.columns, s) })
	if p != nil {
		p.write(w)
		return
	}
	rows := rowsFor(c.org, set)
	if f := q.Get("$filter"); f != "" {
		conds, p := parseFilter(f, m, rows)
		if p != nil {
			p.write(w)
			return
		}
		rows = slices.DeleteFunc(slices.Clone(rows), func(rw row) bool { return !matches(rw, conds) })
	}
	limit := len(rows)
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			badQuery("Invalid value '" + t + "' for $top: give a whole number of rows, such as $top=10.").write(w)
			return
		}
		limit = min(limit, n)
	}
	offset := 0
	if t := q.Get("$skiptoken"); t != "" {
		n, ok := parseCookie(t)
		if !ok {
			badQuery("The $skiptoken '" + t + "' is not one this server issued; follow @odata.nextLink as given.").write(w)
			return
		}
		offset = min(n, limit)
	}
	size := defaultPageSize
	if n, ok := maxPageSizePreference(r.Header.Values("Prefer")); ok {
		size = n
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(n))
	}
	end := min(offset+size, limit)

	value := []any{}
	for _, rw := range rows[offset:end] {
		value = append(value, project(m, rw, sel))
	}
	context := c.org.URL + webAPIPath + "$metadata#" + set
	if sel != nil {
		context += "(" + strings.Join(sel, ",") + ")"
	}
	body := map[string]any{"@odata.context": context, "value": value}
	if end < limit {
		body["@odata.nextLink"] = nextLink(c.org.URL+webAPIPath+set, q, end)
	}
	w.Header().Set("OData-Version", "4.0")
	writeJSON(w, http.StatusOK, body)
}

// oneRecord answers set(guid) with the row of that id.
func oneRecord(w http.ResponseWriter, r *http.Request, c *webAPICall, m *entityMeta, key string) {
	q, p := queryOptions(r, "$select")
	if p != nil {
		p.write(w)
		return
	}
	sel, p := parseSelect(q.Get("$select"), "Microsoft.Dynamics.CRM."+m.logicalName, func(s string) bool { return slices.Contains(m.columns, s) })
	if p != nil {
		p.write(w)
		return
	}
	id, err := uuid.Parse(key)
	if err != nil {
		badQuery("The key '" + key + "' of " + m.setName + " is not a GUID.").write(w)
		return
	}
	for _, rw := range rowsFor(c.org, m.setName) {
		if rw.values[m.primaryID] == id.String() {
			body := project(m, rw, sel)
			body["@odata.context"] = c.org.URL + webAPIPath + "$metadata#" + m.setName + "/$entity"
			w.Header().Set("OData-Version", "4.0")
			writeJSON(w, http.StatusOK, body)
			return
		}
	}
	writeOData(w, http.StatusNotFound, codeNoSuchRow, m.logicalName+" With Id = "+id.String()+" Does Not Exist")
}

// project renders a row with its etag and the selected columns; Dynamics
// always adds the primary id.
func project(m *entityMeta, rw row, sel []string) map[string]any {
	out := map[string]any{"@odata.etag": `W/"` + strconv.Itoa(rw.version) + `"`}
	if sel == nil {
		for k, v := range rw.values {
			out[k] = v
		}
		return out
	}
	out[m.primaryID] = rw.values[m.primaryID]
	for _, s := range sel {
		out[s] = rw.values[s]
	}
	return out
}

// The skip token is opaque to clients; it looks like Dynamics' paging
// cookie and carries how many rows the previous pages held.
func cookie(offset int) string {
	return `<cookie pagenumber="` + strconv.Itoa(offset/defaultPageSize+1) + `" offset="` + strconv.Itoa(offset) + `" />`
}

func parseCookie(s string) (int, bool) {
	_, rest, ok := strings.Cut(s, `offset="`)
	if !ok || !strings.HasPrefix(s, "<cookie ") {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, `"`)
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// nextLink repeats the request's query options with the skip token of the
// next page. Spaces are %20: OData readers do not all take '+' for one.
func nextLink(base string, q url.Values, offset int) string {
	var parts []string
	for _, k := range []string{"$select", "$filter", "$top"} {
		if v := q.Get(k); v != "" {
			parts = append(parts, k+"="+escapeQuery(v))
		}
	}
	parts = append(parts, "$skiptoken="+escapeQuery(cookie(offset)))
	return base + "?" + strings.Join(parts, "&")
}

func escapeQuery(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// maxPageSizePreference reads odata.maxpagesize from Prefer headers.
func maxPageSizePreference(values []string) (int, bool) {
	for _, v := range values {
		for _, pref := range strings.Split(v, ",") {
			name, val, ok := strings.Cut(strings.TrimSpace(pref), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "odata.maxpagesize") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err == nil && n > 0 {
				return min(n, maxPageSize), true
			}
		}
	}
	return 0, false
}

// cond is one "column eq literal" of a filter.
type cond struct {
	column string
	value  any // string, float64, bool or nil
}

// filterHelp says what the emulator's $filter supports.
const filterHelp = "the connform emulator supports only equality filters, joined by 'and': name eq 'Contoso' or revenue eq 100000"

// parseFilter reads a $filter of equalities joined by "and", checking
// columns against the entity and literal types against its rows.
func parseFilter(f string, m *entityMeta, rows []row) ([]cond, *odataProblem) {
	typ := "Microsoft.Dynamics.CRM." + m.logicalName
	s := strings.TrimSpace(f)
	var conds []cond
	for {
		col, rest, _ := strings.Cut(s, " ")
		op, rest, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
		rest = strings.TrimLeft(rest, " ")
		if col == "" || strings.ContainsAny(col, "()'") {
			return nil, badQuery("The $filter '" + f + "' is not supported: " + filterHelp + ".")
		}
		if !slices.Contains(m.columns, col) {
			return nil, noProperty(col, typ)
		}
		if op != "eq" {
			return nil, badQuery("The $filter operator '" + op + "' is not supported: " + filterHelp + ".")
		}
		var val any
		var text string
		if lit, after, ok := stringLiteral(rest); ok {
			val, rest = lit, after
		} else if strings.HasPrefix(rest, "'") {
			return nil, badQuery("The $filter '" + f + "' has an unterminated string: end it with ' and write a quote inside as ''.")
		} else {
			text, rest, _ = strings.Cut(rest, " ")
			rest = " " + rest
			switch {
			case text == "null":
				val = nil
			case text == "true" || text == "false":
				val = text == "true"
			default:
				if n, err := strconv.ParseFloat(text, 64); err == nil {
					val = n
				} else if id, err := uuid.Parse(text); err == nil {
					val = id.String()
				} else {
					return nil, badQuery("The $filter value '" + text + "' is not a literal: quote text ('Contoso'), or give a number, true, false, null or a GUID.")
				}
			}
		}
		if want, got := columnKind(rows, col), kind(val); val != nil && want != "" && want != got {
			return nil, badQuery("A binary operator with incompatible types was detected. Found operand types '" + want + "' and '" + got + "' for operator kind 'Equal' (column " + col + ").")
		}
		conds = append(conds, cond{col, val})
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return conds, nil
		}
		next, ok := strings.CutPrefix(rest, "and ")
		if !ok {
			return nil, badQuery("The $filter '" + f + "' is not supported after '" + strings.TrimSuffix(f, rest) + "': " + filterHelp + ".")
		}
		s = strings.TrimSpace(next)
	}
}

// kind names a value's Edm type family, as errors show it.
func kind(v any) string {
	switch v.(type) {
	case string:
		return "Edm.String"
	case float64, int:
		return "Edm.Decimal"
	case bool:
		return "Edm.Boolean"
	}
	return ""
}

// columnKind is the type of a column: that of its first non-null value.
func columnKind(rows []row, col string) string {
	for _, rw := range rows {
		if v := rw.values[col]; v != nil {
			return kind(v)
		}
	}
	return ""
}

func matches(rw row, conds []cond) bool {
	for _, c := range conds {
		v := rw.values[c.column]
		switch want := c.value.(type) {
		case nil:
			if v != nil {
				return false
			}
		case string:
			// Dataverse compares text without regard to case.
			got, ok := v.(string)
			if !ok || !strings.EqualFold(got, want) {
				return false
			}
		case float64:
			var got float64
			switch n := v.(type) {
			case float64:
				got = n
			case int:
				got = float64(n)
			default:
				return false
			}
			if got != want {
				return false
			}
		case bool:
			if v != want {
				return false
			}
		}
	}
	return true
}
