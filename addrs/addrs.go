package addrs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// ResourceType is the kind of block an address names.
type ResourceType string

// Connection is the only resource type so far; the application, its
// secret and the application user come next (see the package doc).
const Connection ResourceType = "connection"

// Types is the registry of resource types: the only ones an address may
// start with, so the only ones a state file, a plan file or a -target may
// name. Adding a resource type starts here; see the package doc for the
// rest.
var Types = []ResourceType{Connection}

// Known reports whether t is a registered resource type.
func Known(t ResourceType) bool { return slices.Contains(Types, t) }

// Resource names a resource block: connection.crm.
type Resource struct {
	Type ResourceType
	Name string
}

func (r Resource) String() string { return string(r.Type) + "." + r.Name }

// Instance names one instance of a resource block. Key is the for_each key,
// "" for a block without for_each (config refuses an empty key, so the two
// cannot be confused).
type Instance struct {
	Resource
	Key string
}

// NewConnection returns the address of a connection instance.
func NewConnection(name, key string) Instance {
	return Instance{Resource: Resource{Type: Connection, Name: name}, Key: key}
}

// String prints the address the one way state, plans and messages write it:
// connection.crm, or connection.crm["dev"] with the key quoted.
func (i Instance) String() string {
	if i.Key == "" {
		return i.Resource.String()
	}
	return i.Resource.String() + "[" + strconv.Quote(i.Key) + "]"
}

// Target is what a person names on the command line: one instance, or a
// whole block (every instance of it).
type Target struct {
	Instance
	// All is set when no key was given: the target is the block, and
	// selects every one of its instances.
	All bool
}

// Spellings is what an address may look like, for error messages.
const Spellings = `connection.NAME, NAME, connection.NAME["KEY"], NAME["KEY"] or NAME[KEY]`

// Matches reports whether the target selects the instance.
func (t Target) Matches(i Instance) bool {
	if t.All {
		return t.Resource == i.Resource
	}
	return t.Instance == i
}

func (t Target) String() string {
	if t.All {
		return t.Resource.String()
	}
	return t.Instance.String()
}

// ParseTarget reads what a person typed for a resource: connection.crm,
// crm, connection.crm["dev"], crm["dev"], or crm[dev] as a shell leaves it
// when the quotes were not escaped. The resource type may be left out; it
// defaults to connection. A name alone selects every instance.
func ParseTarget(s string) (Target, error) {
	raw := s
	s = strings.TrimSpace(s)
	typ := Connection
	for _, t := range Types {
		if rest, ok := strings.CutPrefix(s, string(t)+"."); ok {
			typ, s = t, rest
			break
		}
	}
	name, key, hasKey := s, "", false
	if open := strings.IndexByte(s, '['); open >= 0 {
		if !strings.HasSuffix(s, "]") {
			return Target{}, invalid(raw, "a [ without its closing ]")
		}
		name, key, hasKey = s[:open], s[open+1:len(s)-1], true
		var err error
		if key, err = parseKey(key); err != nil {
			return Target{}, invalid(raw, err.Error())
		}
	}
	if name == "" {
		return Target{}, invalid(raw, "no name")
	}
	if !ValidName(name) {
		if dot := strings.IndexByte(name, '.'); dot >= 0 && !Known(ResourceType(name[:dot])) {
			return Target{}, invalid(raw, fmt.Sprintf("%q is not a resource type (%s)", name[:dot], typeList()))
		}
		return Target{}, invalid(raw, fmt.Sprintf("%q is not a block name", name))
	}
	return Target{Instance: Instance{Resource: Resource{Type: typ, Name: name}, Key: key}, All: !hasKey}, nil
}

// ValidName reports whether s is an HCL identifier, as
// hclsyntax.ValidIdentifier does: a letter or '_', then letters, digits,
// '_' and '-'. That function runs hcl's scanner over s, several
// allocations per call, and a configuration of 10,000 blocks checks
// 10,000 names; ASCII names, nearly all of them, are decided here byte by
// byte, and hcl decides the others.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return hclsyntax.ValidIdentifier(s)
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9' || c == '-') && i > 0:
		default:
			// No non-ASCII byte may follow that would make s valid:
			// an ASCII byte outside the identifier set ends one.
			return false
		}
	}
	return true
}

// ParseInstance reads one instance's address; a name without a key is the
// instance of a block without for_each.
func ParseInstance(s string) (Instance, error) {
	t, err := ParseTarget(s)
	return t.Instance, err
}

// ParseWritten reads an address the way state and plan files hold it, and
// only that way: a registered resource type, and the key quoted, exactly
// as Instance.String writes it. Any other spelling in such a file means it
// was edited or damaged, so it is refused rather than read generously.
func ParseWritten(s string) (Instance, error) {
	inst, err := ParseInstance(s)
	if err != nil {
		return Instance{}, err
	}
	if !Known(inst.Type) || inst.String() != s {
		return Instance{}, fmt.Errorf("%q is not written as connform writes addresses (%s)", s, inst)
	}
	return inst, nil
}

// parseKey reads a key between brackets: "dev" (quoted as in HCL or Go), or
// dev bare, as a shell leaves it.
func parseKey(k string) (string, error) {
	k = strings.TrimSpace(k)
	if strings.HasPrefix(k, `"`) {
		q, err := strconv.Unquote(k)
		if err != nil {
			return "", fmt.Errorf("the key %s is not a complete quoted string", k)
		}
		k = q
	} else if strings.ContainsAny(k, `"[]`) {
		return "", fmt.Errorf("the key %s holds a quote or bracket; quote it whole", k)
	}
	if k == "" {
		return "", fmt.Errorf("an empty key")
	}
	return k, nil
}

func invalid(raw, why string) error {
	return fmt.Errorf("invalid address %q (%s): write %s", raw, why, Spellings)
}

func typeList() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// Selects reports whether the resource at addr is chosen by targets: no
// targets choose everything. An address that does not parse (a state file
// edited by hand) is chosen only when nothing is targeted.
func Selects(targets []Target, addr string) bool {
	if len(targets) == 0 {
		return true
	}
	inst, err := ParseInstance(addr)
	if err != nil {
		return false
	}
	for _, t := range targets {
		if t.Matches(inst) {
			return true
		}
	}
	return false
}
