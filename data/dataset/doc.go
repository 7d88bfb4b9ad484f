// Package dataset holds small real datasets embedded in the binary and
// readers for two standard sequence datasets kept on disk.
//
// # Embedded series
//
// [AirPassengers] (144 months) and [SunspotsYearly] (289 years) are public
// domain series shipped with R; their license notes sit beside the files
// (airpassengers/SOURCE.md, sunspots/SOURCE.md). They need no file, so
// `recur train` with no argument has data to train on:
//
//	f, err := dataset.AirPassengers()
//	pr, err := series.Prepare(f, series.PrepareConfig{Window: series.WindowConfig{Lookback: 12}})
//
// # MNIST
//
// [ReadIDX] reads the IDX files of MNIST, gzipped or raw. [LoadMNIST]
// pairs an image file with its label file and gives row-by-row sequences:
// each 28×28 image is 28 time steps of 28 inputs, float32 in [0, 1].
//
// # JSB chorales
//
// [ReadJSB] reads the JSON piano rolls of the JSB chorales (train, valid
// and test splits; each chorale a list of time steps, each a list of
// MIDI pitches) and [PianoRoll] turns a chorale into (T, 88) binary frames
// for notes 21 to 108.
//
// Readers return errors naming the file and the place of the problem
// (byte offset, or split, chorale and step); they never panic on bad
// input.
package dataset
