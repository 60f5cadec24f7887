package capacity

import (
	"github.com/mqbench/mqbench/internal/driver"
	"github.com/mqbench/mqbench/internal/kind"
)

// loadOf is the load of the kind of worker named name, as the driver
// registers it.
func loadOf(name string) *kind.Load {
	for _, k := range driver.Kinds() {
		if k.Name == name {
			return k.Load
		}
	}
	panic("no kind " + name)
}

// withKinds is cfg with the driver's kinds of worker, as the command
// passes them.
func withKinds(cfg Config) Config {
	cfg.Kinds = driver.Kinds()
	return cfg
}
