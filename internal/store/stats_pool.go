package store

import "database/sql"

// PoolStat is the state of one connection pool, for metrics.
type PoolStat struct {
	Name  string // "main" on PostgreSQL; "write" and "read" on SQLite
	Stats sql.DBStats
}

// PoolStats reports the connection pools of the store. It does not touch the database.
func (s *Store) PoolStats() []PoolStat {
	if s.read == s.write {
		return []PoolStat{{Name: "main", Stats: s.write.Stats()}}
	}
	return []PoolStat{{Name: "write", Stats: s.write.Stats()}, {Name: "read", Stats: s.read.Stats()}}
}
