package brokertest

import (
	"fmt"
	"strings"
	"testing"
)

// outcome runs f in a subtest with the environment env and reports
// whether it was skipped, and why.
func outcome(t *testing.T, env map[string]string, f func(testing.TB)) (skipped bool, why string) {
	t.Helper()
	t.Run(fmt.Sprint(env), func(t *testing.T) {
		for k, v := range env {
			t.Setenv(k, v)
		}
		defer func() { skipped = t.Skipped() }()
		rec := &skipRecorder{TB: t}
		defer func() { why = rec.why }()
		f(rec)
	})
	return skipped, why
}

// skipRecorder is a testing.TB that remembers why it was skipped.
type skipRecorder struct {
	testing.TB
	why string
}

func (r *skipRecorder) Skipf(format string, args ...any) {
	r.why = fmt.Sprintf(format, args...)
	r.TB.Skipf(format, args...)
}

// failRecorder is a testing.TB whose Fatalf only records (the real one
// would fail the test that expects it).
type failRecorder struct {
	testing.TB
	fatal, skipped bool
}

func (r *failRecorder) Fatalf(string, ...any) { r.fatal = true }
func (r *failRecorder) Skipf(string, ...any)  { r.skipped = true }

// TestSecondPassSkips: in the second broker pass each helper skips with
// its reason; in the first (or any run without the variable) neither
// does, so nothing is skipped where MQBENCH_REQUIRE_BROKER=1 counts it.
func TestSecondPassSkips(t *testing.T) {
	second := map[string]string{SecondBrokerEnv: "1", "MQBENCH_URL": "amqp://guest:guest@127.0.0.1:5673/"}
	first := map[string]string{SecondBrokerEnv: "", "MQBENCH_URL": ""}
	for name, c := range map[string]struct {
		f    func(testing.TB)
		want string
	}{
		"NeedsPrivateNode":  {NeedsPrivateNode, "private nodes"},
		"MeasuresTheClient": {MeasuresTheClient, "mqbench's own rate and memory"},
	} {
		if skipped, why := outcome(t, second, c.f); !skipped || !strings.Contains(why, c.want) || !strings.Contains(why, SecondBrokerEnv) {
			t.Errorf("%s in the second pass: skipped %v (%q), want skipped saying %q and %s", name, skipped, why, c.want, SecondBrokerEnv)
		}
		if skipped, why := outcome(t, first, c.f); skipped {
			t.Errorf("%s in the first pass: skipped (%q)", name, why)
		}
	}
}

// TestStartNodeSkipsInTheSecondPass: a test that starts a node without
// saying it needs one still skips in the second pass, before a node is
// started.
func TestStartNodeSkipsInTheSecondPass(t *testing.T) {
	second := map[string]string{SecondBrokerEnv: "1", "MQBENCH_URL": "amqp://guest:guest@127.0.0.1:5673/"}
	skipped, why := outcome(t, second, func(t testing.TB) { StartNode(t) })
	if !skipped || !strings.Contains(why, "private nodes") {
		t.Errorf("StartNode in the second pass: skipped %v (%q), want skipped for its private node", skipped, why)
	}
}

// TestSecondPassNeedsItsBroker: the second pass without MQBENCH_URL, or
// with a value other than 1, fails rather than skip tests that would then
// run nowhere.
func TestSecondPassNeedsItsBroker(t *testing.T) {
	for _, env := range []map[string]string{
		{SecondBrokerEnv: "1", "MQBENCH_URL": ""},
		{SecondBrokerEnv: "yes", "MQBENCH_URL": "amqp://guest:guest@127.0.0.1:5673/"},
	} {
		t.Run(fmt.Sprint(env), func(t *testing.T) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			rec := &failRecorder{TB: t}
			NeedsPrivateNode(rec)
			if !rec.fatal || rec.skipped {
				t.Errorf("fatal %v, skipped %v: want a failure, not a skip", rec.fatal, rec.skipped)
			}
		})
	}
}
