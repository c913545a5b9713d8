package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// claims is a JWT payload. Numbers decode as float64.
type claims map[string]any

func (c claims) str(name string) string {
	s, _ := c[name].(string)
	return s
}

func (c claims) unix(name string) int64 {
	f, _ := c[name].(float64)
	return int64(f)
}

var jwtHeader = b64([]byte(`{"alg":"HS256","typ":"JWT"}`))

// sign makes a compact JWT. HMAC suffices: only the emulator verifies its
// tokens; clients treat them as opaque, as they must with Entra's.
func (e *Emulator) sign(c claims) string {
	payload, _ := json.Marshal(c)
	unsigned := jwtHeader + "." + b64(payload)
	return unsigned + "." + b64(e.mac(unsigned))
}

func (e *Emulator) mac(s string) []byte {
	m := hmac.New(sha256.New, e.signKey)
	m.Write([]byte(s))
	return m.Sum(nil)
}

var errBadToken = errors.New("the token is malformed or its signature is not valid")

// verify checks a JWT's signature and returns its claims; expiry and
// audience are the caller's business.
func (e *Emulator) verify(token string) (claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != jwtHeader {
		return nil, errBadToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, e.mac(parts[0]+"."+parts[1])) {
		return nil, errBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errBadToken
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errBadToken
	}
	return c, nil
}
