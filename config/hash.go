package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// hash digests every input of the configuration: the files, the resolved
// variable values, and what env() and file() read while evaluating. That
// is all evaluation depends on, so one digest of the inputs serves instead
// of a digest of every evaluated connection (10,000 of them in a large
// estate). Sensitive values enter only as their own digests; so does
// everything env() and file() read, which may be a secret.
func (l *loader) hash() string {
	h := sha256.New()
	var n [8]byte
	field := func(parts ...string) {
		for _, p := range parts {
			// Length-prefixed, so that no two different inputs collide.
			binary.BigEndian.PutUint64(n[:], uint64(len(p)))
			h.Write(n[:])
			io.WriteString(h, p)
		}
	}
	files := append(append([]string{}, l.configNames...), l.varFiles...)
	for _, name := range files {
		if f, ok := l.cfg.Files[name]; ok {
			field("file", name)
			// As field writes it, without copying megabytes into a string.
			binary.BigEndian.PutUint64(n[:], uint64(len(f.Bytes)))
			h.Write(n[:])
			h.Write(f.Bytes)
		}
	}
	names := make([]string, 0, len(l.cfg.Variables))
	for name := range l.cfg.Variables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := l.cfg.Variables[name]
		text := "unset"
		if v.value != cty.NilVal && v.value.IsWhollyKnown() {
			b, err := ctyjson.Marshal(v.value, cty.DynamicPseudoType)
			if err == nil {
				text = string(b)
			}
		}
		if v.Sensitive {
			text = secretDigest(text)
		}
		field("var", name, typeexpr.TypeString(v.typ), text)
	}
	for _, r := range l.reads.sorted() {
		field("read", r)
	}
	s := l.cfg.Settings
	field("settings", s.StatePath, s.LibraryPath, s.LibraryFormat, s.LibraryDataType)
	writeMap(field, s.LibraryParameterNames)
	return hex.EncodeToString(h.Sum(nil))
}

// inputReads records what env() and file() returned, each as the function,
// its argument and a digest of the value.
type inputReads struct {
	mu    sync.Mutex
	seen  map[string]bool
	calls map[inputCall]bool
}

// inputCall is one function and its argument: env and a variable's name,
// or file and a path.
type inputCall struct {
	Fn  string `json:"fn"`
	Arg string `json:"arg"`
}

func (r *inputReads) add(fn, arg, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen, r.calls = map[string]bool{}, map[inputCall]bool{}
	}
	r.seen[readText(fn, arg, value)] = true
	r.calls[inputCall{fn, arg}] = true
}

func readText(fn, arg, value string) string {
	return fn + "(" + strconv.Quote(arg) + ")=" + secretDigest(value)
}

func (r *inputReads) sorted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.seen))
}

// recordReads wraps env and file so that what they read is recorded.
func recordReads(funcs map[string]function.Function) (map[string]function.Function, *inputReads) {
	r := &inputReads{}
	for _, name := range []string{"env", "file"} {
		orig := funcs[name]
		funcs[name] = function.New(&function.Spec{
			Description: orig.Description(),
			Params:      orig.Params(),
			Type:        function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				v, err := orig.Call(args)
				if err == nil && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
					r.add(name, args[0].AsString(), v.AsString())
				}
				return v, err
			},
		})
	}
	return funcs, r
}

func writeMap(field func(...string), m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field(k, m[k])
	}
}

func secretDigest(s string) string {
	var d hash.Hash = sha256.New()
	d.Write([]byte("connform sensitive value\x00" + s))
	return hex.EncodeToString(d.Sum(nil))
}
