// Package store is billd's Postgres store: the embedded, versioned
// migrations of schema billd (applied beside FreeRADIUS 3.2's stock
// schema, radacct in public, in the same database), the monthly time
// partitions of the tables that grow per session, the gateway registry,
// the tariff versions taken from the ISP's RADIUS tables, and the group
// commit of received bills (idempotent by bill identity, synchronous
// commit).
package store
