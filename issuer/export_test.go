package issuer

// SmallCacheLens reports how many user and package pairs and API keys the
// mint path caches, for tests.
func (s *Service) SmallCacheLens() (mintable, clients int) {
	if s.mintCache != nil {
		mintable = s.mintCache.Len()
	}
	if s.clients != nil {
		clients = s.clients.Len()
	}
	return mintable, clients
}
