package main

import (
	"flag"
	"fmt"
	"reflect"
	"strings"

	"github.com/mqbench/mqbench/internal/scenario"
)

// runFlag declares one `mqbench run` flag, in the one place it is written:
// the flag set, how it overrides the scenario, which flag a scenario
// problem names, and the flag table in docs/reference/flags.md all come
// from it (runFlags lists them).
type runFlag struct {
	name  string // the long name: a contract scripts and CI rely on
	alias string // a PerfTest-style short name, or ""
	arg   string // the value's placeholder in the flag table (N, D, FILE…); "" for a switch
	// path is the scenario field the flag sets: its YAML path in
	// internal/scenario's types, e.g. "producers.count". queues[0] is the
	// scenario's only queue entry (made when there is none; a scenario
	// with several refuses the flag), queues[*] every entry. It is ""
	// for a flag that sets no scenario file field, and then none says
	// why.
	path, none string
	usage      string
	// own, for a flag whose value is not the field's as it is, makes the
	// flag's own value and says how it reaches the scenario. nil: the flag
	// parses a value of the field's type (a []string field: one element
	// per use of the flag) and stores it at path.
	own func(f *flagSet) flagValue
}

// flagValue is a flag's own value and how it reaches the scenario.
type flagValue struct {
	// ptr is what the flag parses into: *bool, *int, *int64, *float64,
	// *string or a flag.Value, so the flag package's parsers (and their
	// messages) stay those of a plain flag.
	ptr any
	// to, for a flag with a path, turns the parsed value into the field's,
	// given the field's current one.
	to func(cur any) any
	// set, for a flag without a path, applies it to the scenario; nil when
	// the flag only configures the command (its outputs).
	set func(sc *scenario.Scenario) error
	// reports is the path Scenario.Validate reports this flag's problems
	// under, for a flag without a path that set applies (e.g. "shard").
	reports string
}

// converted is a flag of type T whose value reaches its field through
// conv, which also gets the field's current value.
func converted[T any](conv func(v T, cur any) any) func(*flagSet) flagValue {
	return func(*flagSet) flagValue {
		p := new(T)
		return flagValue{ptr: p, to: func(cur any) any { return conv(*p, cur) }}
	}
}

// boundFlag is a declared flag with its value in one flag set.
type boundFlag struct {
	runFlag
	value flagValue
}

// flagSet holds the parsed values of every run flag.
type flagSet struct {
	fs     *flag.FlagSet
	flags  []boundFlag
	out    outputFlags // where progress goes: not part of the scenario
	shards shardFlags  // this process's shard: one scenario file serves every shard
}

// listFlag collects a repeated string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set appends one value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// sweepFlag collects repeated --sweep NAME=V1,V2 arguments.
type sweepFlag []scenario.Param

func (s *sweepFlag) String() string { return fmt.Sprint(len(*s), " parameters") }

func (s *sweepFlag) Set(v string) error {
	p, err := scenario.ParseSweepFlag(v)
	if err != nil {
		return err
	}
	*s = append(*s, p)
	return nil
}

// newFlagSet is the flags of `mqbench run` (sweeps parse theirs too).
func newFlagSet() *flagSet { return newNamedFlagSet("mqbench run") }

// newNamedFlagSet is the run flags under another command's name (its
// usage line says which command it is).
func newNamedFlagSet(name string) *flagSet {
	f := &flagSet{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	yamlNames := newTagNames("yaml")
	for _, d := range runFlags() {
		b, err := d.bind(f, yamlNames)
		if err != nil { // a wrong declaration: TestFlagDeclarations names it
			panic(err)
		}
		f.flags = append(f.flags, b)
	}
	return f
}

// bind makes the flag's value, registers its name and alias in f, and
// checks the declaration against the scenario's type (yamlNames finds its
// fields).
func (d runFlag) bind(f *flagSet, yamlNames *tagNames) (boundFlag, error) {
	b := boundFlag{runFlag: d}
	ft, err := d.fieldType(yamlNames)
	if err != nil {
		return b, fmt.Errorf("flag --%s: %w", d.name, err)
	}
	if d.own != nil {
		b.value = d.own(f)
	} else if ft != nil {
		b.value.ptr = valueOf(ft)
	}
	if err := b.checkValue(ft); err != nil {
		return b, fmt.Errorf("flag --%s: %w", d.name, err)
	}
	for _, n := range []string{d.name, d.alias} {
		if n != "" {
			define(f.fs, n, d.usage, b.value.ptr)
		}
	}
	return b, nil
}

// fieldType checks that the flag names its scenario field or says why it
// has none, and returns the field's type (nil when it has none): the path
// must be one of the scenario type's YAML paths.
func (d runFlag) fieldType(yamlNames *tagNames) (reflect.Type, error) {
	switch {
	case d.path == "" && d.none == "":
		return nil, fmt.Errorf("no scenario path: give the YAML path it sets, or none saying why it sets no field")
	case d.path != "" && d.none != "":
		return nil, fmt.Errorf("both a scenario path (%s) and none (%q)", d.path, d.none)
	case d.path == "" && d.own == nil:
		return nil, fmt.Errorf("no scenario path and no value of its own: it would set nothing")
	case d.path == "":
		return nil, nil
	}
	return yamlNames.pathType(scenarioType(), d.path)
}

// checkValue checks that the flag's value can be parsed and reaches the
// scenario the way its declaration says; ft is its field's type.
func (b boundFlag) checkValue(ft reflect.Type) error {
	o := b.value
	switch o.ptr.(type) {
	case *bool, *int, *int64, *float64, *string, flag.Value:
	default:
		return fmt.Errorf("parses into a %T, which no flag parses", o.ptr)
	}
	if _, isSwitch := o.ptr.(*bool); isSwitch != (b.arg == "") {
		return fmt.Errorf("a switch has no arg placeholder, any other flag has one (arg %q)", b.arg)
	}
	if ft == nil {
		if o.to != nil {
			return fmt.Errorf("converts its value, but has no scenario path to store it at")
		}
		if o.reports != "" {
			_, err := newTagNames("json").pathType(scenarioType(), o.reports)
			return err
		}
		return nil
	}
	if o.set != nil || o.reports != "" {
		return fmt.Errorf("has a scenario path (%s): it is set there and reported under it", b.path)
	}
	if vt := reflect.TypeOf(b.storedValue(reflect.Zero(ft).Interface())); vt == nil || !vt.ConvertibleTo(ft) {
		return fmt.Errorf("its value is a %s, the field at %s a %s", vt, b.path, ft)
	}
	return nil
}

// storedValue is the value the flag stores in a field whose value is cur.
func (b boundFlag) storedValue(cur any) any {
	if b.value.to != nil {
		return b.value.to(cur)
	}
	return reflect.ValueOf(b.value.ptr).Elem().Interface()
}

// define registers one name of a flag with the flag package's own parser
// for its type.
func define(fs *flag.FlagSet, name, usage string, value any) {
	switch p := value.(type) {
	case *bool:
		fs.BoolVar(p, name, false, usage)
	case *int:
		fs.IntVar(p, name, 0, usage)
	case *int64:
		fs.Int64Var(p, name, 0, usage)
	case *float64:
		fs.Float64Var(p, name, 0, usage)
	case *string:
		fs.StringVar(p, name, "", usage)
	case flag.Value:
		fs.Var(p, name, usage)
	}
}

// valueOf is a new value of a field's type t, for the flag to parse into.
func valueOf(t reflect.Type) any {
	if t == reflect.TypeOf([]string(nil)) {
		return new(listFlag)
	}
	return reflect.New(t).Interface()
}

// splitList is a comma-separated list's non-empty elements, trimmed.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parse parses args, which may hold one scenario file anywhere among the
// flags, and returns the file (or "").
func (f *flagSet) parse(args []string) (string, error) {
	var files []string
	for {
		if err := f.fs.Parse(args); err != nil {
			return "", asUsage(err)
		}
		if f.fs.NArg() == 0 {
			break
		}
		files = append(files, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
	if len(files) > 1 {
		return "", usagef("one scenario file at most, got %d: %s", len(files), strings.Join(files, ", "))
	}
	if len(files) == 1 {
		return files[0], nil
	}
	return "", nil
}

// apply overrides sc with the flags the user set — only those: a flag not
// given leaves the file's value alone, whatever its default — and returns
// which field paths they set (path → flag name, for error messages).
func (f *flagSet) apply(sc *scenario.Scenario) (map[string]string, error) {
	byName := map[string]*boundFlag{}
	for i := range f.flags {
		b := &f.flags[i]
		byName[b.name] = b
		if b.alias != "" {
			byName[b.alias] = b
		}
	}
	paths := map[string]string{}
	var err error
	f.fs.Visit(func(fl *flag.Flag) {
		b, ok := byName[fl.Name]
		if !ok || err != nil {
			return
		}
		var set []string
		set, err = b.apply(sc)
		for _, p := range set {
			paths[p] = b.name
		}
	})
	return paths, err
}

// apply sets the flag's value in sc and returns the paths it set.
func (b *boundFlag) apply(sc *scenario.Scenario) ([]string, error) {
	if b.path == "" {
		if b.value.set == nil {
			return nil, nil
		}
		if err := b.value.set(sc); err != nil {
			return nil, err
		}
		if b.value.reports == "" {
			return nil, nil
		}
		return []string{b.value.reports}, nil
	}
	fields, err := fieldsAt(reflect.ValueOf(sc).Elem(), b.path)
	if err != nil {
		return nil, usagef("--%s: %v", b.name, err)
	}
	set := make([]string, 0, len(fields))
	for _, fl := range fields {
		v := reflect.ValueOf(b.storedValue(fl.v.Interface()))
		fl.v.Set(v.Convert(fl.v.Type()))
		set = append(set, fl.path)
	}
	return set, nil
}
