package state

import (
	"fmt"

	"connform/addrs"
)

// checkAddresses refuses a connection whose address connform could not
// have written: every command keys its work on the address (which library
// file, which token, what plan and -target select), so one that does not
// parse, or names another connection than the record's own name and key,
// means the file was edited or damaged.
func checkAddresses(cs []*Connection) string {
	for _, c := range cs {
		inst, err := addrs.ParseWritten(c.Addr)
		// Records are keyed by the full address, resource type included,
		// and this list holds connections only: a record of another
		// registered type belongs in that type's own list.
		if err != nil || inst.Type != addrs.Connection {
			return fmt.Sprintf("connection %q does not have an address connform writes, such as connection.NAME or connection.NAME[\"KEY\"]", c.Addr)
		}
		if (c.Name != "" && c.Name != inst.Name) || (c.Key != "" && c.Key != inst.Key) {
			return fmt.Sprintf("connection %q has the name %q and key %q, which do not match its address", c.Addr, c.Name, c.Key)
		}
	}
	return ""
}
