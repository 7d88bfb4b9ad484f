//go:build !race

package benchrun

// raceEnabled: the race detector is on (its runtime allocates).
const raceEnabled = false
