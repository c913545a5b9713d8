package library

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Formats of an entry file.
const (
	FormatDSConn = "dsconn"
	FormatJSON   = "json"
)

// Entry is one connection in the library.
type Entry struct {
	// Key is the connection name and the file name stem; for a for_each
	// instance the caller passes something like "sales-dev".
	Key         string
	Description string
	DataType    string
	Params      []Param // in the order they are written
}

// Param is one named value of an entry.
type Param struct{ Name, Value string }

// Lookup returns the value of the first parameter called name.
func (e Entry) Lookup(name string) (string, bool) {
	for _, p := range e.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

func checkFormat(format string) error {
	switch format {
	case FormatDSConn, FormatJSON:
		return nil
	}
	return fmt.Errorf("unknown library format %q: use %q or %q", format, FormatDSConn, FormatJSON)
}

// Encode renders an entry in format. The same entry always gives the same
// bytes, so their hash can detect later edits.
func Encode(e Entry, format string) ([]byte, error) {
	if err := checkFormat(format); err != nil {
		return nil, err
	}
	if format == FormatJSON {
		return encodeJSON(e)
	}
	return encodeXML(e)
}

// Decode parses an entry file's content in format.
func Decode(data []byte, format string) (Entry, error) {
	if err := checkFormat(format); err != nil {
		return Entry{}, err
	}
	if format == FormatJSON {
		return decodeJSON(data)
	}
	return decodeXML(data)
}

const xmlHeader = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// encodeXML writes the markup by hand rather than through xml.Marshal, which
// cannot write the self-closing <Parameter .../> elements the tool's files use.
func encodeXML(e Entry) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString("<Connection")
	for _, a := range []struct{ name, value string }{{"Key", e.Key}, {"Description", e.Description}, {"DataType", e.DataType}} {
		if err := writeAttr(&b, a.name, a.value); err != nil {
			return nil, err
		}
	}
	b.WriteString(">\n")
	for _, p := range e.Params {
		b.WriteString("  <Parameter")
		if err := writeAttr(&b, "Name", p.Name); err != nil {
			return nil, err
		}
		if err := writeAttr(&b, "Value", p.Value); err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
		b.WriteString(" />\n")
	}
	b.WriteString("</Connection>\n")
	return b.Bytes(), nil
}

func writeAttr(b *bytes.Buffer, name, value string) error {
	// xml.EscapeText would quietly turn a character XML cannot hold into
	// U+FFFD; refusing is better than writing a value that reads back
	// different.
	if !utf8.ValidString(value) {
		return fmt.Errorf("%s value is not valid UTF-8", name)
	}
	for i, r := range value {
		if !isXMLChar(r) {
			return fmt.Errorf("%s value has a character XML cannot hold (%U at byte %d); remove it or use the json library format", name, r, i)
		}
	}
	b.WriteString(" " + name + `="`)
	// EscapeText escapes quotes and also tabs and newlines, which an XML
	// parser would otherwise normalise to spaces inside an attribute.
	_ = xml.EscapeText(b, []byte(value)) // a bytes.Buffer does not fail
	b.WriteString(`"`)
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

type xmlConnection struct {
	XMLName     xml.Name       `xml:"Connection"`
	Key         string         `xml:"Key,attr"`
	Description string         `xml:"Description,attr"`
	DataType    string         `xml:"DataType,attr"`
	Params      []xmlParameter `xml:"Parameter"`
}

type xmlParameter struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:"Value,attr"`
}

func decodeXML(data []byte) (Entry, error) {
	data, utf16Input, err := toUTF8(data)
	if err != nil {
		return Entry{}, err
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		// Windows tools may save UTF-16 with a matching declaration; toUTF8
		// has already converted such input.
		if utf16Input && strings.EqualFold(label, "utf-16") {
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q; save the file as UTF-8", label)
	}
	var c xmlConnection
	if err := d.Decode(&c); err != nil {
		return Entry{}, fmt.Errorf("not a connection library entry (<Connection Key=...>): %w", err)
	}
	e := Entry{Key: c.Key, Description: c.Description, DataType: c.DataType}
	for _, p := range c.Params {
		e.Params = append(e.Params, Param{Name: p.Name, Value: p.Value})
	}
	return e, nil
}

// toUTF8 strips a UTF-8 byte order mark and converts UTF-16 input that starts
// with one, and says whether it converted.
func toUTF8(data []byte) ([]byte, bool, error) {
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		return data[3:], false, nil
	}
	var big bool
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		big = true
	default:
		return data, false, nil
	}
	data = data[2:]
	if len(data)%2 != 0 {
		return nil, false, fmt.Errorf("UTF-16 content has an odd number of bytes; the file is truncated")
	}
	u := make([]uint16, len(data)/2)
	for i := range u {
		lo, hi := data[2*i], data[2*i+1]
		if big {
			lo, hi = hi, lo
		}
		u[i] = uint16(lo) | uint16(hi)<<8
	}
	return []byte(string(utf16.Decode(u))), true, nil
}

type jsonEntry struct {
	Key         string      `json:"key"`
	Description string      `json:"description"`
	DataType    string      `json:"data_type"`
	Params      []jsonParam `json:"parameters"`
}

type jsonParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func encodeJSON(e Entry) ([]byte, error) {
	j := jsonEntry{Key: e.Key, Description: e.Description, DataType: e.DataType, Params: []jsonParam{}}
	// The encoder would quietly turn invalid UTF-8 into U+FFFD.
	for _, s := range []string{e.Key, e.Description, e.DataType} {
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("entry %q: key, description or data type is not valid UTF-8", e.Key)
		}
	}
	for _, p := range e.Params {
		if !utf8.ValidString(p.Value) || !utf8.ValidString(p.Name) {
			return nil, fmt.Errorf("parameter %q is not valid UTF-8", p.Name)
		}
		j.Params = append(j.Params, jsonParam{Name: p.Name, Value: p.Value})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// URLs are full of & and the file is read by people: keep them as is.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeJSON(data []byte) (Entry, error) {
	data, _, err := toUTF8(data)
	if err != nil {
		return Entry{}, err
	}
	var j jsonEntry
	if err := json.Unmarshal(data, &j); err != nil {
		return Entry{}, fmt.Errorf("not a connection library entry ({\"key\", \"parameters\"}): %w", err)
	}
	e := Entry{Key: j.Key, Description: j.Description, DataType: j.DataType}
	for _, p := range j.Params {
		e.Params = append(e.Params, Param{Name: p.Name, Value: p.Value})
	}
	return e, nil
}
