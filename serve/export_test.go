package serve

// HoldSlots takes every computing slot of s, as long predictions would,
// and returns the function that frees them.
func HoldSlots(s *Server) (release func()) { return hold(s.slot) }

// HoldBatch counts a batch as computing in s, as a batch that could
// still take requests would (it takes one slot and enters the gate), and
// returns the function that ends it.
func HoldBatch(s *Server) (release func()) {
	s.slot <- struct{}{}
	if ok, _ := s.gate.try(make(chan struct{})); !ok {
		panic("HoldBatch: the gate is full")
	}
	return s.batchDone
}

// hold fills the semaphore ch and returns the function that empties it.
func hold(ch chan struct{}) (release func()) {
	for range cap(ch) {
		ch <- struct{}{}
	}
	return func() {
		for range cap(ch) {
			<-ch
		}
	}
}
