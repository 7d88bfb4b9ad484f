//go:build !race

package optim

// raceEnabled: the race detector is on (its runtime allocates).
const raceEnabled = false
