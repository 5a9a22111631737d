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

// SignatureCacheOffHeap reports the bytes the signature cache holds
// outside the Go heap, which runtime.MemStats does not count.
func (s *Service) SignatureCacheOffHeap() int {
	if s.checked == nil {
		return 0
	}
	return s.checked.OffHeapBytes()
}
