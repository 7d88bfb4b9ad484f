//go:build race

package kernel

// raceEnabled reports a -race build, whose runtime allocates in places a
// normal build does not.
const raceEnabled = true
