package serve

// HoldSlots takes every computing slot of s, as long predictions would,
// and returns the function that frees them.
func HoldSlots(s *Server) (release func()) { return hold(s.slot) }

// HoldLanes takes every filling lane of s, as batches still open to
// requests computing would, and returns the function that frees them.
func HoldLanes(s *Server) (release func()) { return hold(s.filling) }

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
