package emulator

import (
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// Sample data of the emulated orgs. Every value derives from the org's name
// through a hash, never from a random source or a math/rand sequence whose
// output could change between Go releases: org1 holds the same accounts in
// every run, so CLI golden files stay stable, and org2 holds different ones,
// so a test can tell the orgs apart.

// entityMeta is one entity of the metadata, with the columns its rows have.
type entityMeta struct {
	logicalName, setName, displayName, collectionName string
	primaryID, primaryName                            string
	objectTypeCode                                    int
	// columns are the row columns a client may select or filter on, the
	// primary id first.
	columns []string
}

// sampleEntities are the entities every org has, sorted by logical name.
var sampleEntities = []*entityMeta{
	{"account", "accounts", "Account", "Accounts", "accountid", "name", 1,
		[]string{"accountid", "name", "accountnumber", "telephone1", "address1_city", "revenue", "statecode"}},
	{"businessunit", "businessunits", "Business Unit", "Business Units", "businessunitid", "name", 10,
		[]string{"businessunitid", "name"}},
	{"contact", "contacts", "Contact", "Contacts", "contactid", "fullname", 2,
		[]string{"contactid", "fullname", "firstname", "lastname", "emailaddress1", "jobtitle", "_parentcustomerid_value"}},
	{"lead", "leads", "Lead", "Leads", "leadid", "fullname", 4,
		[]string{"leadid", "subject", "fullname", "companyname", "emailaddress1"}},
	{"opportunity", "opportunities", "Opportunity", "Opportunities", "opportunityid", "name", 3,
		[]string{"opportunityid", "name", "estimatedvalue", "closeprobability", "_parentaccountid_value"}},
	{"systemuser", "systemusers", "User", "Users", "systemuserid", "fullname", 8,
		[]string{"systemuserid", "fullname", "internalemailaddress", "isdisabled"}},
}

func entityByLogicalName(name string) *entityMeta {
	for _, m := range sampleEntities {
		// Dataverse matches metadata keys without regard to case
		// (unconfirmed; its SQL collation is case-insensitive).
		if strings.EqualFold(m.logicalName, name) {
			return m
		}
	}
	return nil
}

func entityBySetName(set string) *entityMeta {
	for _, m := range sampleEntities {
		if m.setName == set {
			return m
		}
	}
	return nil
}

// dataNamespace seeds the ids of sample rows and metadata.
var dataNamespace = uuid.MustParse("5f0c6d8e-2b0a-4c55-9d1e-6a1c0f7d2e11")

// metadataID is an entity's MetadataId: system entities have the same one
// in every org.
func (m *entityMeta) metadataID() string {
	return uuid.NewSHA1(dataNamespace, []byte("entity/"+m.logicalName)).String()
}

// row is one sample record; its etag version is fixed at generation.
type row struct {
	version int
	values  map[string]any
}

// orgRows are an org's sample rows per entity set, in a fixed order.
type orgRows map[string][]row

var (
	rowsMu    sync.Mutex
	rowsByOrg = map[string]orgRows{}
)

// rowsFor returns the sample rows of org, built once per org name and
// never modified. The business unit is the org's own, so that its id
// matches WhoAmI's BusinessUnitId.
func rowsFor(o *org, set string) []row {
	if set == "businessunits" {
		return []row{{version: 1000, values: map[string]any{"businessunitid": o.businessUnitID.String(), "name": o.Name}}}
	}
	rowsMu.Lock()
	defer rowsMu.Unlock()
	r, ok := rowsByOrg[o.Name]
	if !ok {
		r = generateRows(o.Name)
		rowsByOrg[o.Name] = r
	}
	return r[set]
}

// pick returns a number in [0, n) that depends only on the parts.
func pick(n int, parts ...any) int {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%v", p)
	}
	return int(h.Sum64() % uint64(n))
}

func rowID(orgName, set string, i int) string {
	return uuid.NewSHA1(dataNamespace, []byte(fmt.Sprintf("%s/%s/%d", orgName, set, i))).String()
}

// Company names come from Microsoft's fictitious companies; some hold an
// apostrophe or an ampersand on purpose, to exercise quoting in filters and
// URLs.
var (
	companies = []string{
		"A. Datum Corporation", "Adventure Works", "Alpine Ski House", "Bellows College",
		"Blue Yonder Airlines", "City Power & Light", "Coho Winery", "Consolidated Messenger",
		"Contoso Pharmaceuticals", "Fabrikam Residences", "First Up Consultants", "Fourth Coffee",
		"Graphic Design Institute", "Humongous Insurance", "Litware Inc.", "Lucerne Publishing",
		"Margie's Travel", "Munson's Pickles and Preserves", "Nod Publishers", "Northwind Traders",
		"Proseware Inc.", "Relecloud", "School of Fine Art", "Southridge Video",
		"Tailspin Toys", "Trey Research", "VanArsdel Ltd.", "Wide World Importers",
		"Wingtip Toys", "Woodgrove Bank",
	}
	cities     = []string{"Redmond", "Seattle", "London", "Paris", "Berlin", "Zurich", "Sydney", "Tokyo", "Toronto", "Cape Town", "Dubai", "Mumbai"}
	firstNames = []string{"Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Harper", "Jordan", "Kai", "Logan", "Morgan", "Quinn", "Riley", "Sage", "Taylor"}
	lastNames  = []string{"Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor"}
	jobTitles  = []string{"Purchasing Manager", "CFO", "Sales Director", "IT Administrator", "Operations Lead", "Buyer"}
	subjects   = []string{"Interested in the annual plan", "Trade show contact", "Website enquiry", "Referral from a partner", "Renewal question", "Asked for a demo"}
)

// Row counts per org: more accounts than two default pages, so that
// paging is exercised.
const (
	sampleAccounts      = 27
	sampleContacts      = 12
	sampleLeads         = 6
	sampleOpportunities = 8
	sampleUsers         = 4
)

func emailDomain(company string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(company) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String() + ".example"
}

func generateRows(orgName string) orgRows {
	rows := orgRows{}
	version := func(set string, i int) int { return 1_000_000 + pick(9_000_000, orgName, set, i, "version") }

	// Accounts take the company names in an order of the org's own.
	start := pick(len(companies), orgName, "companies")
	accountNames := make([]string, sampleAccounts)
	for i := range accountNames {
		accountNames[i] = companies[(start+i*7)%len(companies)]
	}
	for i, name := range accountNames {
		v := map[string]any{
			"accountid":     rowID(orgName, "accounts", i),
			"name":          name,
			"accountnumber": fmt.Sprintf("ACC-%05d", 10000+pick(90000, orgName, "accountnumber", i)),
			"address1_city": cities[pick(len(cities), orgName, "city", i)],
			"revenue":       float64(10_000 * (1 + pick(500, orgName, "revenue", i))),
			"statecode":     0,
			// 555-01xx numbers are reserved for fiction.
			"telephone1": fmt.Sprintf("+1 425 555 %04d", 100+pick(100, orgName, "phone", i)),
		}
		// Some accounts lack a phone or revenue, as real data does: clients
		// must cope with null columns.
		if i%5 == 3 {
			v["telephone1"] = nil
		}
		if i%7 == 5 {
			v["revenue"] = nil
		}
		if i%9 == 8 {
			v["statecode"] = 1
		}
		rows["accounts"] = append(rows["accounts"], row{version("accounts", i), v})
	}
	for i := range sampleContacts {
		first := firstNames[pick(len(firstNames), orgName, "first", i)]
		last := lastNames[pick(len(lastNames), orgName, "last", i)]
		acct := pick(sampleAccounts, orgName, "parent", i)
		v := map[string]any{
			"contactid":               rowID(orgName, "contacts", i),
			"firstname":               first,
			"lastname":                last,
			"fullname":                first + " " + last,
			"emailaddress1":           strings.ToLower(first+"."+last) + "@" + emailDomain(accountNames[acct]),
			"jobtitle":                jobTitles[pick(len(jobTitles), orgName, "job", i)],
			"_parentcustomerid_value": rowID(orgName, "accounts", acct),
		}
		rows["contacts"] = append(rows["contacts"], row{version("contacts", i), v})
	}
	for i := range sampleLeads {
		first := firstNames[pick(len(firstNames), orgName, "leadfirst", i)]
		last := lastNames[pick(len(lastNames), orgName, "leadlast", i)]
		company := companies[pick(len(companies), orgName, "leadcompany", i)]
		v := map[string]any{
			"leadid":        rowID(orgName, "leads", i),
			"subject":       subjects[pick(len(subjects), orgName, "subject", i)],
			"fullname":      first + " " + last,
			"companyname":   company,
			"emailaddress1": strings.ToLower(first) + "@" + emailDomain(company),
		}
		rows["leads"] = append(rows["leads"], row{version("leads", i), v})
	}
	for i := range sampleOpportunities {
		acct := pick(sampleAccounts, orgName, "oppaccount", i)
		v := map[string]any{
			"opportunityid":          rowID(orgName, "opportunities", i),
			"name":                   fmt.Sprintf("%d licences for %s", 5*(1+pick(40, orgName, "licences", i)), accountNames[acct]),
			"estimatedvalue":         float64(1_000 * (1 + pick(250, orgName, "value", i))),
			"closeprobability":       10 * pick(11, orgName, "probability", i),
			"_parentaccountid_value": rowID(orgName, "accounts", acct),
		}
		rows["opportunities"] = append(rows["opportunities"], row{version("opportunities", i), v})
	}
	for i := range sampleUsers {
		first := firstNames[pick(len(firstNames), orgName, "userfirst", i)]
		last := lastNames[pick(len(lastNames), orgName, "userlast", i)]
		v := map[string]any{
			"systemuserid":         rowID(orgName, "systemusers", i),
			"fullname":             first + " " + last,
			"internalemailaddress": strings.ToLower(first+"."+last) + "@" + tenantDomain,
			"isdisabled":           i == sampleUsers-1,
		}
		rows["systemusers"] = append(rows["systemusers"], row{version("systemusers", i), v})
	}
	return rows
}
