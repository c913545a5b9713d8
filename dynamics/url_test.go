package dynamics

import (
	"slices"
	"strings"
	"testing"
)

// suffixes are every org host suffix in REFERENCE.md with its cloud.
var suffixes = []struct {
	suffix string
	cloud  Cloud
}{
	{"crm.dynamics.com", CloudPublic}, // North America
	{"crm2.dynamics.com", CloudPublic},
	{"crm3.dynamics.com", CloudPublic},
	{"crm4.dynamics.com", CloudPublic},
	{"crm5.dynamics.com", CloudPublic},
	{"crm6.dynamics.com", CloudPublic},
	{"crm7.dynamics.com", CloudPublic},
	{"crm8.dynamics.com", CloudPublic},
	{"crm9.dynamics.com", CloudPublic}, // GCC: public authority (unconfirmed)
	{"crm11.dynamics.com", CloudPublic},
	{"crm12.dynamics.com", CloudPublic},
	{"crm14.dynamics.com", CloudPublic},
	{"crm15.dynamics.com", CloudPublic},
	{"crm16.dynamics.com", CloudPublic},
	{"crm17.dynamics.com", CloudPublic},
	{"crm.microsoftdynamics.us", CloudUSGov},
	{"crm.appsplatform.us", CloudDoD},
	{"crm.dynamics.cn", CloudChina},
}

// pastedForms turn an org root into what a user may paste.
var pastedForms = []struct {
	name string
	form func(root string) string
}{
	{"root", func(r string) string { return r }},
	{"trailing slash", func(r string) string { return r + "/" }},
	{"surrounding space", func(r string) string { return "  " + r + "/\n" }},
	{"organization service", func(r string) string { return r + "/XRMServices/2011/Organization.svc" }},
	{"organization service, trailing slash", func(r string) string { return r + "/XRMServices/2011/Organization.svc/" }},
	{"organization service /web", func(r string) string { return r + "/XRMServices/2011/Organization.svc/web" }},
	{"web api v9.2", func(r string) string { return r + "/api/data/v9.2/" }},
	{"web api v9.1 without slash", func(r string) string { return r + "/api/data/v9.1" }},
	{"web api without version", func(r string) string { return r + "/api/data" }},
	{"mixed case", func(r string) string {
		return strings.Replace(strings.ToUpper(r), "HTTPS://", "https://", 1) + "/xrmservices/2011/ORGANIZATION.SVC/Web"
	}},
	{"upper-case scheme", func(r string) string { return "HTTPS" + strings.TrimPrefix(r, "https") }},
	{"default port", func(r string) string { return r + ":443/api/data/v9.2/" }},
	{"api host of Developer resources", func(r string) string {
		return strings.Replace(r, "contoso.", "contoso.api.", 1) + "/api/data/v9.2"
	}},
	// What the browser's address bar shows while the app is open.
	{"browser list view", func(r string) string { return r + "/main.aspx?appid=1234&pagetype=entitylist&etn=account" }},
	{"browser record with fragment", func(r string) string {
		return r + "/main.aspx?appid=1234&pagetype=entityrecord&etn=account&id=5678#section"
	}},
	{"browser main.aspx alone", func(r string) string { return r + "/main.aspx" }},
	{"browser main.aspx, mixed case and default port", func(r string) string { return r + ":443/Main.aspx?forceUCI=1" }},
	{"app URL suffix", func(r string) string { return r + "/apps/sales" }},
	{"app URL suffix page", func(r string) string { return r + "/Apps/SalesHub/main.aspx?pagetype=dashboard#top" }},
	{"bare host", func(r string) string { return strings.TrimPrefix(r, "https://") }},
	{"bare host, upper case, trailing slash", func(r string) string { return strings.ToUpper(strings.TrimPrefix(r, "https://")) + "/" }},
	{"bare host with default port and Web API root", func(r string) string {
		return strings.TrimPrefix(r, "https://") + ":443/api/data/v9.2/"
	}},
	{"bare host browser page", func(r string) string {
		return " " + strings.TrimPrefix(r, "https://") + "/main.aspx?appid=1234&pagetype=entitylist"
	}},
	{"bare api host", func(r string) string {
		return strings.Replace(strings.TrimPrefix(r, "https://"), "contoso.", "contoso.api.", 1)
	}},
}

func TestParseOrgURLEveryRegionAndForm(t *testing.T) {
	for _, s := range suffixes {
		root := "https://contoso." + s.suffix
		for _, f := range pastedForms {
			t.Run(s.suffix+"/"+f.name, func(t *testing.T) {
				in := f.form(root)
				org, err := ParseOrgURL(in)
				if err != nil {
					t.Fatalf("ParseOrgURL(%q): %v", in, err)
				}
				if org.Root != root || org.Cloud != s.cloud {
					t.Errorf("ParseOrgURL(%q) = %+v, want root %s in cloud %s", in, org, root, s.cloud)
				}
			})
		}
	}
}

func TestParseOrgURLLoopback(t *testing.T) {
	for _, tc := range []struct{ in, root string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/api/data/v9.2/", "http://127.0.0.1:8080"},
		{"http://LOCALHOST:9/XRMServices/2011/Organization.svc/web", "http://localhost:9"},
		{"https://[::1]:8443/", "https://[::1]:8443"},
		// Only the scheme's own default port goes.
		{"http://localhost:80/", "http://localhost"},
		{"https://127.0.0.1:443", "https://127.0.0.1"},
		{"https://[::1]:443/api/data/v9.2", "https://[::1]"},
		{"http://127.0.0.1:443", "http://127.0.0.1:443"},
		{"https://127.0.0.1:80", "https://127.0.0.1:80"},
	} {
		org, err := ParseOrgURL(tc.in)
		if err != nil || org.Root != tc.root || org.Cloud != CloudLocal {
			t.Errorf("ParseOrgURL(%q) = %+v, %v; want %s in the local cloud", tc.in, org, err, tc.root)
		}
	}
}

func TestParseOrgURLErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		inErr    string // in the message
	}{
		{"empty", "  ", "empty"},
		{"not a URL", "contoso", "not a URL"},
		// Only a known org host is taken to mean https.
		{"bare unknown host", "crm.contoso.com", "not a URL"},
		{"bare lookalike host", "contoso.crm4.dynamics.com.evil.example/main.aspx?appid=1", "not a URL"},
		{"bare region without org", "crm4.dynamics.com", "not a URL"},
		{"http to a real org", "http://contoso.crm4.dynamics.com", "must use https"},
		{"another scheme", "ftp://contoso.crm4.dynamics.com", "must use https"},
		{"unknown host", "https://contoso.example.com", "not a Dynamics 365 org host"},
		{"lookalike host", "https://contoso.crm4.dynamics.com.evil.example", "not a Dynamics 365 org host"},
		{"region without org", "https://crm4.dynamics.com", "not a Dynamics 365 org host"},
		{"api without org", "https://api.crm4.dynamics.com", "not a Dynamics 365 org host"},
		{"not a crm region", "https://contoso.operations.dynamics.com", "not a Dynamics 365 org host"},
		{"region with letters", "https://contoso.crmx.dynamics.com", "not a Dynamics 365 org host"},
		{"bare suffix", "https://dynamics.com", "not a Dynamics 365 org host"},
		{"query", "https://contoso.crm4.dynamics.com/?appid=1", "query"},
		{"fragment", "https://contoso.crm4.dynamics.com/#main", "fragment"},
		{"credentials", "https://alex:hunter2@contoso.crm4.dynamics.com", "credentials"},
		{"query on the Web API", "https://contoso.crm4.dynamics.com/api/data/v9.2/?$top=1", "query"},
		{"fragment on the Organization Service", "https://contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc#x", "fragment"},
		{"another page", "https://contoso.crm4.dynamics.com/default.aspx?appid=1", "query"},
		{"another page without a query", "https://contoso.crm4.dynamics.com/tools/admin.aspx", "unexpected path"},
		{"below main.aspx", "https://contoso.crm4.dynamics.com/main.aspx/x", "unexpected path"},
		{"apps without a name", "https://contoso.crm4.dynamics.com/apps/", "unexpected path"},
		{"apps lookalike", "https://contoso.crm4.dynamics.com/appsales/x", "unexpected path"},
		{"bare host with credentials", "alex:hunter2@contoso.crm4.dynamics.com/main.aspx", "credentials"},
		{"not a URL with credentials", "alex:hunter2@crm.contoso.com", "not a URL"},
		{"an entity set", "https://contoso.crm4.dynamics.com/api/data/v9.2/accounts", "unexpected path"},
		{"bad version", "https://contoso.crm4.dynamics.com/api/data/vnext", "unexpected path"},
		{"empty version", "https://contoso.crm4.dynamics.com/api/data/v", "unexpected path"},
		{"discovery service", "https://contoso.crm4.dynamics.com/XRMServices/2011/Discovery.svc", "unexpected path"},
		{"below /web", "https://contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc/web/x", "unexpected path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org, err := ParseOrgURL(tc.in)
			if err == nil {
				t.Fatalf("ParseOrgURL(%q) = %+v, want an error", tc.in, org)
			}
			if !strings.Contains(err.Error(), tc.inErr) {
				t.Errorf("error %q, want it to contain %q", err, tc.inErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestParseOrgURLInCloud(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		cloud    Cloud
		root     string
		want     Cloud
	}{
		{"custom host", "https://crm.contoso.com", CloudPublic, "https://crm.contoso.com", CloudPublic},
		{"custom host drops the default port", "https://CRM.Contoso.com:443/XRMServices/2011/Organization.svc", CloudPublic, "https://crm.contoso.com", CloudPublic},
		{"custom host keeps another port", "https://crm.contoso.com:8443/api/data/v9.2/", CloudUSGov, "https://crm.contoso.com:8443", CloudUSGov},
		{"named cloud wins over the host's", "https://contoso.crm9.dynamics.com:443/", CloudUSGov, "https://contoso.crm9.dynamics.com", CloudUSGov},
		{"api host still loses its api label", "https://contoso.api.crm4.dynamics.com", CloudChina, "https://contoso.crm4.dynamics.com", CloudChina},
		{"loopback takes the named cloud", "http://127.0.0.1:8080", CloudPublic, "http://127.0.0.1:8080", CloudPublic},
		{"no cloud is ParseOrgURL", "https://contoso.crm4.dynamics.com:443", "", "https://contoso.crm4.dynamics.com", CloudPublic},
		{"custom host browser page", "https://crm.contoso.com/main.aspx?appid=1234#x", CloudPublic, "https://crm.contoso.com", CloudPublic},
		{"bare known host in a named cloud", "contoso.crm9.dynamics.com/apps/sales", CloudUSGov, "https://contoso.crm9.dynamics.com", CloudUSGov},
		{"loopback browser page", "http://127.0.0.1:8080/main.aspx?pagetype=entitylist", CloudLocal, "http://127.0.0.1:8080", CloudLocal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org, err := ParseOrgURLInCloud(tc.in, tc.cloud)
			if err != nil || org.Root != tc.root || org.Cloud != tc.want {
				t.Errorf("ParseOrgURLInCloud(%q, %q) = %+v, %v; want %s in %s", tc.in, tc.cloud, org, err, tc.root, tc.want)
			}
			if got := org.DelegatedScopes()[0]; got != tc.root+"/user_impersonation" {
				t.Errorf("delegated scope %s, want it on %s", got, tc.root)
			}
		})
	}
	// A named cloud admits any host, but not any URL.
	for _, tc := range []struct{ name, in, inErr string }{
		{"http to a custom host", "http://crm.contoso.com", "must use https"},
		{"custom host with another page", "https://crm.contoso.com/default.aspx", "unexpected path"},
		{"bare custom host", "crm.contoso.com", "not a URL"},
		{"custom host with a query", "https://crm.contoso.com/?x=1", "query"},
		{"custom host with credentials", "https://alex:hunter2@crm.contoso.com", "credentials"},
		{"no host", "https://:443/", "not a URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org, err := ParseOrgURLInCloud(tc.in, CloudPublic)
			if err == nil || !strings.Contains(err.Error(), tc.inErr) {
				t.Errorf("ParseOrgURLInCloud(%q) = %+v, %v; want an error about %q", tc.in, org, err, tc.inErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestOrgEndpointsAndScopes(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		orgService, webAPI string
		delegated, app     []string
		authority          string
	}{
		{
			"https://Contoso.CRM4.dynamics.com/api/data/v9.2/",
			"https://contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc",
			"https://contoso.crm4.dynamics.com/api/data/v9.2/",
			[]string{"https://contoso.crm4.dynamics.com/user_impersonation", "offline_access"},
			[]string{"https://contoso.crm4.dynamics.com/.default"},
			"login.microsoftonline.com",
		},
		{
			"https://fin.crm.microsoftdynamics.us/XRMServices/2011/Organization.svc/web",
			"https://fin.crm.microsoftdynamics.us/XRMServices/2011/Organization.svc",
			"https://fin.crm.microsoftdynamics.us/api/data/v9.2/",
			[]string{"https://fin.crm.microsoftdynamics.us/user_impersonation", "offline_access"},
			[]string{"https://fin.crm.microsoftdynamics.us/.default"},
			"login.microsoftonline.us",
		},
		{
			"https://ops.crm.appsplatform.us",
			"https://ops.crm.appsplatform.us/XRMServices/2011/Organization.svc",
			"https://ops.crm.appsplatform.us/api/data/v9.2/",
			[]string{"https://ops.crm.appsplatform.us/user_impersonation", "offline_access"},
			[]string{"https://ops.crm.appsplatform.us/.default"},
			"login.microsoftonline.us",
		},
		{
			"https://cn.crm.dynamics.cn/",
			"https://cn.crm.dynamics.cn/XRMServices/2011/Organization.svc",
			"https://cn.crm.dynamics.cn/api/data/v9.2/",
			[]string{"https://cn.crm.dynamics.cn/user_impersonation", "offline_access"},
			[]string{"https://cn.crm.dynamics.cn/.default"},
			"login.chinacloudapi.cn",
		},
		{
			"http://127.0.0.1:5555/api/data/v9.2",
			"http://127.0.0.1:5555/XRMServices/2011/Organization.svc",
			"http://127.0.0.1:5555/api/data/v9.2/",
			[]string{"http://127.0.0.1:5555/user_impersonation", "offline_access"},
			[]string{"http://127.0.0.1:5555/.default"},
			"",
		},
	} {
		t.Run(tc.in, func(t *testing.T) {
			org, err := ParseOrgURL(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := org.OrganizationServiceURL(); got != tc.orgService {
				t.Errorf("OrganizationServiceURL = %s, want %s", got, tc.orgService)
			}
			if got := org.WebAPIURL(); got != tc.webAPI {
				t.Errorf("WebAPIURL = %s, want %s", got, tc.webAPI)
			}
			if got := org.DelegatedScopes(); !slices.Equal(got, tc.delegated) {
				t.Errorf("DelegatedScopes = %v, want %v", got, tc.delegated)
			}
			if got := org.AppScopes(); !slices.Equal(got, tc.app) {
				t.Errorf("AppScopes = %v, want %v", got, tc.app)
			}
			if got := AuthorityHost(org.Cloud); got != tc.authority {
				t.Errorf("AuthorityHost(%s) = %q, want %q", org.Cloud, got, tc.authority)
			}
		})
	}
}

func TestParseCloud(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Cloud
	}{
		{"public", CloudPublic},
		{"AzureCloud", CloudPublic},
		{" Public ", CloudPublic},
		{"usgovernment", CloudUSGov},
		{"AzureUSGovernment", CloudUSGov},
		{"dod", CloudDoD},
		{"china", CloudChina},
		{"AzureChinaCloud", CloudChina},
		{"local", CloudLocal},
		{"germany", ""},
		{"", ""},
	} {
		got, err := ParseCloud(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("ParseCloud(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), "public, usgovernment, dod, china") {
			t.Errorf("ParseCloud(%q) error %q does not list the clouds", tc.in, err)
		}
	}
	// Every cloud but the local one signs in somewhere.
	for _, c := range []Cloud{CloudPublic, CloudUSGov, CloudDoD, CloudChina} {
		if AuthorityHost(c) == "" {
			t.Errorf("no authority host for %s", c)
		}
	}
}
