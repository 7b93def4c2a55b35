package store

// GroupCommits reports how many group transactions ran and how many writes they held.
func GroupCommits(s *Store) (groups, writes int) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.groups, s.group.writes
}
