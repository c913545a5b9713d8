package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sort"

	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// hash digests every input of the configuration. The evaluated connections
// and settings are included as well, so that what env() and file() read
// counts too. Sensitive values enter only as their own digests.
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
			field("file", name, string(f.Bytes))
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
	s := l.cfg.Settings
	field("settings", s.StatePath, s.LibraryPath, s.LibraryFormat, s.LibraryDataType)
	writeMap(field, s.LibraryParameterNames)
	for _, c := range l.cfg.Connections {
		field("connection", c.Addr, fmt.Sprint(c.PreventDestroy))
		writeMap(field, c.Attributes())
		for k, v := range c.Sensitive() {
			field(k, secretDigest(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
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
