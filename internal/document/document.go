// Package document owns the saved documents mqbench re-renders — a run's
// result, a sweep, a capacity search, a capacity sweep — and the one table
// that says what each output format gives for each kind of document, or
// why it refuses it and what to use instead (table.go, compare.go). The
// report and compare commands only parse their flags, load the files and
// hand them here.
//
// Adding a kind or a format means adding its constant before the count
// (numKinds, numFormats) and filling its row or column of both tables; a
// test walks every cell and fails on an empty one.
package document

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/sweep"
)

// Kind is what a saved document is, told apart by its schema.
type Kind int

// The kinds of document. numKinds counts them: a kind added before it is
// walked by Kinds and so by the tests of every table.
const (
	KindResult Kind = iota
	KindSweep
	KindCapacity
	KindCapacitySweep
	numKinds
)

// Kinds returns every kind of document, in the order of the tables.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// kindSpec names a kind and reads it.
type kindSpec struct {
	name   string // as messages and the docs say it
	schema string
	load   func(file string) (*Doc, error)
}

// kindSpecs is every kind's name, schema and loader.
func kindSpecs() [numKinds]kindSpec {
	return [numKinds]kindSpec{
		KindResult: {"result", result.Schema, func(file string) (*Doc, error) {
			r, err := result.Load(file)
			return &Doc{File: file, Result: r}, err
		}},
		KindSweep: {"sweep", sweep.Schema, func(file string) (*Doc, error) {
			s, err := sweep.Load(file)
			return &Doc{File: file, Sweep: s}, err
		}},
		KindCapacity: {"capacity search", capacity.Schema, func(file string) (*Doc, error) {
			var d capacity.Doc
			err := result.LoadDoc(file, capacity.Schema, &d, func() string { return d.Schema })
			return &Doc{File: file, Capacity: &d}, err
		}},
		KindCapacitySweep: {"capacity sweep", capacity.SweepSchema, func(file string) (*Doc, error) {
			var d capacity.SweepDoc
			if err := result.LoadDoc(file, capacity.SweepSchema, &d, func() string { return d.Schema }); err != nil {
				return nil, err
			}
			for i, v := range d.Variants {
				if v.Search == nil { // every renderer reads each variant's search
					return nil, fmt.Errorf("%s: variant %d has no capacity search", file, i+1)
				}
			}
			return &Doc{File: file, CapacitySweep: &d}, nil
		}},
	}
}

// String is the kind's name: result, sweep, capacity search, capacity
// sweep.
func (k Kind) String() string {
	if k < 0 || k >= numKinds || kindSpecs()[k].name == "" {
		return fmt.Sprintf("kind %d", int(k))
	}
	return kindSpecs()[k].name
}

// Schema is the schema that marks a document of the kind.
func (k Kind) Schema() string {
	if k < 0 || k >= numKinds {
		return ""
	}
	return kindSpecs()[k].schema
}

// Doc is one loaded document and the file it came from: exactly one of
// its documents is set.
type Doc struct {
	File          string
	Result        *result.Result
	Sweep         *sweep.Doc
	Capacity      *capacity.Doc
	CapacitySweep *capacity.SweepDoc
}

// Kind is the kind of the document that is set.
func (d *Doc) Kind() Kind {
	switch {
	case d.Sweep != nil:
		return KindSweep
	case d.Capacity != nil:
		return KindCapacity
	case d.CapacitySweep != nil:
		return KindCapacitySweep
	}
	return KindResult
}

// Load reads a saved document, telling its kind by its schema. Errors
// name the file; every one is the user's to fix (a missing file, not
// JSON, an unknown schema).
func Load(file string) (*Doc, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: not a JSON document: %v", file, err)
	}
	var schemas []string
	for _, s := range kindSpecs() {
		if s.schema == head.Schema {
			return s.load(file)
		}
		schemas = append(schemas, s.schema)
	}
	return nil, fmt.Errorf("%s: schema %q is none of %s", file, head.Schema, strings.Join(schemas, ", "))
}

// Side is the document as compare sees it: one variant per result or
// capacity search, one per variant of a sweep or capacity sweep.
func (d *Doc) Side() compare.Side {
	switch d.Kind() {
	case KindSweep:
		return compare.FromSweep(d.File, d.Sweep)
	case KindCapacity:
		return compare.FromCapacity(d.File, nil, d.Capacity)
	case KindCapacitySweep:
		s := compare.Side{File: d.File}
		for _, v := range d.CapacitySweep.Variants {
			s.Variants = append(s.Variants, compare.FromCapacity(d.File, v.Params, v.Search).Variants...)
		}
		return s
	}
	return compare.FromResult(d.File, d.Result)
}

// IsCapacity says whether the document is a capacity search or a sweep of
// them: compare pairs capacities only with capacities.
func (d *Doc) IsCapacity() bool {
	k := d.Kind()
	return k == KindCapacity || k == KindCapacitySweep
}
