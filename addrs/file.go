package addrs

import "strings"

// LibraryKey is the name of an instance's library entry, as the data-sync
// tool lists it: the block name, and for a for_each instance its key after
// a dash (crm-dev).
func (i Instance) LibraryKey() string {
	if i.Key == "" {
		return i.Name
	}
	return i.Name + "-" + i.Key
}

// FileStem makes a library key safe as a file name on every system:
// characters other than [A-Za-z0-9._-] become '_', and so does a leading
// dot, which would hide the file. Different keys can give one stem (see
// FileIdentity).
func FileStem(key string) string {
	var out strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok || (i == 0 && c == '.') {
			c = '_'
		}
		out.WriteByte(c)
	}
	if out.Len() == 0 {
		out.WriteByte('_')
	}
	return out.String()
}

// FileIdentity is what two instances' entry files have in common when they
// would be one file: the stem, case folded, since the file systems of
// Windows and macOS do not tell crm-Dev from crm-dev.
func (i Instance) FileIdentity() string {
	return strings.ToLower(FileStem(i.LibraryKey()))
}
