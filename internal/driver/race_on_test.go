//go:build race

package driver

// raceEnabled: the scale tests measure rates and memory, which the race
// detector distorts; scripts/test.sh runs them in a separate pass without it.
const raceEnabled = true
