package dynamics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"connform/internal/safetext"
)

// Entity is a table of the org as EntityDefinitions describes it.
type Entity struct {
	LogicalName   string // such as "account"; what the entity attribute names
	EntitySetName string // such as "accounts"; the Web API collection of its rows
	DisplayName   string // the label in the caller's language, such as "Account"; may be empty
}

// entitySelect is what connform reads of an entity's metadata. The full
// metadata of one entity is tens of kilobytes, so every request selects.
const entitySelect = "$select=LogicalName,EntitySetName,DisplayName"

// entityDefinition is one EntityDefinitions item as the Web API sends it.
type entityDefinition struct {
	LogicalName   string `json:"LogicalName"`
	EntitySetName string `json:"EntitySetName"`
	DisplayName   *struct {
		UserLocalizedLabel *struct {
			Label string `json:"Label"`
		} `json:"UserLocalizedLabel"`
		LocalizedLabels []struct {
			Label string `json:"Label"`
		} `json:"LocalizedLabels"`
	} `json:"DisplayName"`
}

func (d entityDefinition) entity() Entity {
	e := Entity{LogicalName: d.LogicalName, EntitySetName: d.EntitySetName}
	if dn := d.DisplayName; dn != nil {
		// UserLocalizedLabel is null for entities without a label in the
		// user's language; any label is better than none.
		if dn.UserLocalizedLabel != nil {
			e.DisplayName = dn.UserLocalizedLabel.Label
		} else if len(dn.LocalizedLabels) > 0 {
			e.DisplayName = dn.LocalizedLabels[0].Label
		}
	}
	// The org's names are printed as they are: no control character may act.
	e.LogicalName = safetext.Line(e.LogicalName, safetext.FieldMax)
	e.EntitySetName = safetext.Line(e.EntitySetName, safetext.FieldMax)
	e.DisplayName = safetext.Line(e.DisplayName, safetext.FieldMax)
	return e
}

// Entities lists the org's entities, sorted by LogicalName. A non-2xx
// answer is an *APIError.
func (c *Client) Entities(ctx context.Context, org Org, token string) ([]Entity, error) {
	var out []Entity
	err := c.pages(ctx, org, token, org.WebAPIURL()+"EntityDefinitions?"+entitySelect, allPages, func(raw json.RawMessage) error {
		var d entityDefinition
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("an EntityDefinitions item is not entity metadata (%s)", jsonProblem(err))
		}
		out = append(out, d.entity())
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalName < out[j].LogicalName })
	return out, nil
}

// Entity reads one entity's metadata. When the org has no such entity the
// error is an *APIError with StatusCode 404; Nearest over Entities then
// gives names to suggest.
func (c *Client) Entity(ctx context.Context, org Org, token, logicalName string) (*Entity, error) {
	if logicalName == "" {
		return nil, fmt.Errorf("no entity name given; name an entity's logical name, such as account")
	}
	// An OData string literal doubles its quotes; the path escape keeps the
	// name from adding path segments or a query.
	key := "LogicalName='" + strings.ReplaceAll(logicalName, "'", "''") + "'"
	u := org.WebAPIURL() + "EntityDefinitions(" + url.PathEscape(key) + ")?" + entitySelect
	var d entityDefinition
	if err := c.get(ctx, u, token, &d); err != nil {
		return nil, err
	}
	if d.LogicalName == "" {
		return nil, fmt.Errorf("GET %s: the answer has no LogicalName; check that url names a Dynamics 365 org", u)
	}
	e := d.entity()
	return &e, nil
}

// RecordsQuery selects rows of one entity set.
type RecordsQuery struct {
	EntitySet string   // such as "accounts" (an Entity's EntitySetName)
	Top       int      // how many rows at most; <= 0 reads the first page only
	Select    []string // columns; nil for all of them
	Filter    string   // an OData $filter expression, such as "name eq 'Contoso'"; "" for none
}

// Records is a page (or several) of rows.
type Records struct {
	// Columns are the selected columns in the order given, or, without a
	// selection, the sorted column names of the first row.
	Columns []string
	// Rows hold each row's columns as JSON decoded them, with numbers as
	// json.Number so they print as the org sent them. The @odata.*
	// annotations (etags) are removed: they describe transport, not data.
	Rows []map[string]any
}

// Records reads rows of an entity set, following @odata.nextLink until Top
// rows are collected or the server has no more. A non-2xx answer (an unknown
// entity set or column, a filter the org rejects) is an *APIError.
func (c *Client) Records(ctx context.Context, org Org, token string, q RecordsQuery) (*Records, error) {
	if !isODataName(q.EntitySet) {
		return nil, fmt.Errorf("entity set %q is not a Web API entity set name (letters, digits and _ only), such as accounts", q.EntitySet)
	}
	var params []string
	if q.Top > 0 {
		params = append(params, "$top="+strconv.Itoa(q.Top))
	}
	if len(q.Select) > 0 {
		for _, s := range q.Select {
			if !isODataName(s) {
				return nil, fmt.Errorf("column %q is not a Web API column name (letters, digits and _ only), such as name", s)
			}
		}
		params = append(params, "$select="+strings.Join(q.Select, ","))
	}
	if q.Filter != "" {
		params = append(params, "$filter="+queryEscape(q.Filter))
	}
	u := org.WebAPIURL() + q.EntitySet
	if len(params) > 0 {
		u += "?" + strings.Join(params, "&")
	}
	recs := &Records{Columns: slices.Clone(q.Select)}
	err := c.pages(ctx, org, token, u, max(q.Top, 0), func(raw json.RawMessage) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil || row == nil {
			return fmt.Errorf("a row of %s is not a JSON object", q.EntitySet)
		}
		for k := range row {
			if strings.HasPrefix(k, "@odata.") {
				delete(row, k)
			}
		}
		recs.Rows = append(recs.Rows, cleanValue(row).(map[string]any))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if q.Top > 0 && len(recs.Rows) > q.Top {
		recs.Rows = recs.Rows[:q.Top]
	}
	if len(q.Select) == 0 && len(recs.Rows) > 0 {
		for k := range recs.Rows[0] {
			// Annotations such as name@OData.Community.Display.V1.FormattedValue
			// belong to a column; they are not columns of their own.
			if !strings.Contains(k, "@") {
				recs.Columns = append(recs.Columns, k)
			}
		}
		sort.Strings(recs.Columns)
	}
	return recs, nil
}

// allPages makes pages follow every next link.
const allPages = -1

// pages GETs a collection and hands each item of "value" to each, following
// @odata.nextLink until top items were seen (0: the first page only;
// allPages: every page) or there is no next page.
func (c *Client) pages(ctx context.Context, org Org, token, u string, top int, each func(json.RawMessage) error) error {
	seen := 0
	visited := map[string]bool{}
	for {
		var page struct {
			Value    *[]json.RawMessage `json:"value"`
			NextLink string             `json:"@odata.nextLink"`
		}
		if err := c.get(ctx, u, token, &page); err != nil {
			return err
		}
		if page.Value == nil {
			return fmt.Errorf("GET %s: the answer has no \"value\" collection; check that url names a Dynamics 365 org", u)
		}
		for _, raw := range *page.Value {
			if err := each(raw); err != nil {
				return fmt.Errorf("GET %s: %w", u, err)
			}
		}
		seen += len(*page.Value)
		if page.NextLink == "" || top == 0 || (top > 0 && seen >= top) {
			return nil
		}
		// A next link elsewhere would receive the token: only follow links
		// into this org's Web API. An empty or repeated page would loop.
		if !sameWebAPI(org, page.NextLink) {
			return fmt.Errorf("GET %s: the next page link points outside %s; not following it with the access token", u, org.WebAPIURL())
		}
		if len(*page.Value) == 0 || visited[page.NextLink] {
			return fmt.Errorf("GET %s: the org sent a next page link without progress; stopping after %d rows", u, seen)
		}
		visited[page.NextLink] = true
		u = page.NextLink
	}
}

// sameWebAPI reports whether link lies below the org's Web API root,
// comparing scheme and host without regard to case.
func sameWebAPI(org Org, link string) bool {
	l, err := url.Parse(link)
	if err != nil || l.User != nil {
		return false
	}
	root := strings.ToLower(l.Scheme) + "://" + strings.ToLower(l.Host)
	return root == org.Root && strings.HasPrefix(strings.ToLower(l.Path), strings.ToLower(WebAPIPath))
}

// isODataName reports whether s is a plain OData identifier, which is all
// entity set and column names are.
func isODataName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// queryEscape escapes a query value with %20 for spaces: in an OData URL a
// '+' is not reliably read as a space.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Nearest returns up to n of candidates closest to name, closest first, for
// "did you mean" messages. Case is ignored; a candidate containing name
// ("acc" in "account") counts as close. Candidates more than two edits
// away, or a third of name's length for a long name, are left out: a
// suggestion that shares little with what the user typed only confuses.
func Nearest(name string, candidates []string, n int) []string {
	if n <= 0 {
		return nil
	}
	type scored struct {
		name string
		dist int
	}
	lname := strings.ToLower(name)
	var all []scored
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] {
			continue
		}
		seen[c] = true
		lc := strings.ToLower(c)
		d := editDistance(lname, lc)
		if lname != "" && lname != lc && strings.Contains(lc, lname) {
			d = min(d, 1)
		}
		if d > max(2, len([]rune(lname))/3) {
			continue
		}
		all = append(all, scored{c, d})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].dist != all[j].dist {
			return all[i].dist < all[j].dist
		}
		return all[i].name < all[j].name
	})
	var out []string
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// cleanValue escapes the control characters of every string in a row (keys
// included) as it comes from the org: rows are printed, and a value must not
// be able to drive the terminal. Line breaks and tabs of a text column stay.
func cleanValue(v any) any {
	switch v := v.(type) {
	case string:
		return safetext.Text(v, maxCell)
	case []any:
		for i := range v {
			v[i] = cleanValue(v[i])
		}
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[safetext.Line(k, safetext.FieldMax)] = cleanValue(x)
		}
		return out
	}
	return v
}

// maxCell bounds one value of a row; a Dataverse text column holds at most
// 1,048,576 characters, more than anyone reads in a preview.
const maxCell = 64 << 10
