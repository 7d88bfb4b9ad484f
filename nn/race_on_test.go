//go:build race

package nn_test

// raceEnabled: the race detector is on (its runtime allocates).
const raceEnabled = true
