package serve

// HoldSlots takes every computing slot of s, as long predictions would,
// and returns the function that frees them.
func HoldSlots(s *Server) (release func()) {
	for range cap(s.slot) {
		s.slot <- struct{}{}
	}
	return func() {
		for range cap(s.slot) {
			<-s.slot
		}
	}
}
